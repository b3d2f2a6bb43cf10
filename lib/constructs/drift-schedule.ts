import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DriftConfig } from '../operations-settings';

/** The workflow the schedule starts (statemachine/drift-check.asl.json). */
export const DRIFT_CHECK_WORKFLOW = 'drift-check';

export interface DriftScheduleProps {
  /** the workflows by name: the schedule starts {@link DRIFT_CHECK_WORKFLOW} */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** settings `drift.schedule`, `drift.remediate` and `drift.scheduleEnabled`, validated by lib/operations-settings.ts */
  readonly drift: DriftConfig;
}

/**
 * An EventBridge Scheduler schedule that starts drift-check with `{ remediate }` at the configured rate. Its role
 * may start that one state machine and write to the schedule's dead-letter queue, nothing else. A start that keeps failing (throttled, the state machine gone) is retried for a quarter of an hour and then
 * lands in the dead-letter queue, whose depth the operator's view alarms on: a drift check that silently stops
 * running would look exactly like a cluster without drift.
 */
export class DriftSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DriftScheduleProps) {
    super(scope, id);
    const stateMachine = props.stateMachines[DRIFT_CHECK_WORKFLOW];
    if (!stateMachine)
      throw new Error(`the drift schedule starts ${DRIFT_CHECK_WORKFLOW}, and no state machine of that name exists`);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'this queue is itself the dead-letter queue of the drift schedule; nothing consumes it',
    });
    // the schedule's own role, so that the grants the target adds (StartExecution on the state machine, SendMessage
    // to the queue) are all it holds; only Scheduler, for this account's default schedule group, may assume it
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler: starts the drift-check workflow',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
    });
    const target = new targets.StepFunctionsStartExecution(stateMachine, {
      role: this.role,
      input: scheduler.ScheduleTargetInput.fromObject({ remediate: props.drift.remediate }),
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 5,
      // a start older than this is dropped to the queue: the next scheduled check is the better retry
      maxEventAge: Duration.minutes(15),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Starts the ${DRIFT_CHECK_WORKFLOW} workflow (remediate: ${props.drift.remediate})`,
      schedule: scheduler.ScheduleExpression.expression(props.drift.schedule),
      target,
      enabled: props.drift.scheduleEnabled,
      timeWindow: scheduler.TimeWindow.off(),
    });
  }
}
