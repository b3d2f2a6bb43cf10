import { nextPollDelay } from '../shared/backoff';
import { EdgekeeperError } from '../shared/errors';
import { HostUnreachableError, type Invocation } from '../shared/host-commands';

/** The script ran and failed; the message names the failing step and ends with the stderr tail. */
export class HostScriptFailedError extends EdgekeeperError {
  override readonly name = 'HostScriptFailedError';
}

/** The script did not finish within the host command timeout; it was cancelled. */
export class HostScriptTimedOutError extends EdgekeeperError {
  override readonly name = 'HostScriptTimedOutError';
}

/** SSM statuses that mean the command is still on its way or running. */
const RUNNING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
/** SSM statuses that mean the host never ran the command. */
const NOT_DELIVERED = new Set(['Undeliverable', 'DeliveryTimedOut', 'Terminated']);

export type CommandVerdict =
  | { readonly status: 'InProgress'; readonly waitSeconds: number }
  | { readonly status: 'Success'; readonly invocation: Invocation }
  | { readonly status: 'TimedOut' };

/**
 * Decides what one poll of a host command means: keep waiting (with backoff, never past the deadline), done, or a
 * named failure. `describeFailure` turns a failed run into the message a person needs.
 * @throws HostScriptFailedError, HostScriptTimedOutError, HostUnreachableError
 */
export function judgeInvocation(
  invocation: Invocation | null,
  poll: { readonly instanceId: string; readonly attempt: number; readonly startedAtMs: number },
  nowMs: number,
  timeoutSeconds: number,
  describeFailure: (invocation: Invocation) => string,
): CommandVerdict {
  const status = invocation?.status ?? 'Pending';
  if (status === 'Success' && invocation) return { status: 'Success', invocation };
  if (status === 'Failed' && invocation) throw new HostScriptFailedError(describeFailure(invocation));
  if (status === 'TimedOut' || status === 'ExecutionTimedOut') {
    throw new HostScriptTimedOutError(
      `the script on ${poll.instanceId} ran longer than ${timeoutSeconds} s and was stopped`,
    );
  }
  if (status === 'Cancelled') throw new HostScriptFailedError(`the script on ${poll.instanceId} was cancelled`);
  if (NOT_DELIVERED.has(status)) {
    throw new HostUnreachableError(
      `instanceId ${poll.instanceId} did not receive the command (${status}): the host is offline or its SSM agent is stopped`,
    );
  }
  if (!RUNNING.has(status))
    throw new HostScriptFailedError(`the script on ${poll.instanceId} ended with status ${status}`);
  const remainingSeconds = Math.floor((poll.startedAtMs + timeoutSeconds * 1000 - nowMs) / 1000);
  if (remainingSeconds <= 0) return { status: 'TimedOut' };
  return { status: 'InProgress', waitSeconds: Math.max(1, Math.min(nextPollDelay(poll.attempt), remainingSeconds)) };
}
