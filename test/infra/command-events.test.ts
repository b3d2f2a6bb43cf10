import { Match } from 'aws-cdk-lib/assertions';
import { STEPS, type StepName } from '../../functions/registry';
import { listAslFiles } from '../../lib/asl';
import { callbackWorkflows } from '../../lib/constructs/command-events';
import { grantsOf } from '../../lib/iam-table';
import { synthTemplate } from './synth';

const { template } = synthTemplate();
const grants = grantsOf(template.toJSON() as Parameters<typeof grantsOf>[0]);

type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string };
const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;

/** The one table of the stack: the command waits. */
function waitsTable(): { id: string; table: Resource } {
  const tables = Object.entries(resourcesOf('AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  const [id, table] = tables[0] as [string, Resource];
  return { id, table };
}

/** A step's function id and readable role name, found through its description. */
function stepFunction(name: StepName): { id: string; role: string; properties: Record<string, unknown> } {
  const entry = Object.entries(resourcesOf('AWS::Lambda::Function')).find(
    ([, fn]) => fn.Properties.Description === STEPS[name].description,
  );
  if (!entry) throw new Error(`no function of step ${name}`);
  const roleId = (entry[1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
  return { id: entry[0], role: roleId.replace(/[0-9A-F]{8}$/, ''), properties: entry[1].Properties };
}

const actionsOf = (role: string, prefix: string) =>
  grants
    .filter((grant) => grant.role === role && grant.action.startsWith(prefix))
    .map((grant) => `${grant.action} ${grant.resource}`)
    .sort();

describe('event-driven completion of host commands', () => {
  it('keeps the waits in an on-demand table, encrypted under a KMS key, whose items expire by expiresAt', () => {
    // Act
    const { table } = waitsTable();

    // Assess: nothing in it outlives its wait, so it goes with the stack
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      // SSEEnabled alone: KMS with the account's AWS-managed key (aws/dynamodb), which needs no grant of its own
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Delete');
  });

  it("sends SSM's end of an AWS-RunShellScript invocation, from the default bus, to ResumeOnCommandEvent", () => {
    // Prepare
    const resume = stepFunction('ResumeOnCommandEvent');

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: {
          'document-name': ['AWS-RunShellScript'],
          status: [{ 'anything-but': ['Pending', 'InProgress', 'Delayed', 'Cancelling'] }],
        },
      },
      EventBusName: Match.absent(),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [resume.id, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [resume.id, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('gives the two steps the table name, and only their item operations on it', () => {
    // Prepare
    const { id } = waitsTable();
    const awaiter = stepFunction('AwaitHostCommand');
    const resume = stepFunction('ResumeOnCommandEvent');

    // Assess: the step that waits stores and takes; the event's target only takes
    for (const step of [awaiter, resume]) {
      expect(step.properties.Environment).toMatchObject({
        Variables: { EDGEKEEPER_COMMAND_WAITS_TABLE: { Ref: id } },
      });
    }
    const table = `<${id.replace(/[0-9A-F]{8}$/, '')}.Arn>`;
    expect(actionsOf(awaiter.role, 'dynamodb:')).toEqual([`dynamodb:DeleteItem ${table}`, `dynamodb:PutItem ${table}`]);
    expect(actionsOf(resume.role, 'dynamodb:')).toEqual([`dynamodb:DeleteItem ${table}`]);
    const holders = new Set(grants.filter((grant) => grant.action.startsWith('dynamodb:')).map((grant) => grant.role));
    expect([...holders].sort()).toEqual([awaiter.role, resume.role].sort());
  });

  it('lets only those two steps send a task success, and only to the workflows that wait for one', () => {
    // Prepare
    const awaiter = stepFunction('AwaitHostCommand');
    const resume = stepFunction('ResumeOnCommandEvent');
    const machine = (workflow: string) =>
      `states:SendTaskSuccess arn:<partition>:states:<region>:<account>:stateMachine:Edgekeeper-${workflow}`;

    // Assess
    for (const step of [awaiter, resume]) {
      expect(actionsOf(step.role, 'states:SendTask')).toEqual([machine('onboard-node'), machine('remove-node')]);
    }
    const holders = new Set(grants.filter((grant) => grant.action.startsWith('states:SendTask')).map((g) => g.role));
    expect([...holders].sort()).toEqual([awaiter.role, resume.role].sort());
  });

  it('finds the workflows that wait for a task token in their definitions', () => {
    // Act
    const workflows = callbackWorkflows();

    // Assess: onboard-node waits on its join script, remove-node on its reset script; the others have no such task
    expect(workflows).toEqual(['onboard-node', 'remove-node']);
    expect(
      listAslFiles()
        .filter((file) => file.text.includes('AwaitHostCommandFunctionArn'))
        .map((f) => f.name),
    ).toEqual(workflows);
  });
});
