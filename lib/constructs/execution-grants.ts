import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Grants `actions` on every execution of the named state machines (`<name>:*`, a name may itself end in `*`), and
 * acknowledges cdk-nag's wildcard finding with `reason`: an execution's name is not known when the stack is built.
 */
export function grantOnExecutions(
  role: iam.IRole,
  stateMachineNames: readonly string[],
  actions: string[],
  reason: string,
): void {
  const stack = Stack.of(role);
  const executions = stateMachineNames.map((name) => `${name}:*`);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: executions.map((resourceName) =>
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    }),
  );
  for (const resourceName of executions) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${resourceName}]`,
      reason,
    });
  }
}
