import { commandStatusChangeOf } from '../../functions/resume-on-command-event/core';

/**
 * Which of the sandbox's command events a `.waitForTaskToken` task waits for: those of its command on its host, as
 * the deployed ResumeOnCommandEvent finds the wait by `<command-id>/<instance-id>` (docs/events.md).
 */

/** The command and host a wait is for. */
export interface CommandWaitKey {
  readonly commandId: string;
  readonly instanceId: string;
}

/** The command and host a task's payload names (AwaitHostCommand's `commandId` and `instanceId`), or undefined. */
export function commandWaitKeyOf(payload: unknown): CommandWaitKey | undefined {
  const { commandId, instanceId } = (payload ?? {}) as Record<string, unknown>;
  if (typeof commandId !== 'string' || typeof instanceId !== 'string' || !commandId || !instanceId) return undefined;
  return { commandId, instanceId };
}

/** Whether `event` is SSM's status change of that command on that host, read as ResumeOnCommandEvent reads it. */
export function isEventFor(key: CommandWaitKey, event: unknown): boolean {
  const change = commandStatusChangeOf(event);
  return change?.commandId === key.commandId && change.instanceId === key.instanceId;
}
