#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../lib/config';
import { EdgekeeperStack } from '../lib/edgekeeper-stack';

const app = new App();
new EdgekeeperStack(app, 'Edgekeeper', {
  config: parseConfig(app.node.tryGetContext('edgekeeper')),
  // Environment-agnostic on purpose: no lookups are needed, and the template (and its cdk-nag findings) is the
  // same on every machine; `cdk deploy` picks the account and region of the caller.
  description: 'edgekeeper: KubeEdge edge node lifecycle for KubeSphere clusters',
});
// Every synth is checked; findings fail it unless acknowledged on the construct they concern, with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
