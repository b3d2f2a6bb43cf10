import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SETTINGS_ENV } from '../../functions/shared/settings';
import { listAslFiles } from '../../lib/asl';
import { parseConfig } from '../../lib/config';
import { CloudcoreExposure } from '../../lib/constructs/cloudcore-exposure';
import { DRIFT_CHECK_WORKFLOW } from '../../lib/constructs/drift-schedule';
import { OperationsView } from '../../lib/constructs/operations-view';
import { synthTemplate } from './synth';

/*
 * The schedule, the operator's view and the cloudcore load balancer. The cdk.json settings (the run's shared
 * synthesis) leave them at their defaults; one more synthesis, made here once, turns every option on. The load
 * balancer's instance targets and an extra dead-letter queue are checked on their constructs alone (no Lambda).
 */
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const CIDRS = ['198.51.100.0/24', '203.0.113.0/24'];
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
const ALL_ON = {
  drift: { schedule: 'rate(6 hours)', remediate: true },
  alarms: { topicArn: TOPIC_ARN, email: 'ops@example.com' },
  cloudcoreExposure: {
    enabled: true,
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: SUBNETS,
    allowedCidrs: CIDRS,
    targets: { autoScalingGroupName: 'kubesphere-nodes' },
  },
};
/** listener port → protocol and NodePort: KubeSphere's table (docs/kubeedge.md §2) */
const FORWARDING = [
  { port: 10000, protocol: 'TCP', nodePort: 30000 },
  { port: 10001, protocol: 'UDP', nodePort: 30001 },
  { port: 10002, protocol: 'TCP', nodePort: 30002 },
  { port: 10003, protocol: 'TCP', nodePort: 30003 },
  { port: 10004, protocol: 'TCP', nodePort: 30004 },
];

type Resource = { Properties: Record<string, unknown> };

let variant: Template | undefined;
/** The synthesis of ALL_ON, made on first use; it throws on any unacknowledged cdk-nag finding. */
function allOn(): Template {
  variant ??= synthTemplate(ALL_ON).template;
  return variant;
}
const shared = () => synthTemplate().template;

const resourcesOf = (template: Template, type: string) =>
  Object.entries(template.findResources(type) as Record<string, Resource>);

/** The logical id of the state machine deployed from statemachine/<workflow>.asl.json. */
function machineId(template: Template, workflow: string): string {
  const found = resourcesOf(template, 'AWS::StepFunctions::StateMachine').find(([, machine]) =>
    JSON.stringify(machine.Properties.StateMachineName).includes(`-${workflow}`),
  );
  if (!found) throw new Error(`no state machine for ${workflow}`);
  return found[0];
}

function onlySchedule(template: Template): Record<string, unknown> {
  const schedules = resourcesOf(template, 'AWS::Scheduler::Schedule');
  expect(schedules).toHaveLength(1);
  return schedules[0]?.[1].Properties as Record<string, unknown>;
}

function alarmsBy(template: Template): Map<string, Record<string, unknown>> {
  return new Map(
    resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => [
      alarm.Properties.AlarmName as string,
      alarm.Properties,
    ]),
  );
}

describe('the drift schedule', () => {
  it('starts the drift-check state machine hourly without remediation by default', () => {
    const template = shared();
    const schedule = onlySchedule(template);
    expect(schedule).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: machineId(template, DRIFT_CHECK_WORKFLOW) },
        Input: JSON.stringify({ remediate: false }),
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 900 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^DriftScheduleDeadLetterQueue/), 'Arn'] } },
      },
    });
  });

  it('takes its rate and remediation from the settings', () => {
    expect(onlySchedule(allOn())).toMatchObject({
      ScheduleExpression: 'rate(6 hours)',
      Target: { Input: JSON.stringify({ remediate: true }) },
    });
  });

  it('runs as a role Scheduler alone may assume, that may start drift-check and dead-letter, nothing else', () => {
    const template = shared();
    const target = onlySchedule(template).Target as { RoleArn: { 'Fn::GetAtt': [string, string] } };
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    const role = template.findResources('AWS::IAM::Role')[roleId] as Resource;
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = resourcesOf(template, 'AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: { Ref: machineId(template, DRIFT_CHECK_WORKFLOW) },
      },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DriftScheduleDeadLetterQueue/), 'Arn'] },
      },
    ]);
  });
});

