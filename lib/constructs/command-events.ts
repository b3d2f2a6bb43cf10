import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { COMMAND_EVENT } from '../../functions/resume-on-command-event/core';
import { RUNNING_STATUSES } from '../../functions/shared/command-waits';
import { type AslFile, listAslFiles } from '../asl';

/** The workflows with a task that waits for its token (`.waitForTaskToken`): the ones a callback may resume. */
export function callbackWorkflows(definitions: readonly AslFile[] = listAslFiles()): string[] {
  return definitions.filter((file) => file.text.includes('.waitForTaskToken')).map((file) => file.name);
}

/**
 * Event-driven completion of host commands (docs/adr/0017-event-driven-host-command.md): the table where
 * AwaitHostCommand stores a workflow's wait and task token, and the rule on the default bus that sends SSM's
 * `EC2 Command Invocation Status-change Notification` of an ended AWS-RunShellScript command to
 * ResumeOnCommandEvent (see {@link CommandEvents.resumeWith}).
 *
 * The table holds task tokens, which are capabilities: encrypted under the account's AWS-managed DynamoDB key,
 * each item expiring (TTL `expiresAt`) minutes after its wait, and deleted by whoever uses it. Nothing in it is
 * worth keeping: no backups, and it goes with the stack.
 */
export class CommandEvents extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Waits', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'the table holds only live waits, each expiring within minutes: a restored copy would bring back used task tokens and nothing of value',
    });
  }

  /**
   * Sends the end of every AWS-RunShellScript invocation to `target`, which finds the wait of its command and host
   * (most are not edgekeeper's and find none). An event older than a minute is dropped: the wait it could end has
   * timed out by then, and the workflow has polled.
   */
  resumeWith(target: lambda.IFunction): events.Rule {
    return new events.Rule(this, 'CommandEnded', {
      description: 'Ends of SSM Run Command invocations, to resume the workflow waiting on them (edgekeeper)',
      eventPattern: {
        source: [COMMAND_EVENT.source],
        detailType: [COMMAND_EVENT.detailType],
        detail: {
          'document-name': ['AWS-RunShellScript'],
          // not an end: without these the target would run at every step of every command
          status: [{ 'anything-but': [...RUNNING_STATUSES] }],
        },
      },
      targets: [new targets.LambdaFunction(target, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });
  }
}
