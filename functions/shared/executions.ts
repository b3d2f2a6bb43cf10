import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { TransientServiceError } from './errors';
import type { ExecutionStatus, ExecutionStatusPort } from './node-lock';
import { parseExecutionArn } from './node-lock';
import { logger, traced } from './powertools';

/*
 * Whether the execution holding a lock still runs. Deployed, Step Functions knows (DescribeExecution); locally, the
 * local runtime keeps one JSON record per execution. `unknown` makes the lock fall back to the Lease's expiry, so a
 * holder whose status cannot be read still frees its lock, only later.
 */

/** Step Functions statuses after which the execution never touches the node again. */
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
/** A redrivable failed execution that is being redriven runs again; until then it does nothing. */
const RUNNING = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** Error names of the SDK (and Step Functions) that mean "ask again shortly". */
const TRANSIENT_SDK_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EPIPE)$/;

/** Local runs use placeholder region and account; Step Functions cannot know those executions. */
const LOCAL_ACCOUNT = '000000000000';

/** The one call the port makes; an SFNClient is one. */
export interface DescribeExecutionClient {
  send(command: DescribeExecutionCommand): Promise<{ readonly status?: string }>;
}

/**
 * DescribeExecution for holders that are Step Functions execution ARNs. An execution Step Functions no longer knows
 * has ended (closed executions are kept 90 days); a holder that is not an ARN of a real account is `unknown`.
 */
export function stepFunctionsExecutionStatus(client: DescribeExecutionClient): ExecutionStatusPort {
  return {
    async statusOf(holderId) {
      const arn = parseExecutionArn(holderId);
      if (!arn || arn.account === LOCAL_ACCOUNT || arn.region === 'local') return 'unknown';
      try {
        const { status } = await client.send(new (sfnSdk().DescribeExecutionCommand)({ executionArn: holderId }));
        if (status && ENDED.has(status)) return 'ended';
        if (status && RUNNING.has(status)) return 'running';
        return 'unknown';
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        if (name === 'ExecutionDoesNotExist') return 'ended';
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        const code = (error as { code?: string }).code ?? '';
        if (TRANSIENT_SDK_ERRORS.has(name) || status >= 500 || NETWORK_CODES.test(code)) {
          throw new TransientServiceError(`describing execution ${holderId}: ${name || code || 'network error'}`);
        }
        // AccessDenied, an ARN of another account or region: the Lease's expiry decides, and the log says why.
        logger.warn('cannot read the status of a lock holder; its Lease frees itself when it expires', {
          holder: holderId,
          errorName: name,
        });
        return 'unknown';
      }
    },
  };
}

/** One record of the local runtime's execution registry (`<dir>/<executionName>.json`). */
export interface LocalExecutionRecord {
  readonly name: string;
  readonly arn?: string;
  readonly workflow?: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly pid?: number;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

/** Step Functions' rule for execution names; it also keeps a name from leaving the registry directory. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The local runtime's registry: a holder is running when its record says RUNNING and its process is alive (a
 * killed `edgekeeper` leaves RUNNING behind), ended when the record says so or the process is gone, and unknown when
 * there is no record of it here (an execution of another machine or of the deployed stack).
 */
export function localExecutionStatus(
  dir: string,
  isAlive: (pid: number) => boolean = processIsAlive,
): ExecutionStatusPort {
  return {
    async statusOf(holderId) {
      const name = parseExecutionArn(holderId)?.name;
      if (!name || !EXECUTION_NAME.test(name)) return 'unknown';
      let record: LocalExecutionRecord;
      try {
        record = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as LocalExecutionRecord;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'unknown';
        // The runtime writes records whole (temp file and rename): a torn one is not a record of this holder.
        if (error instanceof SyntaxError) return 'unknown';
        throw error;
      }
      // Another workflow's execution of the same name is not this holder.
      if (record.arn && record.arn !== holderId) return 'unknown';
      if (record.status !== 'RUNNING') return 'ended';
      if (typeof record.pid !== 'number') return 'unknown';
      return isAlive(record.pid) ? 'running' : 'ended';
    },
  };
}

/** Signal 0 tests for a process without touching it; EPERM means it exists under another user. */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The Step Functions SDK, loaded by the first question rather than with the step: most lock operations never ask
 * one (ADR 0016). `require`, not `import()`: the bundle is CommonJS, and the SDK the Lambda runtime provides is
 * found through NODE_PATH, which only `require` consults.
 */
const sfnSdk = () => require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn');

let sfn: SFNClient | undefined;

/** The registry when the local runtime gave one (setting localExecutionsDir), Step Functions otherwise. */
export function executionStatusPort(localExecutionsDir: string | undefined): ExecutionStatusPort {
  if (localExecutionsDir) return localExecutionStatus(localExecutionsDir);
  return stepFunctionsExecutionStatus({
    send: (command) => {
      // Well inside a step's Lambda timeout: a stalled endpoint fails this call, and the step's retry decides.
      sfn ??= traced(new (sfnSdk().SFNClient)({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 } }));
      return sfn.send(command);
    },
  });
}

export type { ExecutionStatus };
