import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DRIFT_REPORT_PREFIX } from '../../functions/drift-findings/s3-report-store';
import type { StepSpec, StepUse } from '../../functions/registry';
import { JOIN_TOKEN_PARAMETER_PATH } from '../../functions/shared/join-token';
import { SETTINGS_ENV } from '../../functions/shared/settings';
import { grantOnExecutions } from './execution-grants';
import { STEP_HANDLER, stepCode } from './step-code';
import type { StepPlacement } from './step-network';
import { STEP_MEMORY_MB } from './step-sizing';
import { stateMachineName } from './workflows';

/**
 * The Kubernetes group an EKS access entry maps each Kubernetes-using step's role to. deploy/rbac.yaml binds its
 * ClusterRole and Roles to it (and to the ServiceAccount a kubeconfig signs in as), so both identities hold the
 * same rights, and the access entries carry no EKS access policy that would grant more.
 */
export const EKS_STEPS_GROUP = 'edgekeeper:steps';

export interface StepLambdaProps {
  readonly spec: StepSpec;
  /** settings the step reads with `readSettings` */
  readonly environment: Readonly<Record<string, string>>;
  /** @default arm64 */
  readonly architecture?: 'arm64' | 'x86_64';
  /** @default 30 */
  readonly logRetentionDays?: number;
  /** SSM parameter holding the kubeconfig, read by steps that use Kubernetes (cluster auth `kubeconfig`) */
  readonly kubeconfigParameterName: string;
  /**
   * The EKS cluster, with cluster auth `eks`: a step that uses Kubernetes then signs in with its own role, which an
   * access entry maps to {@link EKS_STEPS_GROUP}, and reads no kubeconfig.
   */
  readonly eksClusterName?: string;
  /** the VPC subnets and security groups to run in; absent: outside any VPC */
  readonly placement?: StepPlacement;
  /** `key=value` tags of the hosts the steps may send commands to (settings edgeHostTag and cloudHostTag) */
  readonly hostTags: { readonly edge: string; readonly cloud: string };
  /** the drift-report bucket, required by a step that uses `s3:drift-reports`; its name joins the step's settings */
  readonly driftReportBucket?: s3.IBucket;
  /**
   * the table of host-command waits (lib/constructs/command-events.ts), required by a step that uses
   * `dynamodb:wait-put` or `dynamodb:wait-take`; its name joins the step's settings
   */
  readonly commandWaitsTable?: dynamodb.ITable;
  /** the workflows whose tasks wait for a token (`.waitForTaskToken`): where `stepfunctions:task-success` reaches */
  readonly callbackWorkflows?: readonly string[];
}

/**
 * A workflow step as a Lambda function with the project's defaults built in: Node.js 22, local esbuild bundling
 * (no Docker; the project's own esbuild call, step-bundle.ts, in place of NodejsFunction's: ADR 0016), X-Ray
 * tracing, a log group with retention, Powertools environment, and IAM derived from what the step uses
 * (`spec.uses`), so a step never holds a permission it does not need.
 */
