import { POLL_DELAY } from '../shared/backoff';
import { dynamodbCommandWaits } from '../shared/command-waits';
import { logger } from '../shared/powertools';
import { readSettings } from '../shared/settings';
import { readInvocation } from '../shared/ssm';
import { defineStep } from '../shared/step';
import { stepFunctionsTaskCallbacks } from '../shared/task-callbacks';
import * as z from '../shared/zod';
import { awaitHostCommand } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  commandId: z.string().check(z.minLength(1)),
  instanceId: z.string().check(z.minLength(1)),
  // opaque, and a secret: no bound here whose refusal would quote it in the error (Step Functions checks it)
  taskToken: z.string().check(z.minLength(1)),
});

/**
 * Parks the workflow on a host command: stores its task token for the command's end event (ResumeOnCommandEvent),
 * and completes the task itself when the command has already ended. Never fails: the wait's timeout polls.
 */
export const handler = defineStep('AwaitHostCommand', Input, async (request) => {
  const settings = readSettings();
  const table = settings.commandWaitsTable;
  if (!table) logger.warn('no table of command waits (EDGEKEEPER_COMMAND_WAITS_TABLE): the workflow polls');
  const ports = {
    waits: table ? dynamodbCommandWaits(settings, table) : null,
    readInvocationStatus: async (commandId: string, instanceId: string) =>
      (await readInvocation(settings, commandId, instanceId))?.status ?? null,
    callbacks: stepFunctionsTaskCallbacks(settings),
  };
  // the wait's timeout in the workflows is the polling backoff's cap (statemachine/src/onboard-node.ts, remove-node.ts)
  const result = await awaitHostCommand(ports, request, { now: new Date(), waitSeconds: POLL_DELAY.maxSeconds });
  logger.info('host command awaited', { ...result });
  return result;
});
