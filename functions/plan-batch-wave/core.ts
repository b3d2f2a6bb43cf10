import {
  type BatchItem,
  type BatchPlan,
  type BatchProgress,
  type ChildOutcome,
  DONE_STATUS,
  formatProblems,
  type NodeResult,
  type NodeStatus,
  operationIdOf,
  readBatchItems,
} from '../shared/batch';

/** A child the wave starts: its request's index, its execution name and its input. */
export interface WaveItem {
  readonly index: number;
  readonly executionName: string;
  readonly input: Record<string, unknown>;
}

/** The batch after one more wave: where it stands, and the next wave (empty once every request is decided). */
export interface PlannedWave {
  readonly plan: BatchPlan;
  readonly progress: BatchProgress;
  readonly wave: readonly WaveItem[];
  readonly done: boolean;
}

/** A child of that name already exists: Step Functions' error deployed, the local registry's locally. */
const ALREADY_RAN = new Set(['StepFunctions.ExecutionAlreadyExistsException', 'ExecutionAlreadyExists']);
/** What the local runtime raises into a workflow asked to stop (local/runtime.ts). */
const STOPPED = 'ExecutionStopped';

/**
 * Records the last wave's outcomes, then takes the next requests in order until the wave holds `concurrency`
 * children: a request with problems is recorded failed without starting; once failed children pass the budget, or
 * a stop was asked for, every request left is recorded skipped and the wave stays empty. Running children are
 * never cut short: the budget is only looked at between waves.
 */
export function planWave(
  batchName: string,
  plan: BatchPlan,
  progress: Pick<BatchProgress, 'next' | 'results' | 'failedChildren' | 'stopped'>,
  outcomes: readonly ChildOutcome[],
  requests: readonly unknown[],
): PlannedWave {
  const items = readBatchItems(plan.workflow, batchName, requests);
  const results = [...progress.results];
  let failedChildren = progress.failedChildren;
  let stopped = progress.stopped;
  for (const outcome of outcomes) {
    const item = items[outcome.index];
    const status = outcomeStatus(plan, outcome);
    if (status === 'failed') failedChildren += 1;
    if (outcome.error?.name === STOPPED) stopped = true;
    const error =
      status === 'skipped' && outcome.error && ALREADY_RAN.has(outcome.error.name)
        ? {
            name: 'ExecutionAlreadyExists',
            message: `not started: execution ${item.executionName} already exists (a rerun, or an id seen before); it has the result`,
          }
        : outcome.error;
    results.push(result(plan, item, status, error));
  }
  const exceeded = failedChildren > plan.toleratedFailures;
  const wave: WaveItem[] = [];
  let next = progress.next;
  for (; next < items.length && wave.length < plan.concurrency; next += 1) {
    const item = items[next];
    if (item.problems) {
      results.push(
        result(plan, item, 'failed', { name: 'InvalidRequestError', message: formatProblems(item.problems) }),
      );
    } else if (stopped) {
      results.push(result(plan, item, 'skipped', { name: STOPPED, message: 'not started: the batch was stopped' }));
    } else if (exceeded) {
      const message =
        `not started: ${failedChildren} of the started requests failed, more than the ` +
        `${plan.toleratedFailurePercent} % of ${plan.requested} the batch tolerates (${plan.toleratedFailures})`;
      results.push(result(plan, item, 'skipped', { name: 'FailureBudgetExceeded', message }));
    } else {
      wave.push({ index: item.index, executionName: item.executionName, input: item.input ?? {} });
    }
  }
  results.sort((a, b) => a.index - b.index);
  return {
    plan,
    progress: {
      next,
      results,
      failedChildren,
      stopped,
      totals: totalsOf(plan, results),
      budget: {
        toleratedFailurePercent: plan.toleratedFailurePercent,
        toleratedFailures: plan.toleratedFailures,
        failedChildren,
        exceeded,
      },
    },
    wave,
    done: wave.length === 0,
  };
}

/**
 * A child without an error succeeded. One that never started because its name already ran (a rerun, or a
 * redelivered event's id), or because the batch was stopped, is skipped: it costs the budget nothing.
 */
function outcomeStatus(plan: BatchPlan, outcome: ChildOutcome): NodeStatus {
  if (!outcome.error) return DONE_STATUS[plan.workflow];
  if (outcome.started === false && (ALREADY_RAN.has(outcome.error.name) || outcome.error.name === STOPPED)) {
    return 'skipped';
  }
  return 'failed';
}

function result(plan: BatchPlan, item: BatchItem, status: NodeStatus, error?: NodeResult['error']): NodeResult {
  return {
    index: item.index,
    ...(item.id !== undefined && { id: item.id }),
    nodeName: item.nodeName,
    status,
    operationId: operationIdOf(plan.workflow, item.executionName),
    ...(error && { error }),
  };
}

function totalsOf(plan: BatchPlan, results: readonly NodeResult[]): Record<string, number> {
  const count = (status: NodeStatus) => results.filter((result) => result.status === status).length;
  const done = DONE_STATUS[plan.workflow];
  return { requested: plan.requested, [done]: count(done), failed: count('failed'), skipped: count('skipped') };
}
