import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { STATE_MACHINE_ARN_ENV, WORKFLOWS } from '../../functions/api/engine';
import { DRIFT_REPORT_PREFIX } from '../../functions/drift-findings/s3-report-store';
import type { StepSpec } from '../../functions/registry';
import { SETTINGS_ENV } from '../../functions/shared/settings';
import { API_STAGE_NAME, type ApiRouteSpec, modelName, parametersOf, requestModelSchema } from '../openapi';
import { grantOnExecutions } from './execution-grants';
import { StepLambda, type StepLambdaProps } from './step-lambda';
import { stateMachineName } from './workflows';

/** The API's Lambda: built and bundled like a step, with the steps' cluster access (GET /nodes reads the cluster). */
const API_FUNCTION: StepSpec = {
  entry: 'functions/api/handler.ts',
  description: 'Serves the edgekeeper REST API: starts and follows the workflows and lists the edge nodes',
  uses: ['kubernetes'],
  // API Gateway gives up on an integration after 29 s
  timeoutSeconds: 29,
};

/** The one object of the drift-report bucket the API reads (GET /drift-checks/latest). */
const LATEST_DRIFT_REPORT = `${DRIFT_REPORT_PREFIX}latest.json`;

/**
 * One JSON line per request, with who called what and how it ended, and never a body or a header value: a body
 * can carry labels, and what the logs hold must never need redacting.
 */
const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  path: '$context.path',
  resource: '$context.resourcePath',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  error: '$context.error.message',
};

export interface EdgekeeperApiProps {
  readonly routes: readonly ApiRouteSpec[];
  /** the workflows the API starts, by name (functions/api/engine.ts WORKFLOWS) */
  readonly stateMachines: Readonly<Record<string, sfn.StateMachine>>;
  /** the drift-report bucket: the API reads its latest.json only */
  readonly driftReportBucket: s3.IBucket;
  /**
   * The API function's settings, as a step's: the step settings environment (the handler reads the same settings),
   * and the same cluster access, network placement and log retention.
   */
  readonly lambda: Omit<StepLambdaProps, 'spec'>;
  /** stage throttling: steady requests per second, and the burst above it */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /** create the account's API Gateway CloudWatch Logs role (needed once per account and region for logging) */
  readonly cloudWatchRole: boolean;
}

/**
 * The regional REST API in front of the workflows: one resource and method per route of functions/api/routes.ts,
 * each authorized by IAM (SigV4) and checked by a request validator (declared parameters, and the body against a
 * model generated from the route's zod schema) before one Lambda serves them all through a proxy integration.
 * The stage is throttled and writes access logs without bodies; API Gateway's own errors carry the ApiError shape.
 */
export class EdgekeeperApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: EdgekeeperApiProps) {
    super(scope, id);
    const machines = WORKFLOWS.map((workflow) => {
      const machine = props.stateMachines[workflow];
      if (!machine) throw new Error(`the REST API starts ${workflow}, and no state machine of that name exists`);
      return { workflow, machine };
    });

