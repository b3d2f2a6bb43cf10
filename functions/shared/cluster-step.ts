import { renewLocks } from './leases';
import { defineStep, type StepHandler } from './step';
import type * as z from './zod';

/**
 * {@link defineStep} for a step that reaches the cluster (`kubernetes` in functions/registry.ts): given the
 * workflow's `executionId`, it also keeps the Leases of that lock holder fresh before the step's logic runs (renewal
 * never fails the step). Kept apart from step.ts so that a step that never reaches the cluster does not bundle the
 * Kubernetes client.
 */
export function defineClusterStep<Schema extends z.core.$ZodType<{ operationId: string }>, Result>(
  stepName: string,
  schema: Schema,
  run: (input: z.output<Schema>) => Promise<Result>,
): StepHandler<Result> {
  return defineStep(stepName, schema, run, { renewLocks });
}

/**
 * {@link defineClusterStep} for the two steps that take and give back the Leases themselves (LockNode,
 * ReleaseNodeLock): the lock step renews what it already holds as it takes it, and renewing right before a release
 * would only cost a list of the Leases and their writes. Every other step of the holder still renews them.
 */
export function defineLockStep<Schema extends z.core.$ZodType<{ operationId: string }>, Result>(
  stepName: 'LockNode' | 'ReleaseNodeLock',
  schema: Schema,
  run: (input: z.output<Schema>) => Promise<Result>,
): StepHandler<Result> {
  return defineStep(stepName, schema, run, { renewLocks: leavesRenewalToTheStep });
}

async function leavesRenewalToTheStep(): Promise<void> {}
