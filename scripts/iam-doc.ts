import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderIamTable, withTable } from '../lib/iam-table';
import { synthesize } from '../test/infra/synth';

/**
 * Rewrites the grant table of docs/iam.md from the stack as `cdk synth` builds it (cdk.json settings, no bundling).
 * Run after a change to a step's `uses` or to the stack; review the diff: test/infra/iam.test.ts holds the template
 * to the committed table.
 */
const IAM_DOC = join(__dirname, '..', 'docs', 'iam.md');

const doc = readFileSync(IAM_DOC, 'utf8');
writeFileSync(IAM_DOC, withTable(doc, renderIamTable(synthesize())));
console.log(`wrote ${IAM_DOC}`);
