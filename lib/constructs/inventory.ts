import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { STARTER_ENV } from '../../functions/inventory-starter/environment';
import { DETAIL_TYPES } from '../../functions/inventory-starter/event';
import type { StepSpec } from '../../functions/registry';
import { grantOnExecutions } from './execution-grants';
import { StepLambda, type StepLambdaProps } from './step-lambda';
import { stateMachineName } from './workflows';

/** The starter's Lambda: built like a step; it reads nodes (a device already joined is a no-op). */
const STARTER_FUNCTION: StepSpec = {
  entry: 'functions/inventory-starter/handler.ts',
  description: 'Starts onboard-node / remove-node (or a batch of them) from device inventory events on the queue',
  uses: ['kubernetes'],
  timeoutSeconds: 60,
};

/** AWS's advice for a queue a Lambda consumes: a visibility timeout of six times the function's timeout. */
const VISIBILITY_PER_TIMEOUT = 6;

export interface InventoryProps {
  /** every workflow of the stack by name: the starter starts onboard-node, remove-node and the two batch ones */
  readonly stateMachines: Readonly<Record<string, sfn.StateMachine>>;
  /** the starter's settings, cluster access, placement and log retention, as a step's */
  readonly lambda: Omit<StepLambdaProps, 'spec'>;
  readonly settings: {
    /** `default`: the account's default bus */
    readonly eventBusName: string;
    readonly source: string;
    readonly batchSize: number;
    readonly batchWindowSeconds: number;
    readonly maxReceiveCount: number;
  };
}

/**
 * Device inventory events to executions: EventBridge rules on the inventory's bus match `Device Registered` and
 * `Device Retired` from its source and send them to an encrypted SQS queue, which buffers bursts; the starter
 * Lambda reads it in batches and answers with the messages to deliver again (partial batch response). After
 * `maxReceiveCount` deliveries a message moves to the dead-letter queue; an event with bad fields is sent there by
 * the starter at once, with its reason (docs/events.md).
 */
export class Inventory extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: lambda.Function;
  public readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: InventoryProps) {
    super(scope, id);
    const { settings } = props;
    if (settings.batchSize > 10 && settings.batchWindowSeconds === 0) {
      // SQS event sources take more than 10 messages per batch only with a batching window
      throw new Error(
        `edgekeeper.inventory.batchSize ${settings.batchSize} needs edgekeeper.inventory.batchWindowSeconds of at ` +
          'least 1: SQS hands a Lambda more than 10 messages at once only with a batching window',
      );
    }
    const machines = Object.entries(STARTER_ENV.stateMachines).map(([workflow, variable]) => {
      const machine = props.stateMachines[workflow];
      if (!machine)
        throw new Error(`the inventory starter starts ${workflow}, and no state machine of that name exists`);
      return { workflow, variable, machine };
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds((STARTER_FUNCTION.timeoutSeconds ?? 60) * VISIBILITY_PER_TIMEOUT),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });

    this.function = new StepLambda(this, 'Starter', {
      ...props.lambda,
      spec: STARTER_FUNCTION,
      environment: {
        ...props.lambda.environment,
        ...Object.fromEntries(machines.map(({ variable, machine }) => [variable, machine.stateMachineArn])),
        [STARTER_ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      },
    }).function;
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.batchSize,
        ...(settings.batchWindowSeconds > 0 && { maxBatchingWindow: Duration.seconds(settings.batchWindowSeconds) }),
        reportBatchItemFailures: true,
      }),
    );
    // SendMessage alone (grantSendMessages adds GetQueueAttributes and GetQueueUrl, which the starter never calls:
    // its environment gives the URL); the queue is SQS-managed SSE, so no KMS key needs granting
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.deadLetterQueue.queueArn],
    });
    this.grantWorkflows(machines.map(({ workflow, machine }) => ({ machine, name: stateMachineName(this, workflow) })));

    // `default` names the account's default bus, where fleet systems usually publish
    const bus = events.EventBus.fromEventBusName(this, 'Bus', settings.eventBusName);
    this.rules = Object.keys(DETAIL_TYPES).map(
      (detailType) =>
        new events.Rule(this, `${detailType.replace(/\s+/g, '')}Rule`, {
          eventBus: bus,
          description: `edgekeeper: ${detailType} events of the device inventory to the starter's queue`,
          eventPattern: { source: [settings.source], detailType: [detailType] },
          // an event EventBridge cannot deliver lands beside the ones the starter gives up on
          targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
        }),
    );
  }

  /**
   * Start the stack's own workflows and nothing else: StartExecution on their state machines, DescribeExecution on
   * their executions (a redelivered event compares its input with the first start's).
   */
  private grantWorkflows(machines: readonly { machine: sfn.StateMachine; name: string }[]): void {
    const role = this.function.role;
    if (!role) throw new Error('the inventory starter has no role to grant the workflows to');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: machines.map(({ machine }) => machine.stateMachineArn),
      }),
    );
    grantOnExecutions(
      role,
      machines.map(({ name }) => name),
      ['states:DescribeExecution'],
      'an execution is named after an inventory event; the grant only reads the executions of this workflow',
    );
  }
}
