import { z } from 'zod';
import { parseScriptFailure } from '../render-host-script/core';
import { cancelCommand, type Invocation, readInvocation } from '../shared/host-commands';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { HostScriptTimedOutError, judgeInvocation } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  commandId: z.string().min(1),
  instanceId: z.string().min(1),
  startedAt: z.iso.datetime(),
  attempt: z.number().int().min(0),
});

/** Polls a host script (join or reset) and tells the workflow whether to wait, go on, or fail. */
export const handler = defineStep('CheckHostCommand', Input, async (poll) => {
  const settings = readSettings();
  const invocation = await readInvocation(settings, poll.commandId, poll.instanceId);
  const verdict = judgeInvocation(
    invocation,
    { instanceId: poll.instanceId, attempt: poll.attempt, startedAtMs: Date.parse(poll.startedAt) },
    Date.now(),
    settings.hostCommandTimeoutSeconds,
    describeFailure,
  );
  if (verdict.status === 'TimedOut') {
    await cancelCommand(settings, poll.commandId, poll.instanceId);
    throw new HostScriptTimedOutError(
      `the script on ${poll.instanceId} ran longer than ${settings.hostCommandTimeoutSeconds} s and was cancelled`,
    );
  }
  const next = {
    commandId: poll.commandId,
    instanceId: poll.instanceId,
    startedAt: poll.startedAt,
    attempt: poll.attempt + 1,
  };
  if (verdict.status === 'InProgress')
    return { ...next, status: 'InProgress', waitSeconds: verdict.waitSeconds, stdoutTail: '' };
  return { ...next, status: 'Success', waitSeconds: 0, stdoutTail: tail(verdict.invocation.stdout) };
});

function describeFailure(invocation: Invocation): string {
  return parseScriptFailure(invocation.responseCode, invocation.stdout, invocation.stderr);
}

/** The end of the script's output: enough to see how it ended, small enough for the execution history. */
function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-20).join('\n');
}
