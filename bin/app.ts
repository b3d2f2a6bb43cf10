#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type EdgekeeperConfig, parseConfig } from '../lib/config';
import { EdgekeeperStack } from '../lib/edgekeeper-stack';

const app = new App();
new EdgekeeperStack(app, 'Edgekeeper', {
  config: configOf(app),
  // Environment-agnostic on purpose: no lookups are needed, and the template (and its cdk-nag findings) is the
  // same on every machine; `cdk deploy` picks the account and region of the caller.
  description: 'edgekeeper: KubeEdge edge node lifecycle for KubeSphere clusters',
});
// Every synth is checked; findings fail it unless acknowledged on the construct they concern, with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/**
 * The `edgekeeper` settings of the CDK context. A mistake is the operator's to fix, and its message names the key,
 * the value and the bounds: print that alone, without a stack trace that would bury it.
 */
function configOf(cdkApp: App): EdgekeeperConfig {
  try {
    return parseConfig(cdkApp.node.tryGetContext('edgekeeper'));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
