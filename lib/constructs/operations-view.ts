import { ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { pascalCase } from '../asl';
import type { AlarmsConfig } from '../operations-settings';

/**
 * The steps' own metrics: functions/shared/powertools.ts publishes them (EMF) in this namespace, and StepLambda sets
 * POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME to these; Powertools adds `service` as a dimension of
 * every metric, so each metric below carries it.
 */
export const METRICS_NAMESPACE = 'Edgekeeper';
export const SERVICE_DIMENSION = { service: 'edgekeeper' } as const;
/**
 * The drift check's metrics (functions/drift-report/core.ts `emitDriftMetrics`), one datapoint each per run: the
 * findings of each type (dimension `findingType`, every type, 0 included), and the findings left open after
 * remediation by severity (dimension `severity`: high, medium, low). The alarm reads the open high ones: a finding
 * the run has fixed needs nobody.
 */
export const DRIFT_FINDINGS_METRIC = 'DriftFindings';
export const DRIFT_FINDING_TYPE_DIMENSION = 'findingType';
export const DRIFT_OPEN_FINDINGS_METRIC = 'DriftOpenFindings';
export const DRIFT_SEVERITY_DIMENSION = 'severity';
const SEVERITIES = ['high', 'medium', 'low'] as const;

/** A dead-letter queue the operator must hear about as soon as anything lands in it. */
export interface WatchedQueue {
  /** what the queue catches, kebab-case, for the widget and the alarm (`drift-schedule`, `inventory-events`) */
  readonly name: string;
  readonly queue: sqs.IQueue;
}

export interface OperationsViewProps {
  /** the workflows by name (`onboard-node`, …) */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  readonly deadLetterQueues: readonly WatchedQueue[];
  /** settings `alarms.topicArn` and `alarms.email` */
  readonly alarms: AlarmsConfig;
}

const FIVE_MINUTES = Duration.minutes(5);
/**
 * Drift counts are levels (what one run found), so an hour shows its largest: with the default hourly schedule that
 * is the one run of the hour, and a faster schedule does not add its runs up.
 */
const ONE_HOUR = Duration.hours(1);

/**
 * The operator's view of edgekeeper: one CloudWatch dashboard (each workflow's executions by outcome and their
 * duration, drift findings by type, dead-letter queue depth, the alarms' states) and the alarms that need a person,
 * all sent to one SNS topic (docs/operating.md, "Operator's view", says what to do about each).
 */
export class OperationsView extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly topic: sns.ITopic;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: OperationsViewProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props.alarms);
    const stackName = Stack.of(this).stackName;
    const workflows = Object.entries(props.stateMachines).sort(([a], [b]) => a.localeCompare(b));

    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, alarmProps: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        ...alarmProps,
        alarmName: `${stackName}-${alarmProps.alarmName}`,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // no datapoint means nothing failed, no check found anything, nothing was dead-lettered
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(this.topic));
      alarms.push(created);
      return created;
    };

    const workflowWidgets = workflows.flatMap(([name, machine]) => {
      const failed = machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' });
      const timedOut = machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' });
      alarm(`${pascalCase(name)}FailedAlarm`, {
        alarmName: `${name}-failed`,
        alarmDescription: `An execution of ${name} failed or timed out: read its error in the execution history (docs/operating.md §4 and §6)`,
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
          usingMetrics: { failed, timedOut },
          label: `${name} failed or timed out`,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
      });
      return [
        new cloudwatch.GraphWidget({
          title: `${name}: executions by outcome`,
          width: 12,
          stacked: true,
          left: [
            machine.metricSucceeded({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Succeeded' }),
            machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Failed' }),
            machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum', label: 'TimedOut' }),
            machine.metricAborted({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Aborted' }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration (ms)`,
          width: 12,
          left: [
            machine.metricTime({ period: FIVE_MINUTES, statistic: 'Average', label: 'average' }),
            machine.metricTime({ period: FIVE_MINUTES, statistic: 'p90', label: 'p90' }),
            machine.metricTime({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'maximum' }),
          ],
        }),
      ];
    });

    const openFindings = (severity: (typeof SEVERITIES)[number]) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: DRIFT_OPEN_FINDINGS_METRIC,
        dimensionsMap: { ...SERVICE_DIMENSION, [DRIFT_SEVERITY_DIMENSION]: severity },
        statistic: 'Maximum',
        period: ONE_HOUR,
        label: `open, severity ${severity}`,
      });
    alarm('DriftHighAlarm', {
      alarmName: 'drift-high',
      alarmDescription:
        'A drift check left a finding of severity high open: read the latest drift report and follow its fix (docs/operating.md §3 and §6)',
      metric: openFindings('high'),
      threshold: 1,
    });
    const driftWidget = new cloudwatch.GraphWidget({
      title: 'Drift findings by type (left), open findings by severity (right)',
      width: 24,
      left: [
        new cloudwatch.MathExpression({
          // one line per finding type that has ever been reported: the types are the drift check's, not the stack's
          expression: `SEARCH('{${METRICS_NAMESPACE},${DRIFT_FINDING_TYPE_DIMENSION},service} MetricName="${DRIFT_FINDINGS_METRIC}"', 'Maximum', ${ONE_HOUR.toSeconds()})`,
          label: '',
          period: ONE_HOUR,
        }),
      ],
      right: SEVERITIES.map(openFindings),
    });

    const queueWidgets = props.deadLetterQueues.map(({ name, queue }) => {
      const depth = queue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
        label: `${name} dead letters`,
      });
      alarm(`${pascalCase(name)}DeadLetterAlarm`, {
        alarmName: `${name}-dead-letters`,
        alarmDescription: `Messages wait in the ${name} dead-letter queue: read one to see why it failed (docs/operating.md §6)`,
        metric: depth,
        threshold: 1,
      });
      return new cloudwatch.GraphWidget({ title: `${name}: dead-letter queue depth`, width: 12, left: [depth] });
    });

    this.alarms = alarms;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stackName}-operations`,
      defaultInterval: Duration.days(1),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 })],
        workflowWidgets,
        [driftWidget],
        queueWidgets,
      ],
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic of the edgekeeper alarms',
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboardName,
      description: "CloudWatch dashboard of edgekeeper's workflows, drift findings and dead-letter queues",
    });
  }

  /**
   * The topic of `alarms.topicArn`, or a new one encrypted with a key of its own: CloudWatch cannot publish to a
   * topic under the AWS-managed SNS key. The topic lets this account's alarms publish and refuses unencrypted
   * transport.
   */
  private alarmTopic(config: AlarmsConfig): sns.ITopic {
    let topic: sns.ITopic;
    if (config.topicArn !== undefined) {
      topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', config.topicArn);
    } else {
      const stack = Stack.of(this);
      const fromThisAccountsAlarms = {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      };
      const key = new kms.Key(this, 'AlarmTopicKey', {
        description: 'Encrypts the edgekeeper alarm topic',
        enableKeyRotation: true,
      });
      // the key statement AWS documents for alarms on an encrypted topic; which alarms may publish at all is the
      // topic policy's to say (this account's only, below), so the key needs no condition of its own
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      const created = new sns.Topic(this, 'AlarmTopicResource', {
        displayName: 'edgekeeper alarms',
        masterKey: key,
        enforceSSL: true,
      });
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [created.topicArn],
          conditions: fromThisAccountsAlarms,
        }),
      );
      topic = created;
    }
    if (config.email !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(config.email));
    return topic;
  }
}
