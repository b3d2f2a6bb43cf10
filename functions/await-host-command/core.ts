import { type CommandWaits, commandEnded } from '../shared/command-waits';
import type { TaskCallbacks } from '../shared/task-callbacks';

/** What this step needs: the waits (none without a table), one read of the invocation, and task completion. */
export interface AwaitPorts {
  /** null when the deployment has no table of waits: then only a command that already ended completes the task */
  readonly waits: CommandWaits | null;
  /** the invocation's SSM status, or null while SSM has not created it */
  readInvocationStatus(commandId: string, instanceId: string): Promise<string | null>;
  readonly callbacks: TaskCallbacks;
}

export interface AwaitRequest {
  readonly operationId: string;
  readonly commandId: string;
  readonly instanceId: string;
  /** the waiting state's task token: a secret, never logged or returned */
  readonly taskToken: string;
}

/**
 * What the step did, for its log (Step Functions ignores the result of a `.waitForTaskToken` task):
 * - `waiting`: the wait is stored, and the command's end event (or the wait's timeout) resumes the workflow;
 * - `completed`: the command had already ended, and this step completed the task itself;
 * - `resumed-by-event`: the command had already ended and its event took the wait first;
 * - `fallback`: no wait is left for the event (no table, the store failed, or completing the task failed): the
 *   wait's timeout resumes the workflow, which then polls.
 */
export interface AwaitOutcome {
  readonly commandId: string;
  readonly instanceId: string;
  readonly outcome: 'waiting' | 'completed' | 'resumed-by-event' | 'fallback';
  /** the SSM status read, when there was one */
  readonly status?: string;
  /** why the wait could not be stored, or the invocation read: an error name */
  readonly problem?: string;
}

/** How long past its own timeout a wait is kept before the table may drop it: clock skew and slow steps. */
export const WAIT_EXPIRY_MARGIN_SECONDS = 300;

/**
 * Registers a workflow's wait for a host command, then reads the command once: its end event may have come before
 * the wait was stored, and would then have found nothing to resume. If the command has ended, whoever takes the
 * wait first (this step or the event) completes the task with `{ status }`; the other finds nothing.
 *
 * The step never fails the workflow: events only make it faster. Whatever it cannot do (store the wait, read the
 * invocation, reach Step Functions) leaves the task to its timeout, after which CheckHostCommand polls and judges.
 * Only a task that is already gone is not worth a word.
 */
export async function awaitHostCommand(
  ports: AwaitPorts,
  request: AwaitRequest,
  clock: { readonly now: Date; readonly waitSeconds: number },
): Promise<AwaitOutcome> {
  const { commandId, instanceId, taskToken, operationId } = request;
  const expiresAt = new Date(clock.now.getTime() + (clock.waitSeconds + WAIT_EXPIRY_MARGIN_SECONDS) * 1000);
  let stored = false;
  let problem: string | undefined;
  if (ports.waits) {
    try {
      await ports.waits.put({ commandId, instanceId, taskToken, expiresAt, operationId });
      stored = true;
    } catch (error) {
      problem = nameOf(error);
    }
  } else {
    problem = 'NoWaitsTable';
  }
  let status: string | null;
  try {
    status = await ports.readInvocationStatus(commandId, instanceId);
  } catch (error) {
    return { commandId, instanceId, outcome: stored ? 'waiting' : 'fallback', problem: problem ?? nameOf(error) };
  }
  const base = { commandId, instanceId, ...(status ? { status } : {}), ...(problem ? { problem } : {}) };
  if (!status || !commandEnded(status)) return { ...base, outcome: stored ? 'waiting' : 'fallback' };
  let token: string | null = taskToken;
  try {
    // Taking the wait decides who completes the task; without a stored wait, the token of this request is ours.
    if (stored && ports.waits) token = await ports.waits.take(commandId, instanceId);
  } catch (error) {
    return { ...base, outcome: 'waiting', problem: nameOf(error) };
  }
  if (token === null) return { ...base, outcome: 'resumed-by-event' };
  try {
    const delivery = await ports.callbacks.succeed(token, { status });
    // a task already gone has timed out: the workflow polls
    return delivery === 'delivered' ? { ...base, outcome: 'completed' } : { ...base, outcome: 'fallback' };
  } catch (error) {
    return { ...base, outcome: 'fallback', problem: nameOf(error) };
  }
}

/** An error's name only: its message may quote what a service refused. */
function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
