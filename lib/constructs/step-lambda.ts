import { join } from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StepSpec } from '../../functions/registry';

const REPO_ROOT = join(__dirname, '..', '..');

export interface StepLambdaProps {
  readonly spec: StepSpec;
  /** settings the step reads with `readSettings` */
  readonly environment: Readonly<Record<string, string>>;
  /** @default arm64 */
  readonly architecture?: 'arm64' | 'x86_64';
  /** @default 30 */
  readonly logRetentionDays?: number;
  /** SSM parameter holding the kubeconfig, read by steps that use Kubernetes */
  readonly kubeconfigParameterName: string;
}

/**
 * A workflow step as a Lambda function with the project's defaults built in: Node.js 22, local esbuild bundling
 * (no Docker), X-Ray tracing, a log group with retention, Powertools environment, and IAM derived from what the
 * step uses (`spec.uses`), so a step never holds a permission it does not need.
 */
export class StepLambda extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: StepLambdaProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionDays(props.logRetentionDays ?? 30),
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.spec.entry),
      handler: 'handler',
      description: props.spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(props.spec.timeoutSeconds ?? 60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'edgekeeper',
        POWERTOOLS_METRICS_NAMESPACE: 'Edgekeeper',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    });
    this.grantUses(props);
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime this project builds and tests for; runtime upgrades are deliberate changes',
    });
  }

  private grantUses(props: StepLambdaProps): void {
    const stack = Stack.of(this);
    const role = this.function.role;
    if (!role) return;
    if (props.spec.uses.includes('kubernetes')) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              resource: 'parameter',
              resourceName: props.kubeconfigParameterName.replace(/^\//, ''),
            }),
          ],
        }),
      );
    }
    if (props.spec.uses.includes('ssm')) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:SendCommand'],
          resources: [
            stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunShellScript' }),
            stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
            stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
          ],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ssm:GetCommandInvocation',
            'ssm:ListCommands',
            'ssm:ListCommandInvocations',
            'ssm:CancelCommand',
            'ssm:DescribeInstanceInformation',
          ],
          resources: ['*'],
        }),
      );
    }
    if (props.spec.uses.includes('stepfunctions')) {
      // A lock is free once its holder execution has ended: read-only access to this stack's own executions.
      const executions = `${stack.stackName}-*:*`;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: [
            stack.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: executions,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${executions}]`,
        reason: 'a lock holder can be any execution of this stack’s workflows; the grant only reads their status',
      });
    }
    acknowledgeStepFindings(role);
  }
}

function retentionDays(days: number): logs.RetentionDays {
  const known = Object.values(logs.RetentionDays).filter((value): value is number => typeof value === 'number');
  const match = known.find((value) => value === days);
  if (match === undefined)
    throw new Error(`expected a CloudWatch retention in days (${known.join(', ')}), got ${days}`);
  return match as logs.RetentionDays;
}

/** Findings cdk-nag reports on every step's role, each with the reason it is acceptable. */
function acknowledgeStepFindings(role: iam.IRole): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'the managed policy only lets the function write its own CloudWatch log streams',
  });
  for (const resource of [
    'ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*',
    'ec2:<AWS::Region>:<AWS::AccountId>:instance/*',
  ]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${resource}]`,
      reason: 'SendCommand must reach whichever managed edge host a request names; the document is pinned',
    });
  }
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray segments and SSM command-invocation reads and instance inventory have no resource-level permissions',
  });
}
