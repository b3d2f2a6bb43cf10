import { defineStep } from '../shared/step';
import * as z from '../shared/zod';
import { readChildFailure } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  index: z.int().check(z.nonnegative()),
  /** the Catch's record of the child task's failure */
  failure: z.object({ Error: z.string(), Cause: z.optional(z.string()) }),
});

/** Turns a batch child's failure into the short error its result carries, and says whether the child ever ran. */
export const handler = defineStep('ReadChildFailure', Input, async ({ index, failure }) =>
  readChildFailure(index, failure),
);
