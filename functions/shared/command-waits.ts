import type * as DynamoDbSdk from '@aws-sdk/client-dynamodb';
import { translateAwsError } from './aws-errors';
import { endpointOverride } from './local-endpoint';
import { withoutSecret } from './redact';
import { sdkClient } from './sdk-clients';
import type { Settings } from './settings';

/*
 * The host commands a workflow waits on (docs/adr/0017-event-driven-host-command.md): one wait per command and
 * host, holding the Step Functions task token that resumes the workflow when SSM reports the command's end. A task
 * token is a capability (whoever holds it can complete the task): it is stored only here, expires with the wait,
 * is deleted by the one who uses it, and never appears in a log, a result or an error.
 */

/** One workflow waiting for a command on a host. */
export interface CommandWait {
  readonly commandId: string;
  readonly instanceId: string;
  /** the task token of the waiting state: a secret */
  readonly taskToken: string;
  /** when the wait is worthless (its token has timed out); the store may forget it from then on */
  readonly expiresAt: Date;
  /** the execution waiting, for whoever reads the table */
  readonly operationId: string;
}

export interface CommandWaits {
  /** stores a wait, replacing an earlier one of the same command and host (a new token per wait) */
  put(wait: CommandWait): Promise<void>;
  /**
   * Removes the wait of a command and host and returns its token, or null when there is none. Atomic: of two
   * callers, one gets the token and the other null, so a task is completed at most once.
   */
  take(commandId: string, instanceId: string): Promise<string | null>;
}

/**
 * SSM invocation statuses after which the command may still change: every other status is its end (Success,
 * Failed, TimedOut, Cancelled, and the not-delivered ones). The same set CheckHostCommand keeps polling for.
 */
export const RUNNING_STATUSES: readonly string[] = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];
const RUNNING = new Set(RUNNING_STATUSES);

/** Whether an SSM invocation status means the command has ended: the waiting workflow should look now. */
export function commandEnded(status: string): boolean {
  return !RUNNING.has(status);
}

/** The key of the wait of one command on one host: a command id is a UUID, an instance id has no '/'. */
export function waitKey(commandId: string, instanceId: string): string {
  return `${commandId}/${instanceId}`;
}

/**
 * The DynamoDB SDK, loaded by the first call rather than with the step (ADR 0016): its load was a third of a small
 * step's cold start, and a step that finds its command ended at once never calls it. `require`, not `import()`: the
 * bundle is CommonJS, and the SDK the Lambda runtime provides is found through NODE_PATH, which only `require`
 * consults.
 */
const sdk = () => require('@aws-sdk/client-dynamodb') as typeof DynamoDbSdk;

/** The DynamoDB client of a Lambda (or of a local run, against the sandbox's endpoint). */
function dynamodbClient(settings: Settings): DynamoDbSdk.DynamoDBClient {
  const endpoint = settings.dynamodbEndpoint;
  return sdkClient('dynamodb', endpoint, settings.requestTimeoutSeconds * 1000, (requestHandler) => {
    return new (sdk().DynamoDBClient)({ ...endpointOverride(endpoint), requestHandler });
  });
}

/**
 * The waits in the DynamoDB table `table` (key `id`, TTL attribute `expiresAt` in epoch seconds). Every call is
 * bounded by the request timeout and classified once: throttling, 5xx, network and timeouts are
 * TransientServiceError, which the workflow retries.
 */
export function dynamodbCommandWaits(settings: Settings, table: string): CommandWaits {
  const seconds = settings.requestTimeoutSeconds;
  async function call<Output>(
    target: string,
    secret: string | undefined,
    send: (client: DynamoDbSdk.DynamoDBClient, abortSignal: AbortSignal) => Promise<Output>,
  ): Promise<Output> {
    try {
      return await send(dynamodbClient(settings), AbortSignal.timeout(seconds * 1000));
    } catch (error) {
      const translated = translateAwsError(error, {
        service: 'DynamoDB',
        target,
        timeoutSeconds: seconds,
        transientNames:
          /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable/,
      });
      throw secret ? withoutSecret(translated, secret) : translated;
    }
  }
  return {
    async put(wait) {
      const id = waitKey(wait.commandId, wait.instanceId);
      await call(`wait ${id} in table ${table}`, wait.taskToken, (client, abortSignal) =>
        client.send(
          new (sdk().PutItemCommand)({
            TableName: table,
            Item: {
              id: { S: id },
              taskToken: { S: wait.taskToken },
              expiresAt: { N: String(Math.ceil(wait.expiresAt.getTime() / 1000)) },
              operationId: { S: wait.operationId },
            },
          }),
          { abortSignal },
        ),
      );
    },
    async take(commandId, instanceId) {
      const id = waitKey(commandId, instanceId);
      const { Attributes } = await call(`wait ${id} in table ${table}`, undefined, (client, abortSignal) =>
        client.send(
          new (sdk().DeleteItemCommand)({ TableName: table, Key: { id: { S: id } }, ReturnValues: 'ALL_OLD' }),
          { abortSignal },
        ),
      );
      return Attributes?.taskToken?.S ?? null;
    },
  };
}
