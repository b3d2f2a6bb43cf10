import { BATCH_WORKFLOWS } from '../shared/batch';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';
import { checkBatch } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  workflow: z.enum(BATCH_WORKFLOWS),
  requests: z.unknown(),
});

/**
 * Checks a batch before any child starts, and settles its concurrency and failure budget from the settings: a
 * batch that cannot run, or whose requests collide, fails here naming each problem; nothing has started.
 */
export const handler = defineStep('CheckBatch', Input, async ({ operationId, workflow, requests }) =>
  checkBatch(workflow, operationId, requests, readSettings()),
);
