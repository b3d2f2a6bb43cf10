import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { API_ROUTES } from '../../functions/api/routes';
import { type Grant, grantsOf } from '../../lib/iam-table';
import { API_STAGE_NAME } from '../../lib/openapi';
import { synthTemplate } from './synth';

const API_DIR = join(__dirname, '..', '..', 'functions', 'api');

const { template } = synthTemplate();
const json = template.toJSON() as Parameters<typeof grantsOf>[0];

type Resource = { Properties: Record<string, unknown> };

const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;

/** Every API Gateway method as `METHOD /path`, with its properties; the path is rebuilt from the resource tree. */
function methods(): { route: string; properties: Record<string, unknown> }[] {
  const resources = resourcesOf('AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    const resource = id ? resources[id] : undefined;
    if (!resource) return '';
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart as string}`;
  };
  return Object.values(resourcesOf('AWS::ApiGateway::Method')).map(({ Properties }) => ({
    route: `${Properties.HttpMethod as string} ${pathOf(Properties.ResourceId) || '/'}`,
    properties: Properties,
  }));
}

/** The role of the API's Lambda, by the readable id the IAM table uses. */
function apiRole(): string {
  const fn = Object.values(resourcesOf('AWS::Lambda::Function')).find((f) =>
    JSON.stringify(f.Properties.Environment).includes('EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN'),
  );
  const roleId = (fn?.Properties.Role as { 'Fn::GetAtt': string[] } | undefined)?.['Fn::GetAtt'][0];
  if (!roleId) throw new Error('no function has the state machine ARNs in its environment');
  return roleId.replace(/[0-9A-F]{8}$/, '');
}

const stage = () => {
  const stages = Object.values(resourcesOf('AWS::ApiGateway::Stage'));
  expect(stages).toHaveLength(1);
  return stages[0]?.Properties as Record<string, unknown>;
};

describe('the REST API', () => {
  it('has exactly one method per route of functions/api/routes.ts', () => {
    const deployed = methods()
      .map((method) => method.route)
      .filter((route) => !route.startsWith('OPTIONS '))
      .sort();
    expect(deployed).toEqual(API_ROUTES.map((route) => `${route.method} ${route.path}`).sort());
  });

  it('authorizes every method but OPTIONS with IAM and checks it with the body-and-parameters validator', () => {
    const validators = Object.entries(resourcesOf('AWS::ApiGateway::RequestValidator'));
    expect(validators.map(([, validator]) => validator.Properties)).toEqual([
      expect.objectContaining({ ValidateRequestBody: true, ValidateRequestParameters: true }),
    ]);
    const [validatorId] = validators[0] ?? [];
    for (const { route, properties } of methods().filter((method) => !method.route.startsWith('OPTIONS '))) {
      expect([route, properties.AuthorizationType, properties.RequestValidatorId]).toEqual([
        route,
        'AWS_IAM',
        { Ref: validatorId },
      ]);
    }
  });

  it('validates each body against a model generated from its zod schema, and requires every path parameter', () => {
    const models = resourcesOf('AWS::ApiGateway::Model');
    for (const route of API_ROUTES) {
      const method = methods().find((m) => m.route === `${route.method} ${route.path}`);
      const parameters = (method?.properties.RequestParameters ?? {}) as Record<string, boolean>;
      for (const name of route.path.match(/\{([^}]+)\}/g) ?? [])
        expect([route.path, parameters[`method.request.path.${name.slice(1, -1)}`]]).toEqual([route.path, true]);
      const model = (method?.properties.RequestModels as Record<string, { Ref: string }> | undefined)?.[
        'application/json'
      ];
      if (!('body' in route)) {
        expect([route.path, model]).toEqual([route.path, undefined]);
        continue;
      }
      const schema = models[model?.Ref ?? '']?.Properties.Schema as Record<string, unknown>;
      expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' });
    }
  });

  it('lets the API start, list and follow only edgekeeper’s five workflows and their executions', () => {
    const role = apiRole();
    const states = grantsOf(json).filter((grant: Grant) => grant.role === role && grant.action.startsWith('states:'));
    const onMachines = states.filter((g) => ['states:StartExecution', 'states:ListExecutions'].includes(g.action));
    const onExecutions = states.filter((g) =>
      ['states:DescribeExecution', 'states:GetExecutionHistory'].includes(g.action),
    );
    expect(onMachines.length + onExecutions.length).toBe(states.length);
    expect([...new Set(onMachines.map((g) => g.resource))].sort()).toEqual([
      '<WorkflowsBatchOnboard>',
      '<WorkflowsBatchRemove>',
      '<WorkflowsDriftCheck>',
      '<WorkflowsOnboardNode>',
      '<WorkflowsRemoveNode>',
    ]);
    expect([...new Set(onExecutions.map((g) => g.resource))].sort()).toEqual([
      'arn:<partition>:states:<region>:<account>:execution:Edgekeeper-batch-onboard:*',
      'arn:<partition>:states:<region>:<account>:execution:Edgekeeper-batch-remove:*',
      'arn:<partition>:states:<region>:<account>:execution:Edgekeeper-drift-check:*',
      'arn:<partition>:states:<region>:<account>:execution:Edgekeeper-onboard-node:*',
      'arn:<partition>:states:<region>:<account>:execution:Edgekeeper-remove-node:*',
    ]);
    expect(new Set(states.map((g) => g.action))).toEqual(
      new Set([
        'states:StartExecution',
        'states:ListExecutions',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
      ]),
    );
  });

  it('grants exactly the Step Functions calls the API code makes, so a new call cannot go ungranted', () => {
    const called = new Set<string>();
    for (const file of readdirSync(API_DIR).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(join(API_DIR, file), 'utf8');
      for (const imported of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-sfn'/g))
        for (const name of (imported[1] ?? '').matchAll(/(?<!type\s)\b(\w+)Command\b/g))
          called.add(`states:${name[1]}`);
    }
    const role = apiRole();
    const granted = grantsOf(json)
      .filter((grant) => grant.role === role && grant.action.startsWith('states:'))
      .map((grant) => grant.action);
    expect(called.size).toBeGreaterThan(0);
    expect([...new Set(granted)].sort()).toEqual([...called].sort());
  });

  it('reads the drift-report bucket’s latest.json and nothing else of it', () => {
    const role = apiRole();
    const s3 = grantsOf(json).filter((grant: Grant) => grant.role === role && grant.action.startsWith('s3:'));
    expect(s3.map((g) => [g.action, g.resource]).sort()).toEqual([
      ['s3:GetObject', '<DriftReportsBucket.Arn>/drift-reports/latest.json'],
      ['s3:ListBucket', '<DriftReportsBucket.Arn>'],
    ]);
  });

  it('gives the API function every state machine ARN, the report bucket and the step settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^WorkflowsOnboardNode[0-9A-F]{8}$') },
          EDGEKEEPER_REMOVE_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^WorkflowsRemoveNode[0-9A-F]{8}$') },
          EDGEKEEPER_BATCH_ONBOARD_STATE_MACHINE_ARN: {
            Ref: Match.stringLikeRegexp('^WorkflowsBatchOnboard[0-9A-F]{8}$'),
          },
          EDGEKEEPER_BATCH_REMOVE_STATE_MACHINE_ARN: {
            Ref: Match.stringLikeRegexp('^WorkflowsBatchRemove[0-9A-F]{8}$'),
          },
          EDGEKEEPER_DRIFT_CHECK_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^WorkflowsDriftCheck[0-9A-F]{8}$') },
          EDGEKEEPER_DRIFT_REPORT_BUCKET: { Ref: Match.stringLikeRegexp('^DriftReports') },
          EDGEKEEPER_KUBECONFIG_PARAMETER: '/edgekeeper/kubeconfig',
          POWERTOOLS_SERVICE_NAME: 'edgekeeper',
        },
      },
    });
  });

  it('writes access logs that name the caller and the outcome and never hold a body or header value', () => {
    const { AccessLogSetting } = stage() as { AccessLogSetting: { Format: string } };
    const format = JSON.parse(AccessLogSetting.Format) as Record<string, string>;
    for (const variable of [
      '$context.requestId',
      '$context.identity.sourceIp',
      '$context.identity.userArn',
      '$context.httpMethod',
      '$context.path',
      '$context.status',
      '$context.responseLatency',
    ])
      expect(Object.values(format)).toContain(variable);
    for (const value of Object.values(format)) {
      expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(value).not.toMatch(/body|header|requestOverride|responseOverride|authorizer/i);
    }
  });

  it('throttles the stage, logs execution errors without request data, and names the stage as the document does', () => {
    expect(stage()).toMatchObject({
      StageName: API_STAGE_NAME,
      MethodSettings: [
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  it('creates the account’s logging role unless the settings say the account has one', () => {
    expect(Object.keys(resourcesOf('AWS::ApiGateway::Account'))).toHaveLength(1);
    const settings = { api: { throttlingRateLimit: 3, throttlingBurstLimit: 7, cloudWatchRole: false } };
    const other = synthTemplate(settings).template;
    other.resourceCountIs('AWS::ApiGateway::Account', 0);
    // and follows the throttling settings
    const stages = Object.values(other.findResources('AWS::ApiGateway::Stage'));
    expect(stages[0]?.Properties.MethodSettings).toEqual([
      expect.objectContaining({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 7 }),
    ]);
  });

  it('answers its own errors (IAM refusal, throttling, validation) in the ApiError shape', () => {
    const responses = Object.values(resourcesOf('AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties);
    expect(responses.map((r) => r.ResponseType).sort()).toEqual(
      ['BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS', 'DEFAULT_4XX', 'DEFAULT_5XX', 'THROTTLED'].sort(),
    );
    for (const response of responses) {
      const templateText = (response.ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      // as API Gateway fills it in: messageString is a quoted JSON string
      const body = JSON.parse(
        templateText.replace('$context.error.messageString', '"Forbidden"').replace('$context.error.responseType', 'X'),
      );
      expect(body).toEqual({ code: expect.any(String), message: 'Forbidden', details: [] });
    }
    const throttled = responses.find((r) => r.ResponseType === 'THROTTLED');
    expect(throttled?.ResponseParameters).toEqual({ 'gatewayresponse.header.Retry-After': "'1'" });
  });

  it('is regional and outputs its URL', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasOutput('ApiUrl', {});
  });
});
