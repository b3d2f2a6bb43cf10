import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { InvalidRequestError } from './errors';
import { logger, metrics, tracer } from './powertools';
import { problemsFromIssues } from './schemas';

/** What every workflow passes to its steps besides their own input: the id that ties logs to one operation. */
export interface StepContext {
  /** the Step Functions execution name; also the idempotency key of the operation */
  readonly operationId: string;
}

/**
 * Wraps a step's logic as a Lambda handler: parses the event with the step's zod schema (a rejection names each
 * field, value and reason), tags logs with the operation id as correlation id, traces, counts failures by error
 * name, and rethrows so that Step Functions sees the named error.
 */
export function defineStep<Schema extends z.ZodType<{ operationId: string }>, Result>(
  stepName: string,
  schema: Schema,
  run: (input: z.output<Schema>) => Promise<Result>,
): (event: unknown) => Promise<Result> {
  return async (event) => {
    const input = parseInput(schema, event);
    logger.setCorrelationId(input.operationId);
    logger.appendKeys({ step: stepName });
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${stepName}`);
    if (subsegment) tracer.setSegment(subsegment);
    try {
      const result = await run(input);
      logger.info('step succeeded');
      return result;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      metrics.addDimension('step', stepName);
      metrics.addMetric(`StepFailed.${name}`, MetricUnit.Count, 1);
      logger.warn('step failed', {
        errorName: name,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      subsegment?.close();
      if (segment) tracer.setSegment(segment);
      // publishing nothing only earns a warning per invocation
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

/** Parses a step input; every schema issue becomes a Problem naming the field, the value and the reason. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, event: unknown): z.output<Schema> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(problemsFromIssues(parsed.error.issues, event, 'input'));
}