describe("the operator's view", () => {
  const workflows = listAslFiles().map((file) => file.name);

  it('graphs every workflow’s executions by outcome and duration, drift findings by type, and dead letters', () => {
    const template = shared();
    const rows = dashboardMetrics(template);
    for (const workflow of workflows) {
      const machine = `Ref:${machineId(template, workflow)}`;
      for (const metric of [
        'ExecutionsSucceeded',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
        'ExecutionsAborted',
        'ExecutionTime',
      ])
        expect(rows).toContainEqual(['AWS/States', metric, 'StateMachineArn', machine]);
    }
    expect(rows).toContainEqual([
      `SEARCH('{Edgekeeper,findingType,service} MetricName="DriftFindings"', 'Maximum', 3600)`,
    ]);
    for (const severity of ['high', 'medium', 'low'])
      expect(rows).toContainEqual(['Edgekeeper', 'DriftOpenFindings', 'service', 'edgekeeper', 'severity', severity]);
    for (const queue of [
      /^GetAtt:DriftScheduleDeadLetterQueue\w+\.QueueName$/,
      /^GetAtt:InventoryDeadLetters\w+\.QueueName$/,
    ])
      expect(rows).toContainEqual([
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        expect.stringMatching(queue),
      ]);
  });

  it('alarms on each workflow’s failed or timed-out executions, an open high drift finding and dead letters', () => {
    const template = shared();
    const alarms = alarmsBy(template);
    expect([...alarms.keys()].sort()).toEqual(
      [
        ...workflows.map((workflow) => `Edgekeeper-${workflow}-failed`),
        'Edgekeeper-drift-high',
        'Edgekeeper-drift-schedule-dead-letters',
        'Edgekeeper-inventory-events-dead-letters',
      ].sort(),
    );
    for (const workflow of workflows) {
      const metrics = alarms.get(`Edgekeeper-${workflow}-failed`)?.Metrics as { MetricStat?: unknown }[];
      const stats = metrics.flatMap((metric) => (metric.MetricStat ? [metric.MetricStat] : []));
      expect(stats).toEqual(
        ['ExecutionsFailed', 'ExecutionsTimedOut'].map((MetricName) => ({
          Metric: {
            Namespace: 'AWS/States',
            MetricName,
            Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId(template, workflow) } }],
          },
          Period: 300,
          Stat: 'Sum',
        })),
      );
    }
    expect(alarms.get('Edgekeeper-drift-high')).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: [
        {
          MetricStat: {
            Metric: {
              Namespace: 'Edgekeeper',
              MetricName: 'DriftOpenFindings',
              Dimensions: [
                { Name: 'service', Value: 'edgekeeper' },
                { Name: 'severity', Value: 'high' },
              ],
            },
            Stat: 'Maximum',
          },
        },
      ],
    });
    for (const [name, queue] of [
      ['drift-schedule', /^DriftScheduleDeadLetterQueue/],
      ['inventory-events', /^InventoryDeadLetters/],
    ] as const) {
      expect(alarms.get(`Edgekeeper-${name}-dead-letters`)).toMatchObject({
        Threshold: 1,
        Metrics: [
          {
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateNumberOfMessagesVisible',
                Dimensions: [
                  { Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(queue), 'QueueName'] } },
                ],
              },
            },
          },
        ],
      });
    }
  });

  it('sends every alarm to an encrypted topic of its own that CloudWatch may publish to', () => {
    const template = shared();
    const topics = resourcesOf(template, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    const [topicId, topic] = topics[0] as [string, Resource];
    expect(topic.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^OperationsAlarmTopicKey/), 'Arn'],
    });
    for (const alarm of alarmsBy(template).values()) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
  });

  it('uses the topic of alarms.topicArn instead, and subscribes alarms.email to it', () => {
    const template = allOn();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of alarmsBy(template).values()) expect(alarm.AlarmActions).toEqual([TOPIC_ARN]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: TOPIC_ARN,
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('watches every dead-letter queue it is given, each with a widget and an alarm', () => {
    const stack = new Stack(new App());
    const machine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
    });
    const queue = (id: string) => new sqs.Queue(stack, id, { enforceSSL: true });
    new OperationsView(stack, 'Operations', {
      stateMachines: { 'drift-check': machine },
      deadLetterQueues: [
        { name: 'drift-schedule', queue: queue('ScheduleDlq') },
        { name: 'inventory-events', queue: queue('InventoryDlq') },
      ],
      alarms: {},
    });
    const template = Template.fromStack(stack);
    const alarms = alarmsBy(template);
    for (const [name, queueId] of [
      ['drift-schedule', 'ScheduleDlq'],
      ['inventory-events', 'InventoryDlq'],
    ] as const) {
      expect(alarms.get(`${stack.stackName}-${name}-dead-letters`)?.Metrics).toMatchObject([
        {
          MetricStat: {
            Metric: {
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [
                {
                  Name: 'QueueName',
                  Value: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${queueId}`)), 'QueueName'] },
                },
              ],
            },
          },
        },
      ]);
    }
    const body = JSON.stringify(template.toJSON()).match(/inventory-events: dead-letter queue depth/g);
    expect(body).toHaveLength(1);
  });
});

describe('the cloudcore load balancer', () => {
  it('is not built by default', () => {
    shared().resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
  });

  it('listens on cloudcore’s five public ports, 10001 as UDP, and forwards each to its NodePort', () => {
    const template = allOn();
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    // internet-facing: one Elastic IP of the stack's per subnet, so cloudcore's address is fixed
    const addresses = resourcesOf(template, 'AWS::EC2::EIP').map(([id]) => id);
    expect(addresses).toHaveLength(SUBNETS.length);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
      SubnetMappings: SUBNETS.map((SubnetId, at) => ({
        SubnetId,
        AllocationId: { 'Fn::GetAtt': [addresses[at], 'AllocationId'] },
      })),
    });
    const groups = Object.fromEntries(resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    const forwarding = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::Listener').map(([, listener]) => {
      const [action] = listener.Properties.DefaultActions as { TargetGroupArn: { Ref: string } }[];
      const group = groups[action?.TargetGroupArn.Ref ?? '']?.Properties;
      expect(group).toMatchObject({ Protocol: listener.Properties.Protocol, TargetType: 'instance' });
      return { port: listener.Properties.Port, protocol: listener.Properties.Protocol, nodePort: group?.Port };
    });
    expect(forwarding.sort((a, b) => Number(a.port) - Number(b.port))).toEqual(FORWARDING);
  });

  it('lets in only the configured CIDRs on those ports, and out only the NodePorts', () => {
    const template = allOn();
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
    expect(groups).toHaveLength(1);
    const group = groups[0]?.[1].Properties as {
      SecurityGroupIngress: { CidrIp: string; IpProtocol: string; FromPort: number; ToPort: number }[];
      SecurityGroupEgress: { CidrIp: string; IpProtocol: string; FromPort: number; ToPort: number }[];
    };
    const rule = (cidr: string, protocol: string, port: number) => ({
      CidrIp: cidr,
      IpProtocol: protocol.toLowerCase(),
      FromPort: port,
      ToPort: port,
    });
    const key = (r: object) => JSON.stringify(r);
    expect(
      group.SecurityGroupIngress.map(({ CidrIp, IpProtocol, FromPort, ToPort }) =>
        key({ CidrIp, IpProtocol, FromPort, ToPort }),
      ).sort(),
    ).toEqual(CIDRS.flatMap((cidr) => FORWARDING.map(({ port, protocol }) => key(rule(cidr, protocol, port)))).sort());
    expect(
      group.SecurityGroupEgress.map(({ CidrIp, IpProtocol, FromPort, ToPort }) =>
        key({ CidrIp, IpProtocol, FromPort, ToPort }),
      ).sort(),
    ).toEqual(FORWARDING.map(({ nodePort, protocol }) => key(rule('0.0.0.0/0', protocol, nodePort))).sort());
  });

  it('attaches its target groups to the Auto Scaling group of the settings', () => {
    const template = allOn();
    const attachments = resourcesOf(template, 'Custom::AWS');
    expect(attachments).toHaveLength(1);
    const create = JSON.stringify(attachments[0]?.[1].Properties.Create);
    expect(create).toContain('\\"action\\":\\"AttachTrafficSources\\"');
    expect(create).toContain('\\"AutoScalingGroupName\\":\\"kubesphere-nodes\\"');
    for (const [groupId] of resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup'))
      expect(create).toContain(`{"Ref":"${groupId}"}`);
    expect(JSON.stringify(attachments[0]?.[1].Properties.Delete)).toContain('DetachTrafficSources');
  });

  it("gives the steps its first Elastic IP as cloudcore's public address", () => {
    const template = allOn();
    const [addressId] = resourcesOf(template, 'AWS::EC2::EIP')[0] as [string, Resource];
    const functions = resourcesOf(template, 'AWS::Lambda::Function').filter(([, fn]) =>
      JSON.stringify(fn.Properties.Environment ?? {}).includes('POWERTOOLS_SERVICE_NAME'),
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const [, fn] of functions) {
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        [SETTINGS_ENV.cloudcorePublicAddress]: { 'Fn::GetAtt': [addressId, 'PublicIp'] },
      });
    }
  });

  it('registers the instances of the settings on the NodePorts; internal, it is reached by its DNS name', () => {
    const app = new App();
    const stack = new Stack(app, 'Exposure');
    const config = parseConfig({
      cloudcoreExposure: {
        ...ALL_ON.cloudcoreExposure,
        internetFacing: false,
        targets: { instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'] },
      },
    });
    const exposure = new CloudcoreExposure(stack, 'Exposure', {
      exposure: { ...config.cloudcoreExposure, vpcId: 'vpc-0123456789abcdef0' },
      listenerPorts: config.cloudcore.ports,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: SUBNETS,
    });
    template.resourceCountIs('AWS::EC2::EIP', 0);
    expect(stack.resolve(exposure.address)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/LoadBalancer/), 'DNSName'],
    });
    for (const { nodePort } of FORWARDING) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: nodePort,
        Targets: [
          { Id: 'i-0123456789abcdef0', Port: nodePort },
          { Id: 'i-0fedcba9876543210', Port: nodePort },
        ],
        // QUIC is UDP, which no health check speaks: its targets are checked on cloudhub's TCP NodePort
        HealthCheckProtocol: 'TCP',
        HealthCheckPort: String(nodePort === 30001 ? 30000 : nodePort),
      });
    }
    template.resourceCountIs('Custom::AWS', 0);
  });
});

/**
 * Every metric line of the dashboard: `[namespace, name, dimension, value, …]` without its options, or
 * `[expression]`. The body is JSON with CloudFormation references spliced in; they are read as `Ref:<id>` and
 * `GetAtt:<id>.<attribute>`.
 */
function dashboardMetrics(template: Template): unknown[][] {
  const dashboards = resourcesOf(template, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.[1].Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] } | undefined;
  const [, parts] = body?.['Fn::Join'] ?? ['', []];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return Ref !== undefined ? `Ref:${Ref}` : `GetAtt:${getAtt?.join('.')}`;
    })
    .join('');
  const parsed = JSON.parse(text) as { widgets: { properties: { metrics?: unknown[][] } }[] };
  return parsed.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((row) => {
      const [first] = row as [unknown];
      if (first && typeof first === 'object' && 'expression' in first)
        return [(first as { expression: string }).expression];
      return row.filter((item) => typeof item === 'string');
    }),
  );
}
