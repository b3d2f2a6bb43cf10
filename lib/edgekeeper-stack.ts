import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { API_ROUTES } from '../functions/api/routes';
import { STEP_NAMES, STEPS } from '../functions/registry';
import { readSettings } from '../functions/shared/settings';
import { type EdgekeeperConfig, stepEnvironment } from './config';
import { cloudcoreExposure } from './constructs/cloudcore-exposure';
import { CommandEvents, callbackWorkflows } from './constructs/command-events';
import { DriftReportBucket } from './constructs/drift-report-bucket';
import { DriftSchedule } from './constructs/drift-schedule';
import { Inventory } from './constructs/inventory';
import { OperationsView } from './constructs/operations-view';
import { EdgekeeperApi } from './constructs/rest-api';
import { StepLambda } from './constructs/step-lambda';
import { stepNetwork } from './constructs/step-network';
import { Workflows } from './constructs/workflows';

export interface EdgekeeperStackProps extends StackProps {
  readonly config: EdgekeeperConfig;
}

/**
 * The whole of edgekeeper in one stack: the Lambda steps, the workflows that run them, and their event bus; with
 * cluster auth `eks`, the EKS access entries of the steps that use Kubernetes; with `network`, the steps' VPC
 * placement.
 */
export class EdgekeeperStack extends Stack {
  public readonly workflows: Workflows;
  public readonly eventBus: events.EventBus;
  public readonly api: EdgekeeperApi;

  constructor(scope: Construct, id: string, props: EdgekeeperStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stepSettingsEnvironment = stepEnvironment(config);
    const settings = readSettings(stepSettingsEnvironment);
    // with the cloudcore load balancer on (off by default), its DNS name is cloudcore's public address for the steps
    const exposure = cloudcoreExposure(this, config.cloudcoreExposure, settings.cloudcorePorts);
    const environment = { ...stepSettingsEnvironment, ...exposure?.stepEnvironment };
    // parseConfig has checked that auth `eks` comes with the cluster's name (the settings' cross-check)
    const eksClusterName = settings.clusterAuth === 'eks' ? settings.eksClusterName : undefined;
    const network = stepNetwork(this, config.network);
    const placement = network?.placement;
    // where deployed drift checks store their reports (docs/adr/0011-drift-reports.md)
    const driftReports = new DriftReportBucket(this, 'DriftReports', {
      retentionDays: config.drift.reportRetentionDays,
    }).bucket;
    new CfnOutput(this, 'DriftReportBucketName', {
      value: driftReports.bucketName,
      description: 'Bucket of the drift reports: drift-reports/latest.json and drift-reports/<run>/report.json',
    });

    // what every function of the stack shares: the steps, the REST API's and the inventory starter's
    const lambda = {
      environment,
      architecture: config.lambda.architecture,
      logRetentionDays: config.lambda.logRetentionDays,
      kubeconfigParameterName: config.cluster.kubeconfigParameterName,
      eksClusterName,
      placement,
      hostTags: { edge: settings.edgeHostTag, cloud: settings.cloudHostTag },
    };
    // host commands end the workflow's wait through SSM's event, polling kept as the fallback (docs/adr/0017)
    const commandEvents = new CommandEvents(this, 'CommandEvents');
    const stepResources = {
      driftReportBucket: driftReports,
      commandWaitsTable: commandEvents.table,
      callbackWorkflows: callbackWorkflows(),
    };
    const functions = Object.fromEntries(
      STEP_NAMES.map((name) => [
        name,
        new StepLambda(this, name, { spec: STEPS[name], ...lambda, ...stepResources }).function,
      ]),
    );
    commandEvents.resumeWith(functions.ResumeOnCommandEvent);

    // Edge Node Joined / Join Failed / Removed events go to a bus of their own so consumers can subscribe.
    this.eventBus = new events.EventBus(this, 'Events', { eventBusName: `${this.stackName}-events` });

    this.workflows = new Workflows(this, 'Workflows', {
      functions,
      eventBus: this.eventBus,
      // the steps' own settings, read back as they read them, so the workflows' limits follow the steps' timeouts
      timeouts: settings,
      logRetentionDays: config.lambda.logRetentionDays as logs.RetentionDays,
    });

    if (network?.securityGroup) {
      // the group the cluster's security group must let in on 443 (docs/operating.md)
      new CfnOutput(this, 'StepsSecurityGroupId', {
        value: network.securityGroup.securityGroupId,
        description: 'Security group of the step Lambdas: allow TCP 443 from it on the Kubernetes API server',
      });
    }

    for (const [name, machine] of Object.entries(this.workflows.stateMachines)) {
      new CfnOutput(this, `${machine.node.id}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `ARN of the ${name} workflow`,
      });
    }

    // The REST API in front of the workflows; its function reaches the cluster as the steps do (GET /nodes).
    this.api = new EdgekeeperApi(this, 'Api', {
      routes: API_ROUTES,
      stateMachines: this.workflows.stateMachines,
      driftReportBucket: driftReports,
      lambda,
      throttling: { rateLimit: config.api.throttlingRateLimit, burstLimit: config.api.throttlingBurstLimit },
      cloudWatchRole: config.api.cloudWatchRole,
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'URL of the edgekeeper REST API' });

    // Device inventory events (Device Registered / Retired) through a queue to the starter (docs/events.md)
    const inventory = new Inventory(this, 'Inventory', {
      stateMachines: this.workflows.stateMachines,
      lambda,
      settings: {
        eventBusName: settings.inventoryEventBus,
        source: settings.inventorySource,
        batchSize: settings.inventoryBatchSize,
        batchWindowSeconds: settings.inventoryBatchWindow,
        maxReceiveCount: settings.inventoryMaxReceiveCount,
      },
    });
    new CfnOutput(this, 'InventoryDeadLetterQueueUrl', {
      value: inventory.deadLetterQueue.queueUrl,
      description: 'Inventory events that could not start an execution, each with its reason (docs/events.md)',
    });

    // drift-check on a schedule, and the operator's dashboard, alarms and alarm topic (docs/operating.md)
    const { stateMachines } = this.workflows;
    const driftSchedule = new DriftSchedule(this, 'DriftSchedule', { stateMachines, drift: config.drift });
    new OperationsView(this, 'Operations', {
      stateMachines,
      deadLetterQueues: [
        { name: 'drift-schedule', queue: driftSchedule.deadLetterQueue },
        { name: 'inventory-events', queue: inventory.deadLetterQueue },
      ],
      alarms: config.alarms,
    });
  }
}