export class StepLambda extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: StepLambdaProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionDays(props.logRetentionDays ?? 30),
    });
    this.function = new lambda.Function(this, 'Function', {
      // the step's bundle (step-code.ts): esbuild with the shared options and plugin of step-bundle.ts
      code: stepCode(props.spec.entry),
      handler: STEP_HANDLER,
      description: props.spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
      memorySize: STEP_MEMORY_MB,
      timeout: Duration.seconds(props.spec.timeoutSeconds ?? 60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        ...props.environment,
        ...(props.spec.uses.includes('s3:drift-reports')
          ? { [SETTINGS_ENV.driftReportBucket]: driftReportBucketOf(props).bucketName }
          : {}),
        ...(usesCommandWaits(props.spec)
          ? { [SETTINGS_ENV.commandWaitsTable]: commandWaitsTableOf(props).tableName }
          : {}),
        POWERTOOLS_SERVICE_NAME: 'edgekeeper',
        POWERTOOLS_METRICS_NAMESPACE: 'Edgekeeper',
        NODE_OPTIONS: '--enable-source-maps',
      },
      // in a VPC, CDK adds the managed policy AWSLambdaVPCAccessExecutionRole (network interfaces) to the role
      ...props.placement,
    });
    this.grantUses(props);
    if (props.placement && this.function.role) {
      Validations.of(this.function.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'Lambda needs it to create, describe and delete the network interfaces of a function in a VPC, nothing more',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the runtime this project builds and tests for; runtime upgrades are deliberate changes',
    });
  }

  private grantUses(props: StepLambdaProps): void {
    const stack = Stack.of(this);
    const role = this.function.role;
    if (!role) return;
    const uses = new Set<StepUse>(props.spec.uses);
    const grant = (statement: iam.PolicyStatementProps) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement(statement));
    if (uses.has('kubernetes') && props.eksClusterName !== undefined) {
      // The step's token is a presigned sts:GetCallerIdentity request, which needs no IAM permission (the STS API
      // reference: "No permissions are required to perform this operation"), and what it may do in the cluster is
      // deploy/rbac.yaml's, through the group: so the role gains nothing here, and reads no kubeconfig.
      new eks.CfnAccessEntry(this, 'ClusterAccess', {
        clusterName: props.eksClusterName,
        principalArn: role.roleArn,
        type: 'STANDARD',
        kubernetesGroups: [EKS_STEPS_GROUP],
      });
    } else if (uses.has('kubernetes')) {
      grant({
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: props.kubeconfigParameterName.replace(/^\//, ''),
          }),
        ],
      });
    }
    const tokenActions = [
      ...(uses.has('ssm:token-write') ? ['ssm:PutParameter'] : []),
      ...(uses.has('ssm:token-delete') ? ['ssm:DeleteParameter'] : []),
    ];
    if (tokenActions.length > 0) {
      // one SecureString per execution, named after it: the path bounds the grant to join tokens
      const tokens = `${JOIN_TOKEN_PARAMETER_PATH.replace(/^\//, '')}*`;
      grant({
        actions: tokenActions,
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: tokens })],
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${tokens}]`,
        reason: 'each execution writes and deletes the join-token parameter named after it, under one path',
      });
    }
    const sendTags = [
      ...(uses.has('ssm:send-edge') ? [props.hostTags.edge] : []),
      ...(uses.has('ssm:send-cloud') ? [props.hostTags.cloud] : []),
    ];
    if (sendTags.length > 0) {
      // SendCommand authorizes the document and each target host: the one document, unconditioned (a document
      // carries no host tag), and the hosts only when they carry the tag of the hosts this step may reach
      grant({
        actions: ['ssm:SendCommand'],
        resources: [
          stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunShellScript' }),
        ],
      });
      for (const tag of sendTags) grant({ ...sendToTagged(stack, tag) });
    }
    // These reads and CancelCommand define no resource type in the Service Authorization Reference for Systems
    // Manager (docs/iam.md cites it), so IAM accepts only "*" for them; each is granted only to the steps that call it.
    const anyResource = [
      ...(uses.has('ssm:read-command') ? ['ssm:GetCommandInvocation'] : []),
      ...(uses.has('ssm:cancel-command') ? ['ssm:CancelCommand'] : []),
      ...(uses.has('ssm:list-commands') ? ['ssm:ListCommands', 'ssm:ListCommandInvocations'] : []),
      ...(uses.has('ssm:inventory') ? ['ssm:DescribeInstanceInformation'] : []),
    ];
    if (anyResource.length > 0) grant({ actions: anyResource, resources: ['*'] });
    if (uses.has('stepfunctions')) {
      // A lock is free once its holder execution has ended: read-only access to this stack's own executions.
      grantOnExecutions(
        role,
        [`${stack.stackName}-*`],
        ['states:DescribeExecution'],
        'a lock holder can be any execution of this stack’s workflows; the grant only reads their status',
      );
    }
    if (uses.has('s3:drift-reports')) {
      // the reports' prefix only: the parts and reports of every run, and latest.json; no delete (the lifecycle
      // rule expires them). ListBucket lists a run's parts, and makes a missing object a 404 rather than a 403.
      const bucket = driftReportBucketOf(props);
      grant({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [bucket.arnForObjects(`${DRIFT_REPORT_PREFIX}*`)],
      });
      grant({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${DRIFT_REPORT_PREFIX}*`] } },
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/${DRIFT_REPORT_PREFIX}*]`,
        reason:
          'a drift run writes and reads its own parts and report, named after it, and latest.json, under one prefix',
      });
    }
    // a wait is stored by one step and taken by whichever of two comes first: each holds only its item operation
    const waitActions = [
      ...(uses.has('dynamodb:wait-put') ? ['dynamodb:PutItem'] : []),
      ...(uses.has('dynamodb:wait-take') ? ['dynamodb:DeleteItem'] : []),
    ];
    if (waitActions.length > 0) grant({ actions: waitActions, resources: [commandWaitsTableOf(props).tableArn] });
    if (uses.has('stepfunctions:task-success')) {
      // SendTaskSuccess is authorized on the state machine whose task waits; the machines are named after the stack
      // (workflows.ts), and an ARN built from the name keeps the step's role from depending on the machine, which
      // depends on the step
      const workflows = props.callbackWorkflows ?? [];
      if (workflows.length === 0) throw new Error(`step ${props.spec.entry} completes tasks, and no workflow waits`);
      grant({
        actions: ['states:SendTaskSuccess'],
        resources: workflows.map((workflow) =>
          stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: stateMachineName(this, workflow),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      });
    }
    acknowledgeStepFindings(role);
  }
}

function usesCommandWaits(spec: StepSpec): boolean {
  return spec.uses.some((use) => use === 'dynamodb:wait-put' || use === 'dynamodb:wait-take');
}

function commandWaitsTableOf(props: StepLambdaProps): dynamodb.ITable {
  if (!props.commandWaitsTable) {
    throw new Error(`step ${props.spec.entry} uses the command waits, and no table of them was given`);
  }
  return props.commandWaitsTable;
}

function driftReportBucketOf(props: StepLambdaProps): s3.IBucket {
  if (!props.driftReportBucket) {
    throw new Error(`step ${props.spec.entry} uses s3:drift-reports, and no drift-report bucket was given`);
  }
  return props.driftReportBucket;
}

/**
 * SendCommand on the hosts (EC2 instances and hybrid-activated managed instances) that carry `tag` (`key=value`).
 * The host's id comes from a request, so the resource is every host and the tag condition is what narrows it.
 */
function sendToTagged(stack: Stack, tag: string): iam.PolicyStatementProps {
  const [key, value] = splitTag(tag);
  return {
    actions: ['ssm:SendCommand'],
    resources: [
      stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
      stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
    ],
    conditions: { StringEquals: { [`ssm:resourceTag/${key}`]: value } },
  };
}

/** `key=value` as the settings validated it; the key itself may hold ':' (`edgekeeper:role=edge`). */
function splitTag(tag: string): [string, string] {
  const at = tag.indexOf('=');
  if (at <= 0 || at === tag.length - 1) throw new Error(`expected a host tag as key=value, got ${JSON.stringify(tag)}`);
  return [tag.slice(0, at), tag.slice(at + 1)];
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
      reason:
        'SendCommand reaches only hosts carrying the edge-host or cloud-host tag (a condition); the document is pinned',
    });
  }
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray writes and the SSM command reads, CancelCommand and instance inventory define no resource type',
  });
}
