#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../lib/config';
import { EdgekeeperStack } from '../lib/edgekeeper-stack';

const app = new App();
new EdgekeeperStack(app, 'Edgekeeper', {
  config: parseConfig(app.node.tryGetContext('edgekeeper')),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'edgekeeper: KubeEdge edge node lifecycle for KubeSphere clusters',
});
// Every synth is checked; findings fail it unless acknowledged on the construct they concern, with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
