import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { STARTER_ENV } from '../../functions/inventory-starter/environment';
import { Inventory } from '../../lib/constructs/inventory';
import { grantsOf } from '../../lib/iam-table';
import { synthTemplate } from './synth';

const { template } = synthTemplate();
const json = template.toJSON() as Parameters<typeof grantsOf>[0];

type Resource = { Properties: Record<string, unknown> };
const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;

/** The logical ids of the inventory queue and its dead-letter queue (the one the other's redrive policy names). */
function queues(): { queue: string; deadLetters: string } {
  const all = resourcesOf('AWS::SQS::Queue');
  const entry = Object.entries(all).find(([, queue]) => queue.Properties.RedrivePolicy !== undefined);
  if (!entry) throw new Error('no queue with a redrive policy');
  const target = (entry[1].Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': string[] } })
    .deadLetterTargetArn['Fn::GetAtt'][0] as string;
  return { queue: entry[0], deadLetters: target };
}

/** The starter's function and role (the function whose environment names the dead-letter queue). */
function starter(): { id: string; properties: Record<string, unknown>; role: string } {
  const entry = Object.entries(resourcesOf('AWS::Lambda::Function')).find(([, fn]) =>
    JSON.stringify(fn.Properties.Environment).includes(STARTER_ENV.deadLetterQueueUrl),
  );
  if (!entry) throw new Error('no function has the dead-letter queue in its environment');
  const roleId = (entry[1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
  return { id: entry[0], properties: entry[1].Properties, role: roleId.replace(/[0-9A-F]{8}$/, '') };
}

describe('the inventory events', () => {
  it('has one rule per detail-type on the default bus, from the inventory source, each targeting the queue', () => {
    // Prepare
    const { queue } = queues();

    // Act
    const rules = Object.values(resourcesOf('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule.Properties.EventPattern).includes('Device '),
    );

    // Assess
    expect(rules.map((rule) => rule.Properties.EventPattern).sort()).toEqual([
      { source: ['edgekeeper.inventory'], 'detail-type': ['Device Registered'] },
      { source: ['edgekeeper.inventory'], 'detail-type': ['Device Retired'] },
    ]);
    for (const rule of rules) {
      expect(rule.Properties.EventBusName).toBe('default');
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [queue, 'Arn'] } })]);
    }
  });

  it('encrypts both queues, refuses them without TLS, and redrives after the configured receive count', () => {
    // Prepare
    const { queue, deadLetters } = queues();
    const all = resourcesOf('AWS::SQS::Queue');
    const policies = Object.values(resourcesOf('AWS::SQS::QueuePolicy'));

    // Assess
    expect(all[queue]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5 },
      // six times the starter's 60 s timeout, as AWS advises for a Lambda's queue
      VisibilityTimeout: 360,
    });
    expect(all[deadLetters]?.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    for (const id of [queue, deadLetters]) {
      const policy = policies.find((p) => JSON.stringify(p.Properties.Queues).includes(id));
      expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('feeds the starter batches of up to 50 gathered for 10 s, with partial batch responses', () => {
    // Prepare
    const { queue } = queues();
    const { id } = starter();

    // Act
    const mappings = Object.values(resourcesOf('AWS::Lambda::EventSourceMapping')).filter(
      (mapping) => (mapping.Properties.FunctionName as { Ref?: string }).Ref === id,
    );

    // Assess
    expect(mappings.map((mapping) => mapping.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
  });

  it('lets the starter start only the stack’s own state machines and read only their executions', () => {
    // Prepare
    const { role } = starter();
    const machineIds = Object.keys(resourcesOf('AWS::StepFunctions::StateMachine')).map((id) =>
      id.replace(/[0-9A-F]{8}$/, ''),
    );

    // Act
    const states = grantsOf(json).filter((grant) => grant.role === role && grant.action.startsWith('states:'));

    // Assess
    expect([...new Set(states.map((grant) => grant.action))].sort()).toEqual([
      'states:DescribeExecution',
      'states:StartExecution',
    ]);
    for (const grant of states.filter((g) => g.action === 'states:StartExecution')) {
      expect(machineIds).toContain(grant.resource.replace(/^<(.*)>$/, '$1'));
    }
    expect(states.filter((g) => g.action === 'states:StartExecution').map((g) => g.resource)).toHaveLength(4);
    expect(
      states
        .filter((g) => g.action === 'states:DescribeExecution')
        .map((g) => g.resource)
        .sort(),
    ).toEqual(
      ['batch-onboard', 'batch-remove', 'onboard-node', 'remove-node'].map(
        (workflow) => `arn:<partition>:states:<region>:<account>:execution:Edgekeeper-${workflow}:*`,
      ),
    );
  });

  it('lets the starter send to the dead-letter queue and nowhere else, with SendMessage alone', () => {
    // Prepare
    const { role } = starter();
    const { deadLetters } = queues();
    const deadLettersArn = `<${deadLetters.replace(/[0-9A-F]{8}$/, '')}.Arn>`;

    // Act
    const grants = grantsOf(json).filter((grant) => grant.role === role);
    const sends = grants.filter((grant) => grant.action === 'sqs:SendMessage');
    const onDeadLetters = grants.filter((grant) => grant.resource === deadLettersArn);

    // Assess
    expect(sends.map((grant) => grant.resource)).toEqual([deadLettersArn]);
    // nothing more: the URL comes from the environment, and SQS-managed encryption needs no KMS grant
    expect(onDeadLetters.map((grant) => grant.action)).toEqual(['sqs:SendMessage']);
  });

  it('follows the bus and source settings, and refuses batches above 10 without a batching window', () => {
    // Prepare: the construct on its own (a stack synthesis would hash the project for every function)
    const build = (settings: { batchSize: number; batchWindowSeconds: number }) => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Inventory');
      const machine = (id: string) =>
        new sfn.StateMachine(stack, id, {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `${id}Pass`)),
        });
      const stateMachines = Object.fromEntries(
        Object.keys(STARTER_ENV.stateMachines).map((workflow) => [workflow, machine(workflow)]),
      );
      new Inventory(stack, 'Inventory', {
        stateMachines,
        lambda: {
          environment: {},
          kubeconfigParameterName: '/edgekeeper/kubeconfig',
          hostTags: { edge: 'a=b', cloud: 'c=d' },
        },
        settings: { eventBusName: 'fleet', source: 'com.example.fleet', maxReceiveCount: 3, ...settings },
      });
      return Template.fromStack(stack);
    };

    // Act
    const built = build({ batchSize: 10, batchWindowSeconds: 0 });

    // Assess
    built.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'fleet',
      EventPattern: { source: ['com.example.fleet'], 'detail-type': ['Device Retired'] },
    });
    built.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 3 } });
    expect(() => build({ batchSize: 11, batchWindowSeconds: 0 })).toThrow(
      'edgekeeper.inventory.batchSize 11 needs edgekeeper.inventory.batchWindowSeconds of at least 1',
    );
  });
});
