import { SFNClient } from '@aws-sdk/client-sfn';
import { logger, traced } from '../shared/powertools';
import { redactSecrets } from '../shared/redact';
import { readSettings } from '../shared/settings';
import { STATE_MACHINE_ARN_ENV, WORKFLOWS, type WorkflowName } from './engine';
import { type ApiDeps, type ApiResponse, handleApiRequest } from './router';
import { sfnEngine } from './sfn-engine';

/** The fields of API Gateway's REST proxy event the API reads (`@types/aws-lambda` is not a dependency). */
export interface ApiGatewayProxyEvent {
  readonly httpMethod: string;
  /** the resource path, without the stage */
  readonly path: string;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

let deps: ApiDeps | undefined;

/** Once per container. A bad setting or a missing ARN fails the invocation: API Gateway answers a bare 502. */
function dependencies(env = process.env): ApiDeps {
  const stateMachines = Object.fromEntries(
    WORKFLOWS.map((workflow) => [workflow, env[STATE_MACHINE_ARN_ENV[workflow]]]),
  ) as Partial<Record<WorkflowName, string>>;
  const missing = WORKFLOWS.filter((workflow) => !stateMachines[workflow]).map((w) => STATE_MACHINE_ARN_ENV[w]);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} must be set`);
  deps ??= {
    settings: readSettings(),
    engine: sfnEngine(traced(new SFNClient({})), { stateMachines: stateMachines as Record<WorkflowName, string> }),
    // a 500 answers nothing of its cause; the log says it, without request bodies or secrets
    onInternalError: (error) => {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      logger.error('request failed', { errorName: name, errorMessage: redactSecrets(message) });
    },
  };
  return deps;
}

/** API Gateway (REST API, Lambda proxy integration) → the router. */
export async function handler(event: ApiGatewayProxyEvent): Promise<ApiResponse> {
  const defined = (record: ApiGatewayProxyEvent['headers']) =>
    Object.entries(record ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const headers = Object.fromEntries(defined(event.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const request = { method: event.httpMethod, path: event.path, headers, body: body ?? undefined };
  return handleApiRequest(
    { ...request, query: Object.fromEntries(defined(event.queryStringParameters)) },
    dependencies(),
  );
}
