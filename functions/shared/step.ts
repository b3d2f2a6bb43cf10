import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvalidRequestError } from './errors';
import { type LambdaContext, logger, metrics, tracer, withLogKeys } from './powertools';
import * as z from './zod';
import { problemsFromIssues } from './zod-problems';

/** What every workflow passes to its steps besides their own input: the id that ties logs to one operation. */
export interface StepContext {
  /** the Step Functions execution name; also the idempotency key of the operation */
  readonly operationId: string;
}

/** A step as Lambda calls it; the local runtime calls it without a context. */
export type StepHandler<Result> = (event: unknown, context?: LambdaContext) => Promise<Result>;

/**
 * The handlers that renew their execution's Leases (defineClusterStep). Lock renewal lives in cluster-step.ts so
 * that a step that never reaches the cluster does not bundle the Kubernetes client; a test checks that every step
 * listing `kubernetes` in functions/registry.ts renews, which the registry itself, imported here, would add to every
 * bundle.
 */
const renewing = new WeakSet<StepHandler<unknown>>();

/** Whether a handler was defined with lock renewal (defineClusterStep or defineLockStep). */
export function renewsLocks(handler: unknown): boolean {
  return typeof handler === 'function' && renewing.has(handler as StepHandler<unknown>);
}

export interface StepOptions {
  /** keeps the Leases of the lock-holding execution `executionId` fresh; given by defineClusterStep */
  readonly renewLocks?: (executionId: string) => Promise<unknown>;
}

/**
 * Wraps a step's logic as a Lambda handler: parses the event with the step's zod schema, zod/mini or classic (a
 * rejection names each field, value and reason), and makes the invocation observable by default:
 * - every log line carries the step, the execution name (also the correlation id) and the node name, and, in
 *   Lambda, the request id and cold start from the context;
 * - a `ColdStart` metric on the first invocation of an instance, and a `StepFailed.<ErrorName>` count per failure;
 * - a trace subsegment per step, annotated with the execution and node so X-Ray can find one operation.
 * It rethrows every error unchanged so that Step Functions sees the named error.
 */
export function defineStep<Schema extends z.core.$ZodType<{ operationId: string }>, Result>(
  stepName: string,
  schema: Schema,
  run: (input: z.output<Schema>) => Promise<Result>,
  options: StepOptions = {},
): StepHandler<Result> {
  const { renewLocks } = options;
  const handler: StepHandler<Result> = async (event, context) => {
    if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
    metrics.captureColdStartMetric(context?.functionName);
    const keys = { step: stepName, executionName: stringAt(event, 'operationId'), nodeName: nodeNameOf(event) };
    // the execution name is also the correlation id; the keys live with this call (steps of a local run overlap)
    return withLogKeys({ correlation_id: keys.executionName, ...keys }, () => invoke(event, keys));
  };
  if (renewLocks) renewing.add(handler);
  return handler;

  async function invoke(event: unknown, keys: { executionName?: string; nodeName?: string }): Promise<Result> {
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${stepName}`);
    if (subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      if (keys.executionName) tracer.putAnnotation('executionName', keys.executionName);
      if (keys.nodeName) tracer.putAnnotation('nodeName', keys.nodeName);
    }
    try {
      const input = parseInput(schema, event);
      // Every step of a lock holder that can reach the cluster keeps its Leases fresh, given `executionId`
      // ($$.Execution.Id) by the workflow. Renewal never fails the step.
      const executionId = stringAt(event, 'executionId');
      if (executionId && renewLocks) await renewLocks(executionId);
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
    }
  }
}

/**
 * The node a step works on, wherever its input carries it: `nodeName` (most steps), `request.nodeName` (the
 * validation, even of a request that fails its schema) or `settings.nodeName` (render). Read from the raw event
 * so that a step refusing its input still logs which node it was about.
 */
function nodeNameOf(event: unknown): string | undefined {
  return (
    stringAt(event, 'nodeName') ??
    stringAt(objectAt(event, 'request'), 'nodeName') ??
    stringAt(objectAt(event, 'settings'), 'nodeName')
  );
}

function objectAt(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function stringAt(value: unknown, key: string): string | undefined {
  const found = objectAt(value, key);
  // a hostile or broken input must not flood every log line
  return typeof found === 'string' && found.length > 0 ? found.slice(0, 253) : undefined;
}

/**
 * Parses a step input; every schema issue becomes a Problem naming the field, the value and the reason. Any zod 4
 * schema will do, zod/mini or classic: both parse with the same core, which is what `z.safeParse` calls.
 */
export function parseInput<Schema extends z.core.$ZodType>(schema: Schema, event: unknown): z.output<Schema> {
  const parsed = z.safeParse(schema, event);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(problemsFromIssues(parsed.error.issues, event, 'input'));
}
