/**
 * Writes `statemachine/*.asl.json` from the workflow sources in `statemachine/src/`. The JSON files stay committed:
 * CDK deploys them and the local runtime runs them; a test fails when one differs from what this script writes.
 *
 * Usage: `npm run asl` (write) or `... --check` (exit 1 when stale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATEMACHINE_DIR } from '../lib/asl';
import { batchOnboard } from '../statemachine/src/batch-onboard';
import { batchRemove } from '../statemachine/src/batch-remove';
import { driftCheck } from '../statemachine/src/drift-check';
import { onboardNode } from '../statemachine/src/onboard-node';
import { removeNode } from '../statemachine/src/remove-node';
import type { Definition } from '../statemachine/src/states';

/** Every workflow by its file name, `statemachine/<name>.asl.json`. */
export const WORKFLOW_SOURCES: Readonly<Record<string, Definition>> = {
  'onboard-node': onboardNode,
  'remove-node': removeNode,
  'drift-check': driftCheck,
  'batch-onboard': batchOnboard,
  'batch-remove': batchRemove,
};

/** The text of one generated file: two-space JSON with a final newline. */
export function renderAsl(name: string): string {
  const definition = WORKFLOW_SOURCES[name];
  if (!definition) throw new Error(`no workflow source for ${name}`);
  return `${JSON.stringify(definition, null, 2)}\n`;
}

export function aslPath(name: string): string {
  return join(STATEMACHINE_DIR, `${name}.asl.json`);
}

/** Writes (or with `check`, only compares) every generated file; returns the stale ones. */
export function generateAsl(check: boolean): string[] {
  const stale: string[] = [];
  for (const name of Object.keys(WORKFLOW_SOURCES)) {
    const path = aslPath(name);
    const text = renderAsl(name);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    stale.push(path);
    if (!check) writeFileSync(path, text);
  }
  return stale;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const stale = generateAsl(check);
  for (const path of stale) console.log(`${check ? 'stale' : 'wrote'} ${path}`);
  if (check && stale.length) process.exit(1);
}
