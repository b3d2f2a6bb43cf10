import { nextPollDelay } from '../shared/backoff';
import { EdgekeeperError } from '../shared/errors';
import { HostUnreachableError, type Invocation } from '../shared/host-commands';
import { joinFailureChangedHost, parseScriptFailure } from '../shared/join-script-failures';
import {
  assertHostClean,
  hostServesAnotherNode,
  parseResetReport,
  RESET_EXIT_LEFTOVERS,
  RESET_EXIT_NOT_ROOT,
  RESET_EXIT_OTHER_NODE,
  type ResetReport,
} from '../shared/reset-script';

/** The script ran and failed; the message names the failing step and ends with the stderr tail. */
export class HostScriptFailedError extends EdgekeeperError {
  override readonly name = 'HostScriptFailedError';
}

/**
 * The join script failed in a step that only looks at the host (its token check or preflight): the host is exactly
 * as it was, so the rollback must not reset it. The workflow catches this name and rolls back with
 * `hostChanged: false`. The message is the same as HostScriptFailedError's.
 */
export class JoinPreflightFailedError extends EdgekeeperError {
  override readonly name = 'JoinPreflightFailedError';
  /** for readers of the error object; the workflow decides by the name */
  readonly hostChanged = false;
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
 * named failure. `failureOf` turns a failed run into the error a person (and the workflow) needs.
 * @throws the error of `failureOf`, HostScriptFailedError, HostScriptTimedOutError, HostUnreachableError
 */
export function judgeInvocation(
  invocation: Invocation | null,
  poll: { readonly instanceId: string; readonly attempt: number; readonly startedAtMs: number },
  nowMs: number,
  timeoutSeconds: number,
  failureOf: (invocation: Invocation) => Error,
): CommandVerdict {
  const status = invocation?.status ?? 'Pending';
  if (status === 'Success' && invocation) return { status: 'Success', invocation };
  if (status === 'Failed' && invocation) throw failureOf(invocation);
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

/** The narrow SSM port of this step. */
export interface HostCommandPort {
  /** null while SSM has not created the invocation yet */
  readInvocation(commandId: string, instanceId: string): Promise<Invocation | null>;
  /** best effort: a command that already ended is not an error */
  cancelCommand(commandId: string, instanceId: string): Promise<void>;
}

/** One poll of a host script, as the workflow carries it between checks. */
export interface HostCommandPoll {
  readonly commandId: string;
  readonly instanceId: string;
  readonly startedAt: string;
  readonly attempt: number;
  /** which script runs: it decides how a failure is explained and what a success reports */
  readonly script: 'join' | 'reset';
  /** the node the script is for (the reset report is checked against it); defaults to the instance id */
  readonly nodeName?: string;
}

/** What the check tells the workflow: wait `waitSeconds` and check again, or go on. */
export interface HostCommandCheck {
  readonly commandId: string;
  readonly instanceId: string;
  readonly startedAt: string;
  readonly attempt: number;
  readonly status: 'InProgress' | 'Success';
  readonly waitSeconds: number;
  /** what a clean reset removed; null for a join or while running */
  readonly report: ReturnType<typeof summarize> | null;
}

/**
 * Checks a host script once. A join that failed in its read-only steps fails with JoinPreflightFailedError (the
 * host is unchanged), any other failure with HostScriptFailedError; a reset that left something behind fails with
 * HostResetIncompleteError naming it. A script past the host command timeout is cancelled and fails with
 * HostScriptTimedOutError.
 */
export async function checkHostCommand(
  port: HostCommandPort,
  poll: HostCommandPoll,
  clock: { readonly nowMs: number; readonly timeoutSeconds: number },
): Promise<HostCommandCheck> {
  const { commandId, instanceId, startedAt } = poll;
  const nodeName = poll.nodeName ?? instanceId;
  const verdict = judgeInvocation(
    await port.readInvocation(commandId, instanceId),
    { instanceId, attempt: poll.attempt, startedAtMs: Date.parse(startedAt) },
    clock.nowMs,
    clock.timeoutSeconds,
    (failed) => (poll.script === 'reset' ? resetFailure(nodeName, instanceId, failed) : joinFailure(failed)),
  );
  if (verdict.status === 'TimedOut') {
    await port.cancelCommand(commandId, instanceId);
    throw new HostScriptTimedOutError(
      `the script on ${instanceId} ran longer than ${clock.timeoutSeconds} s and was cancelled`,
    );
  }
  const next = { commandId, instanceId, startedAt, attempt: poll.attempt + 1 };
  if (verdict.status === 'InProgress') {
    return { ...next, status: 'InProgress', waitSeconds: verdict.waitSeconds, report: null };
  }
  const report =
    poll.script === 'reset' ? assertHostClean(nodeName, instanceId, parseResetReport(verdict.invocation.stdout)) : null;
  return { ...next, status: 'Success', waitSeconds: 0, report: report && summarize(report) };
}

function joinFailure({ responseCode, stdout, stderr }: Invocation): Error {
  const message = parseScriptFailure(responseCode, stdout, stderr);
  return joinFailureChangedHost(responseCode, stdout, stderr)
    ? new HostScriptFailedError(message)
    : new JoinPreflightFailedError(message);
}

/** A reset that left things behind says what; one that broke says how it ended. */
function resetFailure(nodeName: string, instanceId: string, invocation: Invocation): Error {
  if (invocation.responseCode === RESET_EXIT_LEFTOVERS) {
    try {
      assertHostClean(nodeName, instanceId, parseResetReport(invocation.stdout));
    } catch (error) {
      return new HostScriptFailedError((error as Error).message);
    }
  }
  if (invocation.responseCode === RESET_EXIT_OTHER_NODE)
    return hostServesAnotherNode(nodeName, instanceId, invocation.stdout);
  if (invocation.responseCode === RESET_EXIT_NOT_ROOT) {
    return new HostScriptFailedError(
      `the reset script on ${instanceId} must run as root (SSM runs scripts as root unless the agent was changed)`,
    );
  }
  const tail = invocation.stderr.trimEnd().split('\n').slice(-10).join('\n');
  return new HostScriptFailedError(
    `the reset script on ${instanceId} failed with exit code ${invocation.responseCode}${tail ? `: ${tail}` : ''}`,
  );
}

/** What the removal result shows of a clean reset. */
function summarize(report: ResetReport) {
  const { keadm, edgecore, mosquitto, edgemesh, removed, unmounted, lazyUnmounted } = report;
  return { keadm, edgecore, mosquitto, edgemesh, removed, unmounted: [...unmounted, ...lazyUnmounted] };
}
