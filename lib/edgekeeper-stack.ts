import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { STEP_NAMES, STEPS } from '../functions/registry';
import { readSettings } from '../functions/shared/settings';
import { type EdgekeeperConfig, stepEnvironment } from './config';
import { StepLambda } from './constructs/step-lambda';
import { Workflows } from './constructs/workflows';

export interface EdgekeeperStackProps extends StackProps {
  readonly config: EdgekeeperConfig;
}

/** The whole of edgekeeper in one stack: the Lambda steps, the workflows that run them, and their event bus. */
export class EdgekeeperStack extends Stack {
  public readonly workflows: Workflows;
  public readonly eventBus: events.EventBus;

  constructor(scope: Construct, id: string, props: EdgekeeperStackProps) {
    super(scope, id, props);
    const { config } = props;
    const environment = stepEnvironment(config);
    const settings = readSettings(environment);

    const functions = Object.fromEntries(
      STEP_NAMES.map((name) => [
        name,
        new StepLambda(this, name, {
          spec: STEPS[name],
          environment,
          architecture: config.lambda.architecture,
          logRetentionDays: config.lambda.logRetentionDays,
          kubeconfigParameterName: config.cluster.kubeconfigParameterName,
          hostTags: { edge: settings.edgeHostTag, cloud: settings.cloudHostTag },
        }).function,
      ]),
    );

    // Edge Node Joined / Join Failed / Removed events go to a bus of their own so consumers can subscribe.
    this.eventBus = new events.EventBus(this, 'Events', { eventBusName: `${this.stackName}-events` });

    this.workflows = new Workflows(this, 'Workflows', {
      functions,
      eventBus: this.eventBus,
      // the steps' own settings, read back as they read them, so the workflows' limits follow the steps' timeouts
      timeouts: settings,
      logRetentionDays: config.lambda.logRetentionDays as logs.RetentionDays,
    });

    for (const [name, machine] of Object.entries(this.workflows.stateMachines)) {
      new CfnOutput(this, `${machine.node.id}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `ARN of the ${name} workflow`,
      });
    }
  }
}
