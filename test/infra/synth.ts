import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lib/config';
import { EdgekeeperStack } from '../../lib/edgekeeper-stack';
import { readSharedSynthesis, SHARED_SYNTH_ENV } from './shared-synthesis';

const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/**
 * Builds the stack as `cdk synth` does (same feature flags, same cdk-nag pack) but without bundling, and returns
 * its template as JSON. Throws on any unacknowledged cdk-nag finding (`Template.fromStack` lists them).
 */
export function synthesize(settings: unknown = cdkJson.context.edgekeeper): Record<string, unknown> {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new EdgekeeperStack(app, 'Edgekeeper', { config: parseConfig(settings) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return Template.fromStack(stack).toJSON();
}

/**
 * The stack's template. Without settings: the run's shared synthesis of the cdk.json settings (a synthesis takes
 * seconds, so the infra project does it once; a failed synthesis, cdk-nag findings included, throws here with its
 * message). With settings: a fresh synthesis of those.
 */
export function synthTemplate(settings?: unknown): { template: Template } {
  if (settings !== undefined) return { template: Template.fromJSON(synthesize(settings)) };
  const file = process.env[SHARED_SYNTH_ENV];
  if (!file) return { template: Template.fromJSON(synthesize()) };
  const shared = JSON.parse(readSharedSynthesis(file)) as { template?: Record<string, unknown>; error?: string };
  if (shared.error !== undefined) throw new Error(shared.error);
  return { template: Template.fromJSON(shared.template ?? {}) };
}
