import { TransientServiceError } from './errors';
import { retryAfterSeconds, retryHint, transportFailure } from './transport';

/** What an AWS SDK v3 error carries that tells a busy service from a refused request. */
interface AwsFailure {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Record<string, string> };
}

export interface AwsCall {
  /** the service as a person names it: `SSM`, `S3`, `SQS` */
  readonly service: string;
  /** what the call was about (an instance, an object key, a queue), for the message */
  readonly target: string;
  /** the client-side timeout the call ran under */
  readonly timeoutSeconds: number;
  /** the service's own names for "busy, try again" (throttling, internal errors), beside 429 and 5xx */
  readonly transientNames: RegExp;
}

/**
 * Classifies a failed AWS SDK call once, for every service adapter: throttling (with the server's Retry-After as a
 * hint), 5xx, refused or reset connections, DNS failures and the client-side timeout become TransientServiceError,
 * which the workflow (or SQS) retries; anything else (access denied, a missing bucket) is returned as it is.
 */
export function translateAwsError(error: unknown, call: AwsCall): Error {
  const failure = (error ?? {}) as AwsFailure;
  const transport = transportFailure(error);
  if (transport === 'timeout') {
    return new TransientServiceError(`${call.service} did not answer within ${call.timeoutSeconds} s (${call.target})`);
  }
  if (transport === 'network') {
    return new TransientServiceError(
      `${call.service} could not be reached (${call.target}): ${failure.message ?? String(error)}`,
    );
  }
  const name = failure.name ?? '';
  const status = failure.$metadata?.httpStatusCode;
  if (call.transientNames.test(name) || status === 429 || (status !== undefined && status >= 500)) {
    const hint = retryHint(retryAfterSeconds(failure.$response?.headers?.['retry-after']));
    return new TransientServiceError(`${call.service} ${name} (${call.target}): ${failure.message ?? ''}${hint}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
