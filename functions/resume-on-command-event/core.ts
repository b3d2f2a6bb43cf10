import { type CommandWaits, commandEnded } from '../shared/command-waits';
import type { TaskCallbacks } from '../shared/task-callbacks';

/** The event SSM sends to EventBridge when one host's invocation of a command changes status (docs/events.md). */
export const COMMAND_EVENT = {
  source: 'aws.ssm',
  detailType: 'EC2 Command Invocation Status-change Notification',
} as const;

/** What this step reads of the event. */
export interface CommandStatusChange {
  readonly commandId: string;
  readonly instanceId: string;
  readonly status: string;
}

/**
 * The command, host and status of an `EC2 Command Invocation Status-change Notification`, or null for any other
 * event or one missing them. The rule only sends these; a stray one is ignored rather than failed, since EventBridge
 * would deliver it again for nothing.
 */
export function commandStatusChangeOf(event: unknown): CommandStatusChange | null {
  const { source, 'detail-type': detailType, detail } = (event ?? {}) as Record<string, unknown>;
  if (source !== COMMAND_EVENT.source || detailType !== COMMAND_EVENT.detailType) return null;
  const fields = (detail ?? {}) as Record<string, unknown>;
  const commandId = fields['command-id'];
  const instanceId = fields['instance-id'];
  const status = fields.status;
  if (typeof commandId !== 'string' || typeof instanceId !== 'string' || typeof status !== 'string') return null;
  if (!commandId || !instanceId || !status) return null;
  return { commandId, instanceId, status };
}

export interface ResumePorts {
  readonly waits: CommandWaits;
  readonly callbacks: TaskCallbacks;
}

/**
 * What became of one event, for the log:
 * - `ignored`: not a command's end (still running, or not the event this step handles);
 * - `no-wait`: no workflow waits on this command and host (not edgekeeper's command, the wait already taken by an
 *   earlier copy of the event or by AwaitHostCommand, or the event came before the wait was stored, which
 *   AwaitHostCommand then sees itself);
 * - `resumed`: the waiting task was completed with `{ status }`;
 * - `task-gone`: the task no longer waited (its timeout came first, and the workflow polls instead).
 */
export interface ResumeOutcome {
  readonly outcome: 'ignored' | 'no-wait' | 'resumed' | 'task-gone';
  readonly commandId?: string;
  readonly instanceId?: string;
  readonly status?: string;
}

/**
 * Resumes the workflow waiting on a command that has ended: takes its wait (atomically, so a second copy of the
 * event finds nothing) and completes the task with the SSM status. A failure to reach the store or Step Functions
 * is thrown for EventBridge to retry; once the wait is taken, a retry finds nothing and the wait's timeout polls.
 */
export async function resumeOnCommandEvent(ports: ResumePorts, event: unknown): Promise<ResumeOutcome> {
  const change = commandStatusChangeOf(event);
  if (!change) return { outcome: 'ignored' };
  if (!commandEnded(change.status)) return { outcome: 'ignored', ...change };
  const token = await ports.waits.take(change.commandId, change.instanceId);
  if (token === null) return { outcome: 'no-wait', ...change };
  const delivery = await ports.callbacks.succeed(token, { status: change.status });
  return { outcome: delivery === 'delivered' ? 'resumed' : 'task-gone', ...change };
}
