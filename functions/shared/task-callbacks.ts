import type * as SfnSdk from '@aws-sdk/client-sfn';
import { translateAwsError } from './aws-errors';
import { endpointOverride } from './local-endpoint';
import { withoutSecret } from './redact';
import { sdkClient } from './sdk-clients';
import type { Settings } from './settings';

/*
 * Completes a task that waits for a task token (`.waitForTaskToken`). Deployed, Step Functions; locally, the local
 * runtime's stand-in (setting stepFunctionsEndpoint). The token is a capability: it never appears in what this
 * returns, throws or logs.
 */

/**
 * What became of a task success: delivered, or the task is gone: its wait timed out (the workflow polls instead),
 * its execution ended, or the token is not one Step Functions knows. A task that is gone needs nothing more.
 */
export type Delivery = 'delivered' | 'task-gone';

export interface TaskCallbacks {
  /** completes the task of `taskToken` with `output` (JSON) */
  succeed(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<Delivery>;
}

/** Step Functions' answers to a token whose task no longer waits (SendTaskSuccess's documented errors). */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Whether an error of SendTaskSuccess means the task no longer waits. */
export function taskGone(error: unknown): boolean {
  return TASK_GONE.has((error as { name?: string } | null)?.name ?? '');
}

/**
 * The Step Functions SDK, loaded by the first call rather than with the step (ADR 0016): a step that finds no wait to
 * complete never calls it. `require`, not `import()`: the bundle is CommonJS, and the SDK the Lambda runtime
 * provides is found through NODE_PATH, which only `require` consults.
 */
const sdk = () => require('@aws-sdk/client-sfn') as typeof SfnSdk;

/** The Step Functions client, with the local runtime's endpoint when a local run gives one. */
function sfnClient(settings: Settings): SfnSdk.SFNClient {
  const endpoint = settings.stepFunctionsEndpoint;
  return sdkClient('sfn', endpoint, settings.requestTimeoutSeconds * 1000, (requestHandler) => {
    return new (sdk().SFNClient)({ ...endpointOverride(endpoint), requestHandler });
  });
}

/**
 * Task callbacks through Step Functions, each call bounded by the request timeout: throttling, 5xx, network and
 * timeouts become TransientServiceError; a task that is gone is an answer, not an error.
 */
export function stepFunctionsTaskCallbacks(settings: Settings): TaskCallbacks {
  const seconds = settings.requestTimeoutSeconds;
  return {
    async succeed(taskToken, output) {
      try {
        await sfnClient(settings).send(
          new (sdk().SendTaskSuccessCommand)({ taskToken, output: JSON.stringify(output) }),
          {
            abortSignal: AbortSignal.timeout(seconds * 1000),
          },
        );
        return 'delivered';
      } catch (error) {
        if (taskGone(error)) return 'task-gone';
        const translated = translateAwsError(error, {
          service: 'Step Functions',
          target: 'task success',
          timeoutSeconds: seconds,
          transientNames: /Throttl|TooManyRequests|ServiceUnavailable|InternalServerError|InternalFailure/,
        });
        throw withoutSecret(translated, taskToken);
      }
    },
  };
}
