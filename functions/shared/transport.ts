/**
 * What the Kubernetes and SSM adapters share about calls that leave the Lambda: which failures are the network's
 * or the server's (worth a retry) rather than the request's. How long one call may take is the
 * `requestTimeoutSeconds` setting: well inside the Lambda timeout, so a frozen server gives a named error the
 * workflow retries instead of a step that hangs until Lambda kills it.
 */

/** Socket and DNS failures: the request may never have reached the server, and the next try may. */
const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EPIPE|UND_ERR)/;

const NETWORK_IN_MESSAGE =
  /\b(connect|read|write|getaddrinfo) (ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)\b|\bsocket hang up\b/;

/**
 * Why a failure is the transport's, or undefined when it is not: a refused, reset or timed-out connection, a DNS
 * failure, or a call the client-side timeout aborted. Reads `code` on the error and on its `cause` (fetch wraps
 * the socket error), and the `type`/`name` the HTTP clients use for their own timeouts and aborts.
 */
export function transportFailure(error: unknown): 'timeout' | 'network' | undefined {
  const failure = error as { name?: unknown; code?: unknown; type?: unknown; cause?: { code?: unknown } } | null;
  if (!failure || typeof failure !== 'object') return undefined;
  const code = failure.cause?.code ?? failure.code;
  // before the names: the AWS SDK calls a reset socket a TimeoutError, with code ECONNRESET
  if (typeof code === 'string' && NETWORK_CODES.test(code)) return 'network';
  // an SDK retry wrapper can keep only the message (`connect ECONNREFUSED 10.0.0.1:443`) of a foreign Error
  const message = (failure as { message?: unknown }).message;
  if (typeof message === 'string' && NETWORK_IN_MESSAGE.test(message)) return 'network';
  // node-fetch reports an aborted request as AbortError (type 'aborted'), the AWS SDK as AbortError or TimeoutError
  const name = failure.name;
  if (name === 'AbortError' || name === 'TimeoutError' || failure.type === 'aborted') return 'timeout';
  return failure.type === 'request-timeout' ? 'timeout' : undefined;
}

/**
 * The server's `Retry-After` (seconds or an HTTP date) as whole seconds from `now`, or undefined when absent or
 * unreadable. The workflow's retrier decides when to retry; the hint goes into the error message for people.
 */
export function retryAfterSeconds(value: unknown, now: Date = new Date()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** `; the server asks to retry after 5 s`, or nothing. */
export function retryHint(seconds: number | undefined): string {
  return seconds === undefined ? '' : `; the server asks to retry after ${seconds} s`;
}