    this.function = new StepLambda(this, 'Handler', {
      ...props.lambda,
      spec: API_FUNCTION,
      environment: {
        ...props.lambda.environment,
        ...Object.fromEntries(
          machines.map(({ workflow, machine }) => [STATE_MACHINE_ARN_ENV[workflow], machine.stateMachineArn]),
        ),
        [SETTINGS_ENV.driftReportBucket]: props.driftReportBucket.bucketName,
      },
    }).function;
    this.grantWorkflows(machines.map(({ workflow, machine }) => ({ machine, name: stateMachineName(this, workflow) })));
    this.grantLatestDriftReport(props.driftReportBucket);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: (props.lambda.logRetentionDays ?? 30) as logs.RetentionDays,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'edgekeeper: starts and follows the edge-node workflows (docs/openapi.yaml)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole,
      // the account setting outlives the stack: another API of the account may log through the same role
      ...(props.cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
        // execution logs at ERROR, never the request and response data
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.shapeGatewayErrors();

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new apigateway.LambdaIntegration(this.function, { proxy: true, allowTestInvoke: false });
    for (const route of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      resource.addMethod(route.method, integration, {
        operationName: route.operationId,
        authorizationType: apigateway.AuthorizationType.IAM,
        requestValidator: validator,
        requestParameters: requestParametersOf(route),
        ...(route.body ? { requestModels: { 'application/json': this.modelOf(route, route.body) } } : {}),
      });
    }

    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'every method requires a SigV4 signature of an IAM principal allowed to invoke it, and the stage is throttled; a WAF web ACL is the account owner’s choice',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'callers are IAM principals (AWS_IAM authorization on every method), not Cognito users',
      },
    );
    if (props.cloudWatchRole) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'the AWS managed policy API Gateway documents for its account-wide CloudWatch Logs role; it only writes logs',
      });
    }
  }

  /** The body model of a route, from its zod schema (JSON Schema draft 4, the dialect API Gateway models take). */
  private modelOf(route: ApiRouteSpec, body: z.core.$ZodType): apigateway.IModel {
    const name = `${modelName(route.operationId)}Request`;
    return this.api.addModel(name, {
      modelName: name,
      contentType: 'application/json',
      description: `Body of ${route.method} ${route.path}`,
      schema: requestModelSchema(body) as apigateway.JsonSchema,
    });
  }

  /**
   * GetObject on latest.json, nothing else of the bucket. ListBucket, conditioned on that one key as the steps'
   * grant is on their prefix, makes a missing report S3's NoSuchKey (the API's 404) rather than AccessDenied.
   */
  private grantLatestDriftReport(bucket: s3.IBucket): void {
    const role = this.function.role;
    if (!role) throw new Error('the API function has no role to grant the drift report to');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(LATEST_DRIFT_REPORT)] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': [LATEST_DRIFT_REPORT] } },
      }),
    );
  }

  /**
   * Start, list and follow the workflows the API serves, nothing else: StartExecution and ListExecutions on their state
   * machines, DescribeExecution and GetExecutionHistory on their executions (whose names come from requests).
   */
  private grantWorkflows(machines: readonly { machine: sfn.StateMachine; name: string }[]): void {
    const role = this.function.role;
    if (!role) throw new Error('the API function has no role to grant the workflows to');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution', 'states:ListExecutions'],
        resources: machines.map(({ machine }) => machine.stateMachineArn),
      }),
    );
    grantOnExecutions(
      role,
      machines.map(({ name }) => name),
      ['states:DescribeExecution', 'states:GetExecutionHistory'],
      'an operation is any execution of this workflow, named by a request; the grant only reads it',
    );
  }

  /**
   * API Gateway answers some requests itself (unsigned or refused by IAM, throttled, failing the validator):
   * those answers carry the same `{code, message, details}` as the handler's. A gateway response is not a VTL
   * template, so only the quoted `messageString` can go into the JSON; the validator's detailed text cannot.
   */
  private shapeGatewayErrors(): void {
    const body = (code: string) =>
      JSON.stringify({ code, message: '__MESSAGE__', details: [] }).replace(
        '"__MESSAGE__"',
        '$context.error.messageString',
      );
    const responses: [string, apigateway.ResponseType, string][] = [
      ['InvalidBody', apigateway.ResponseType.BAD_REQUEST_BODY, 'InvalidRequestError'],
      ['InvalidParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, 'InvalidRequestError'],
      ['Throttled', apigateway.ResponseType.THROTTLED, 'TooManyRequestsError'],
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '$context.error.responseType'],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '$context.error.responseType'],
    ];
    for (const [id, type, code] of responses) {
      this.api.addGatewayResponse(id, {
        type,
        templates: { 'application/json': body(code) },
        // as the handler answers its own 429 (the engine throttled): a retry is welcome, shortly
        ...(type === apigateway.ResponseType.THROTTLED ? { responseHeaders: { 'Retry-After': "'1'" } } : {}),
      });
    }
  }
}

/**
 * The parameters API Gateway checks before the Lambda runs: every path segment and every required query
 * parameter must be present; optional ones and the Idempotency-Key are declared, not required. The handler checks
 * every value and names a bad one.
 */
function requestParametersOf(route: ApiRouteSpec): Record<string, boolean> {
  const where = { path: 'path', query: 'querystring', header: 'header' } as const;
  return Object.fromEntries(
    parametersOf(route).map((parameter) => [
      `method.request.${where[parameter.in]}.${parameter.name}`,
      parameter.required,
    ]),
  );
}
