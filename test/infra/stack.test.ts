import { Match } from 'aws-cdk-lib/assertions';
import { STEP_NAMES, STEPS, type StepName } from '../../functions/registry';
import { readSettings } from '../../functions/shared/settings';
import { type AslFile, fillSettings, listAslFiles, placeholdersOf } from '../../lib/asl';
import { synthTemplate } from './synth';

const { template } = synthTemplate();

type Resource = { Properties: Record<string, unknown> };

/** A definition as deployed: its time limit filled from the timeout settings (cdk.json keeps their defaults). */
const deployed = (file: AslFile): AslFile => ({ ...file, text: fillSettings(file.text, readSettings({})) });

function stateMachines(): Resource[] {
  return Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
}

function functions(): Record<string, Resource> {
  return template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
}

describe('EdgekeeperStack', () => {
  it('deploys one state machine per ASL file whose definition is the file itself', () => {
    const files = listAslFiles().map(deployed);
    const machines = stateMachines();
    expect(machines).toHaveLength(files.length);
    for (const file of files) {
      const machine = machines.find((m) => m.Properties.DefinitionString === file.text);
      expect(machine).toBeDefined();
      // every placeholder is resolved by a substitution, and nothing else is substituted
      expect(Object.keys(machine?.Properties.DefinitionSubstitutions as object).sort()).toEqual(
        placeholdersOf(file.text),
      );
    }
  });

  it('logs every execution at level ALL without execution data, and traces with X-Ray', () => {
    for (const machine of stateMachines()) {
      expect(machine.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
    }
  });

  it('deploys every registered step as a Node.js 22 function with tracing and Powertools settings', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs22.x', TracingConfig: { Mode: 'Active' }, Architectures: ['arm64'] },
      // and the REST API's function and the inventory starter, built the same way (api.test.ts, inventory.test.ts)
      STEP_NAMES.length + 2,
    );
    for (const name of STEP_NAMES) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: STEPS[name].description,
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: 'edgekeeper',
            EDGEKEEPER_KUBECONFIG_PARAMETER: '/edgekeeper/kubeconfig',
            EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=10000,quic=10001,https=10002,stream=10003,tunnel=10004',
          }),
        },
      });
    }
  });

  it('keeps the logs of every function and every state machine, each in its own group, for the configured retention', () => {
    const groups = template.findResources('AWS::Logs::LogGroup') as Record<string, Resource>;
    for (const [id, group] of Object.entries(groups)) expect([id, group.Properties.RetentionInDays]).toEqual([id, 30]);
    const functionGroups = Object.values(functions()).map(
      (fn) => (fn.Properties.LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup?.Ref,
    );
    const machineGroups = stateMachines().map(
      (machine) =>
        (
          machine.Properties.LoggingConfiguration as {
            Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': string[] } } }[];
          }
        ).Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0],
    );
    // the REST API's access logs: the stage's destination ARN ends with its group's name
    const apiGroups = Object.values(template.findResources('AWS::ApiGateway::Stage') as Record<string, Resource>).map(
      (stage) =>
        (
          (stage.Properties.AccessLogSetting as { DestinationArn: { 'Fn::Join': [string, unknown[]] } }).DestinationArn[
            'Fn::Join'
          ][1].at(-1) as { Ref: string }
        ).Ref,
    );
    const used = [...functionGroups, ...machineGroups, ...apiGroups];
    // every function, machine and stage names a group of this stack, no two share one, and no group is left unused
    expect(used.sort()).toEqual(Object.keys(groups).sort());
    expect(used).toHaveLength(STEP_NAMES.length + 2 + listAslFiles().length + 1);
  });

  it('lets each state machine invoke exactly the functions its definition names', () => {
    const functionIdOf = (name: string) =>
      Object.entries(functions()).find(
        ([, fn]) => fn.Properties.Description === STEPS[name as StepName].description,
      )?.[0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const machines = template.findResources('AWS::StepFunctions::StateMachine') as Record<string, Resource>;
    for (const file of listAslFiles().map(deployed)) {
      const machine = Object.values(machines).find((m) => m.Properties.DefinitionString === file.text);
      const roleId = (machine?.Properties.RoleArn as { 'Fn::GetAtt': string[] } | undefined)?.['Fn::GetAtt'][0];
      const invoked = new Set<string>();
      for (const policy of policies.filter(
        (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )) {
        const statements = (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
          .Statement;
        for (const statement of statements.filter((st) =>
          JSON.stringify(st.Action).includes('lambda:InvokeFunction'),
        )) {
          for (const match of JSON.stringify(statement.Resource).matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g))
            invoked.add(match[1]);
        }
      }
      const named = placeholdersOf(file.text)
        .map((p) => p.match(/^(\w+)FunctionArn$/)?.[1])
        .filter((name): name is string => Boolean(name))
        .map(functionIdOf);
      expect([...invoked].sort()).toEqual(named.sort());
    }
  });

  it('fails with the key path and reason when a setting is invalid', () => {
    expect(() => synthTemplate({ lambda: { architecture: 'mips' } })).toThrow(/edgekeeper\.lambda\.architecture/);
  });
});
