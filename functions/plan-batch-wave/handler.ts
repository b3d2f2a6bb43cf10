import { BATCH_WORKFLOWS } from '../shared/batch';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';
import { planWave } from './core';

const ErrorSummary = z.object({ name: z.string(), message: z.string() });

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  plan: z.object({
    workflow: z.enum(BATCH_WORKFLOWS),
    concurrency: z.int().check(z.positive()),
    toleratedFailurePercent: z.int().check(z.nonnegative()),
    toleratedFailures: z.int().check(z.nonnegative()),
    requested: z.int().check(z.positive()),
  }),
  progress: z.object({
    next: z.int().check(z.nonnegative()),
    results: z.array(
      z.object({
        index: z.int().check(z.nonnegative()),
        id: z.optional(z.string()),
        nodeName: z.string(),
        status: z.enum(['joined', 'removed', 'failed', 'skipped']),
        operationId: z.string(),
        error: z.optional(ErrorSummary),
      }),
    ),
    failedChildren: z.int().check(z.nonnegative()),
    stopped: z.boolean(),
  }),
  /** the last wave's Map output, one entry per child */
  outcomes: z.array(
    z.object({
      index: z.int().check(z.nonnegative()),
      started: z.optional(z.boolean()),
      error: z.optional(ErrorSummary),
    }),
  ),
  /** the batch's requests, as the execution was started with them */
  requests: z.array(z.unknown()),
});

/** Records the last wave's children and picks the next wave, within the batch's failure budget. */
export const handler = defineStep('PlanBatchWave', Input, async ({ operationId, plan, progress, outcomes, requests }) =>
  planWave(operationId, plan, progress, outcomes, requests),
);
