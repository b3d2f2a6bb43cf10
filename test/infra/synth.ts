import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lib/config';
import { EdgekeeperStack } from '../../lib/edgekeeper-stack';

const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/**
 * Builds the stack as `cdk synth` does (same feature flags, same cdk-nag pack) but without bundling, and returns
 * its template. `Template.fromStack` throws on any unacknowledged cdk-nag finding.
 */
export function synthTemplate(settings: unknown = cdkJson.context.edgekeeper): {
  stack: EdgekeeperStack;
  template: Template;
} {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new EdgekeeperStack(app, 'Edgekeeper', { config: parseConfig(settings) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, template: Template.fromStack(stack) };
}
