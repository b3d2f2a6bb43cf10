import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  type AslFile,
  fillSettings,
  listAslFiles,
  pascalCase,
  placeholdersOf,
  type WorkflowTimeoutSettings,
} from '../asl';
import { grantOnExecutions } from './execution-grants';

export interface WorkflowsProps {
  /** Lambda steps by registry name; a workflow may only reference these */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** the bus `${EventBusName}` resolves to */
  readonly eventBus: events.IEventBus;
  /** the steps' timeout settings, from which each workflow's own time limit is derived */
  readonly timeouts: WorkflowTimeoutSettings;
  /** @default every `statemachine/*.asl.json` */
  readonly definitions?: readonly AslFile[];
  /** @default 30 */
  readonly logRetentionDays?: logs.RetentionDays;
}

/**
 * One Standard state machine per `statemachine/*.asl.json`, deployed from the file itself so that what the local
 * runtime tests is what runs. The time limit (a number, which `definitionSubstitutions` cannot insert) is filled
 * at synth time from the timeout settings; every other `${Placeholder}` is filled by `definitionSubstitutions`,
 * and each state machine is granted exactly what its own placeholders reference. Logs go to CloudWatch at level ALL but without execution
 * data: inputs and outputs stay out of the logs, so nothing sensitive can leak there.
 */
export class Workflows extends Construct {
  /** state machines by workflow name (`onboard-node`, …) */
  public readonly stateMachines: Readonly<Record<string, sfn.StateMachine>>;

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    const definitions = props.definitions ?? listAslFiles();
    const machines: Record<string, sfn.StateMachine> = {};
    for (const file of definitions) {
      const asl = { ...file, text: fillSettings(file.text, props.timeouts) };
      const references = this.resolveReferences(asl, props, definitions);
      const logGroup = new logs.LogGroup(this, `${pascalCase(asl.name)}Logs`, {
        retention: props.logRetentionDays ?? logs.RetentionDays.ONE_MONTH,
      });
      const machine = new sfn.StateMachine(this, pascalCase(asl.name), {
        stateMachineName: stateMachineName(this, asl.name),
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(asl.text),
        definitionSubstitutions: references.substitutions,
        tracingEnabled: true,
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      });
      references.grant(machine.role);
      Validations.of(machine.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray trace segments and CloudWatch log delivery have no resource-level permissions',
      });
      machines[asl.name] = machine;
    }
    this.stateMachines = machines;
  }

  private resolveReferences(asl: AslFile, props: WorkflowsProps, definitions: readonly AslFile[]) {
    const substitutions: Record<string, string> = {};
    const grants: ((role: iam.IRole) => void)[] = [];
    for (const placeholder of placeholdersOf(asl.text)) {
      const functionName = placeholder.match(/^(\w+)FunctionArn$/)?.[1];
      const workflow = definitions.find((other) => `${pascalCase(other.name)}StateMachineArn` === placeholder);
      if (functionName) {
        const fn = props.functions[functionName];
        if (!fn) throw new Error(`${asl.name}: \${${placeholder}} names no step function, got ${functionName}`);
        substitutions[placeholder] = fn.functionArn;
        // The exact ARN, not grantInvoke's `:*` versions too: Step Functions always invokes the unqualified function.
        grants.push((role) =>
          role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
          ),
        );
      } else if (workflow) {
        substitutions[placeholder] = stateMachineArn(this, workflow.name);
        grants.push((role) => grantStartSync(this, role, workflow.name));
      } else if (placeholder === 'EventBusName') {
        substitutions[placeholder] = props.eventBus.eventBusName;
        grants.push((role) => props.eventBus.grantPutEventsTo(role));
      } else {
        throw new Error(`${asl.name}: no substitution for \${${placeholder}}`);
      }
    }
    const grant = (role: iam.IRole) => {
      for (const apply of grants) apply(role);
    };
    return { substitutions, grant };
  }
}

/** Physical names are fixed (stack-prefixed) so workflows can start each other without a dependency cycle. */
export function stateMachineName(scope: Construct, workflow: string): string {
  return `${Stack.of(scope).stackName}-${workflow}`;
}

function stateMachineArn(scope: Construct, workflow: string): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName(scope, workflow),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** What `states:startExecution.sync` needs: start, watch and stop the child, plus the managed completion rule. */
function grantStartSync(scope: Construct, role: iam.IRole, workflow: string): void {
  const stack = Stack.of(scope);
  const name = stateMachineName(scope, workflow);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn(scope, workflow)] }),
  );
  grantOnExecutions(
    role,
    [name],
    ['states:DescribeExecution', 'states:StopExecution'],
    'a .sync task must watch and stop the child executions it starts, whose names are not known in advance',
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
        }),
      ],
    }),
  );
}
