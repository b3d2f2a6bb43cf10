import * as z from 'zod';
import { BATCH_WORKFLOWS } from '../shared/batch';
import { defineStep } from '../shared/step';
import { planWave } from './core';

const ErrorSummary = z.object({ name: z.string(), message: z.string() });

const Input = z.object({
  operationId: z.string().min(1),
  plan: z.object({
    workflow: z.enum(BATCH_WORKFLOWS),
    concurrency: z.number().int().positive(),
    toleratedFailurePercent: z.number().int().nonnegative(),
    toleratedFailures: z.number().int().nonnegative(),
    requested: z.number().int().positive(),
  }),
  progress: z.object({
    next: z.number().int().nonnegative(),
    results: z.array(
      z.object({
        index: z.number().int().nonnegative(),
        id: z.string().optional(),
        nodeName: z.string(),
        status: z.enum(['joined', 'removed', 'failed', 'skipped']),
        operationId: z.string(),
        error: ErrorSummary.optional(),
      }),
    ),
    failedChildren: z.number().int().nonnegative(),
    stopped: z.boolean(),
  }),
  /** the last wave's Map output, one entry per child */
  outcomes: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      started: z.boolean().optional(),
      error: ErrorSummary.optional(),
    }),
  ),
  /** the batch's requests, as the execution was started with them */
  requests: z.array(z.unknown()),
});

/** Records the last wave's children and picks the next wave, within the batch's failure budget. */
export const handler = defineStep('PlanBatchWave', Input, async ({ operationId, plan, progress, outcomes, requests }) =>
  planWave(operationId, plan, progress, outcomes, requests),
);
