import * as z from 'zod';
import { defineStep } from '../shared/step';
import { readChildFailure } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  index: z.number().int().nonnegative(),
  /** the Catch's record of the child task's failure */
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
});

/** Turns a batch child's failure into the short error its result carries, and says whether the child ever ran. */
export const handler = defineStep('ReadChildFailure', Input, async ({ index, failure }) =>
  readChildFailure(index, failure),
);
