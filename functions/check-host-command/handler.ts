import { TransientServiceError } from '../shared/errors';
import { joinTokenParameterName } from '../shared/join-token';
import { readSettings } from '../shared/settings';
import { cancelCommand, deleteParameter, readInvocation } from '../shared/ssm';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';
import { checkHostCommand } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  commandId: z.string().check(z.minLength(1)),
  instanceId: z.string().check(z.minLength(1)),
  startedAt: z.iso.datetime(),
  attempt: z.int().check(z.minimum(0)),
  /** which script runs: it decides how a failure is explained and what a success reports */
  script: z._default(z.enum(['join', 'reset']), 'join'),
  nodeName: z.optional(z.string().check(z.minLength(1))),
});

/** Polls a host script (join or reset) and tells the workflow whether to wait, go on, or fail. */
export const handler = defineStep('CheckHostCommand', Input, async ({ operationId, ...poll }) => {
  const settings = readSettings();
  const port = {
    readInvocation: (commandId: string, instanceId: string) => readInvocation(settings, commandId, instanceId),
    cancelCommand: (commandId: string, instanceId: string) => cancelCommand(settings, commandId, instanceId),
  };
  // A join command that ended (any way but a transient SSM failure, which the workflow retries) no longer needs
  // this execution's token parameter (ADR 0004); deleting one already gone is not an error.
  const tokenParameter = poll.script === 'join' ? joinTokenParameterName(operationId) : undefined;
  try {
    const check = await checkHostCommand(port, poll, {
      nowMs: Date.now(),
      timeoutSeconds: settings.hostCommandTimeoutSeconds,
    });
    if (tokenParameter && check.status === 'Success') await deleteParameter(settings, tokenParameter);
    return check;
  } catch (error) {
    if (tokenParameter && !(error instanceof TransientServiceError)) {
      await deleteParameter(settings, tokenParameter).catch(() => undefined);
    }
    throw error;
  }
});
