import {
  type BatchItem,
  type BatchPlan,
  type BatchProgress,
  type BatchWorkflow,
  type ChildOutcome,
  DONE_STATUS,
  MAX_BATCH_BYTES,
  MAX_BATCH_REQUESTS,
  readBatchItems,
} from '../shared/batch';
import { EdgekeeperError, formatProblem, InvalidRequestError, type Problem } from '../shared/errors';

/**
 * Two requests of one batch name the same node, IP, instance or id: running both would race for one lock (the
 * second failing for it) or join one host twice. Permanent; the message names each collision and its requests.
 */
export class BatchCollisionError extends EdgekeeperError {
  override readonly name = 'BatchCollisionError';
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('; '));
  }
}

/** The fields no two requests of a batch may share, by workflow; `executionName` is the child's name. */
const UNIQUE_FIELDS = {
  'onboard-node': ['nodeName', 'nodeIp', 'instanceId', 'id'],
  'remove-node': ['nodeName', 'instanceId', 'nodeIp', 'id'],
} as const satisfies Record<BatchWorkflow, readonly string[]>;

export interface BatchSettings {
  readonly batchConcurrency: number;
  readonly batchToleratedFailurePercent: number;
}

/** The state the batch's waves start from. */
export interface CheckedBatch {
  readonly plan: BatchPlan;
  readonly progress: BatchProgress;
  /** the last wave's outcomes: none yet */
  readonly outcomes: readonly ChildOutcome[];
}

/**
 * Checks a batch before any child starts: the list itself (a list, 1 to MAX_BATCH_REQUESTS requests, at most
 * MAX_BATCH_BYTES of JSON), then that no two requests collide. A request whose own fields are wrong does not stop
 * the batch: it is reported failed with its problems when its turn comes, and the other requests run.
 * @throws InvalidRequestError naming `requests` when the list cannot be a batch
 * @throws BatchCollisionError naming each shared value and the requests that share it
 */
export function checkBatch(
  workflow: BatchWorkflow,
  batchName: string,
  requests: unknown,
  settings: BatchSettings,
): CheckedBatch {
  const list = checkList(requests);
  const collisions = findCollisions(workflow, readBatchItems(workflow, batchName, list), list);
  if (collisions.length > 0) throw new BatchCollisionError(collisions);
  const percent = settings.batchToleratedFailurePercent;
  const toleratedFailures = Math.floor((list.length * percent) / 100);
  return {
    plan: {
      workflow,
      concurrency: settings.batchConcurrency,
      toleratedFailurePercent: percent,
      toleratedFailures,
      requested: list.length,
    },
    progress: {
      next: 0,
      results: [],
      failedChildren: 0,
      stopped: false,
      totals: { requested: list.length, [DONE_STATUS[workflow]]: 0, failed: 0, skipped: 0 },
      budget: { toleratedFailurePercent: percent, toleratedFailures, failedChildren: 0, exceeded: false },
    },
    outcomes: [],
  };
}

function checkList(requests: unknown): readonly unknown[] {
  const problem = (value: unknown, reason: string) => new InvalidRequestError([{ field: 'requests', value, reason }]);
  if (!Array.isArray(requests)) throw problem(requests, 'must be a list of requests');
  if (requests.length === 0) throw problem(undefined, 'must hold at least one request');
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw problem(
      undefined,
      `must hold at most ${MAX_BATCH_REQUESTS} requests, got ${requests.length}: split the batch`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(requests));
  if (bytes > MAX_BATCH_BYTES) {
    throw problem(undefined, `must take at most ${MAX_BATCH_BYTES} bytes of JSON, got ${bytes}: split the batch`);
  }
  return requests;
}

/**
 * Every value two or more requests share in a field that must be unique, with their indexes, in field order then
 * first appearance. Values are compared as given, so a request with other problems still counts; so do the child
 * execution names, which an `id` could make equal to another request's `<batch>-<index>`.
 */
export function findCollisions(
  workflow: BatchWorkflow,
  items: readonly BatchItem[],
  requests: readonly unknown[],
): Problem[] {
  const problems: Problem[] = [];
  const fields = UNIQUE_FIELDS[workflow];
  for (const field of fields) {
    const values = requests.map((request) =>
      request !== null && typeof request === 'object' ? (request as Record<string, unknown>)[field] : undefined,
    );
    problems.push(...shared(field, values));
  }
  // a name collision that an id collision already explains is not reported twice
  const names = shared(
    'execution name',
    items.map((item) => item.executionName),
  ).filter((problem) => !problems.some((other) => other.field === 'id' && other.value === problem.value));
  return [...problems, ...names];
}

function shared(field: string, values: readonly unknown[]): Problem[] {
  const indexes = new Map<string, number[]>();
  values.forEach((value, index) => {
    if (typeof value !== 'string' || value === '') return;
    indexes.set(value, [...(indexes.get(value) ?? []), index]);
  });
  return [...indexes]
    .filter(([, at]) => at.length > 1)
    .map(([value, at]) => ({ field, value, reason: `is in requests ${listed(at)}` }));
}

/** `0 and 4`, `0, 2 and 4` */
function listed(indexes: readonly number[]): string {
  return indexes.length === 1 ? String(indexes[0]) : `${indexes.slice(0, -1).join(', ')} and ${indexes.at(-1)}`;
}
