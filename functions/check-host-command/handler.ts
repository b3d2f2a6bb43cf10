import { z } from 'zod';
import { cancelCommand, type Invocation, readInvocation } from '../shared/host-commands';
import { parseScriptFailure } from '../shared/join-script';
import {
  assertHostClean,
  parseResetReport,
  RESET_EXIT_LEFTOVERS,
  RESET_EXIT_NOT_ROOT,
  type ResetReport,
} from '../shared/reset-script';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { HostScriptTimedOutError, judgeInvocation } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  commandId: z.string().min(1),
  instanceId: z.string().min(1),
  startedAt: z.iso.datetime(),
  attempt: z.number().int().min(0),
  /** which script runs: it decides how a failure is explained and what a success reports */
  script: z.enum(['join', 'reset']).default('join'),
  nodeName: z.string().min(1).optional(),
});

/** Polls a host script (join or reset) and tells the workflow whether to wait, go on, or fail. */
export const handler = defineStep('CheckHostCommand', Input, async (poll) => {
  const settings = readSettings();
  const invocation = await readInvocation(settings, poll.commandId, poll.instanceId);
  const nodeName = poll.nodeName ?? poll.instanceId;
  const verdict = judgeInvocation(
    invocation,
    { instanceId: poll.instanceId, attempt: poll.attempt, startedAtMs: Date.parse(poll.startedAt) },
    Date.now(),
    settings.hostCommandTimeoutSeconds,
    (failed) => (poll.script === 'reset' ? resetFailure(nodeName, poll.instanceId, failed) : joinFailure(failed)),
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
    return { ...next, status: 'InProgress', waitSeconds: verdict.waitSeconds, report: null };
  const report =
    poll.script === 'reset'
      ? assertHostClean(nodeName, poll.instanceId, parseResetReport(verdict.invocation.stdout))
      : null;
  return { ...next, status: 'Success', waitSeconds: 0, report: report && summarize(report) };
});

function joinFailure(invocation: Invocation): string {
  return parseScriptFailure(invocation.responseCode, invocation.stdout, invocation.stderr);
}

/** A reset that left things behind says what; one that broke says how it ended. */
function resetFailure(nodeName: string, instanceId: string, invocation: Invocation): string {
  if (invocation.responseCode === RESET_EXIT_LEFTOVERS) {
    try {
      assertHostClean(nodeName, instanceId, parseResetReport(invocation.stdout));
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (invocation.responseCode === RESET_EXIT_NOT_ROOT) {
    return `the reset script on ${instanceId} must run as root (SSM runs scripts as root unless the agent was changed)`;
  }
  const tail = invocation.stderr.trimEnd().split('\n').slice(-10).join('\n');
  return `the reset script on ${instanceId} failed with exit code ${invocation.responseCode}${tail ? `: ${tail}` : ''}`;
}

/** What the removal result shows of a clean reset. */
function summarize(report: ResetReport) {
  const { keadm, edgecore, mosquitto, edgemesh, removed, unmounted, lazyUnmounted } = report;
  return { keadm, edgecore, mosquitto, edgemesh, removed, unmounted: [...unmounted, ...lazyUnmounted] };
}
