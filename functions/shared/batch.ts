import { createHash } from 'node:crypto';
import { formatProblem, InvalidRequestError, type Problem } from './errors';
import { parseRemoveNodeInput } from './remove-input';
import { joinModeOf, OnboardRequest } from './schemas';
import { problemsFromIssues } from './zod-problems';

/*
 * What the batch workflows (batch-onboard, batch-remove; docs/adr/0012) share between their steps: how a request
 * of the batch is read, the execution name its child runs under, and the shapes of the plan, the progress and the
 * per-node results that travel through the workflow's state. The state is bounded (256 KB in Step Functions), so
 * the limits below keep a full batch's results, its requests and one wave's outcomes inside it together.
 */

/** The workflows a batch runs, one child execution per request. */
export const BATCH_WORKFLOWS = ['onboard-node', 'remove-node'] as const;
export type BatchWorkflow = (typeof BATCH_WORKFLOWS)[number];

/** A batch's status word for a child that succeeded, by workflow. */
export const DONE_STATUS = { 'onboard-node': 'joined', 'remove-node': 'removed' } as const;
export type NodeStatus = (typeof DONE_STATUS)[BatchWorkflow] | 'failed' | 'skipped';

/** At most this many requests in one batch: a few hundred nodes, with their results, fit the workflow's state. */
export const MAX_BATCH_REQUESTS = 300;
/** At most this much JSON for the requests (about 200 bytes each; a typical request takes 120). */
export const MAX_BATCH_BYTES = 64 * 1024;
/** A per-node error message keeps its first line, cut to this length; the child execution has it whole. */
export const RESULT_MESSAGE_CHARACTERS = 160;

/**
 * Step Functions' limit on an execution name is 80 characters; an onboarding's rollback runs as `<name>-rollback`,
 * so a child of either workflow is named within 71.
 */
export const CHILD_NAME_CHARACTERS = 80 - '-rollback'.length;
/** A request's `id` names its child execution: it must be a valid name that leaves room for the rollback's suffix. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** One request of a batch, read: its child's name and input, or why it cannot run. */
export interface BatchItem {
  readonly index: number;
  readonly id?: string;
  /** as the request gave it (cut when long), for the result; empty when it gave none */
  readonly nodeName: string;
  /** the child execution's name: the request's `id`, else `<batch>-<index>` */
  readonly executionName: string;
  /** the child's input: the request without `id` (remove: with `mode: remove`) */
  readonly input?: Record<string, unknown>;
  /** why the request cannot run, field by field; the child is never started */
  readonly problems?: readonly Problem[];
}

/** What the batch settled before anything started. */
export interface BatchPlan {
  readonly workflow: BatchWorkflow;
  /** how many children run at once: one wave */
  readonly concurrency: number;
  readonly toleratedFailurePercent: number;
  /** floor(requested × percent / 100): more failed children than this and no new child starts */
  readonly toleratedFailures: number;
  readonly requested: number;
}

/** One node's line in the batch's output. */
export interface NodeResult {
  readonly index: number;
  readonly id?: string;
  readonly nodeName: string;
  readonly status: NodeStatus;
  /** `<workflow>:<child execution name>`, the API's operation id (for a skipped node, the name it would run under) */
  readonly operationId: string;
  readonly error?: { readonly name: string; readonly message: string };
}

/** How a started child ended, as the wave's Map reports it: no error, or the error (ReadChildFailure). */
export interface ChildOutcome {
  readonly index: number;
  /** false: the child never ran (refused to start, or the batch was stopped first) */
  readonly started?: boolean;
  readonly error?: { readonly name: string; readonly message: string };
}

export interface BatchBudget {
  readonly toleratedFailurePercent: number;
  readonly toleratedFailures: number;
  /** failed children so far; requests refused before starting do not count */
  readonly failedChildren: number;
  readonly exceeded: boolean;
}

/** Where the batch stands between waves. */
export interface BatchProgress {
  /** the index of the next request to consider */
  readonly next: number;
  /** every node decided so far, in request order */
  readonly results: readonly NodeResult[];
  readonly failedChildren: number;
  /** a stop was asked for (locally): no child starts any more */
  readonly stopped: boolean;
  readonly totals: Readonly<Record<string, number>>;
  readonly budget: BatchBudget;
}

/** The operation id of a child execution, as the REST API writes it. */
export function operationIdOf(workflow: BatchWorkflow, executionName: string): string {
  return `${workflow}:${executionName}`;
}

/**
 * The child's execution name: the request's `id` when it has a valid one (an inventory event's id, so a redelivered
 * event never starts a second child, in this batch or another), else `<batch>-<index>`, so a rerun of the batch
 * starts nothing twice. A batch name too long for that keeps its start and a hash of the whole.
 */
export function childExecutionName(batchName: string, index: number, id?: unknown): string {
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
  const plain = `${batchName}-${index}`;
  if (plain.length <= CHILD_NAME_CHARACTERS) return plain;
  const hash = createHash('sha256').update(batchName).digest('hex').slice(0, 10);
  const room = CHILD_NAME_CHARACTERS - hash.length - String(index).length - 2;
  return `${batchName.slice(0, room)}-${hash}-${index}`;
}

/** Reads every request of a batch; never throws: a request that cannot run carries its problems. */
export function readBatchItems(workflow: BatchWorkflow, batchName: string, requests: readonly unknown[]): BatchItem[] {
  return requests.map((request, index) => readItem(workflow, batchName, request, index));
}

function readItem(workflow: BatchWorkflow, batchName: string, raw: unknown, index: number): BatchItem {
  const record = isRecord(raw) ? raw : undefined;
  const { id, ...request } = record ?? {};
  const base = {
    index,
    ...(typeof id === 'string' && { id }),
    nodeName: typeof request.nodeName === 'string' ? request.nodeName.slice(0, 253) : '',
    executionName: childExecutionName(batchName, index, id),
  };
  if (!record) return { ...base, problems: [{ field: 'request', value: raw, reason: 'must be an object' }] };
  const idProblems: Problem[] =
    id === undefined || (typeof id === 'string' && ID_PATTERN.test(id))
      ? []
      : [{ field: 'id', value: id, reason: 'must be 1 to 64 letters, digits, - or _ (it names the execution)' }];
  const read = workflow === 'onboard-node' ? readOnboardRequest(request) : readRemoveRequest(request);
  const problems = [...idProblems, ...read.problems];
  return problems.length > 0 ? { ...base, problems } : { ...base, input: read.input };
}

/**
 * An onboarding request with OnboardRequest's own schema. A batch joins SSM instances only: a manual join waits
 * for a person to run a command that only a single onboarding prints; a dry run joins nothing.
 */
function readOnboardRequest(request: Record<string, unknown>): { input: Record<string, unknown>; problems: Problem[] } {
  const parsed = OnboardRequest.safeParse(request);
  if (!parsed.success) return { input: request, problems: problemsFromIssues(parsed.error.issues, request) };
  const problems: Problem[] = [];
  if (joinModeOf(parsed.data) === 'manual') {
    problems.push({
      field: 'instanceId',
      value: request.instanceId ?? undefined,
      reason: 'is required in a batch: a manual join waits for a person to run the command a single onboarding prints',
    });
  }
  if (parsed.data.dryRun) {
    problems.push({ field: 'dryRun', value: true, reason: 'is not offered in a batch: dry-run each node on its own' });
  }
  return { input: request, problems };
}

/** A removal request with remove-node's own parsing; a batch only removes (no rollback, no uninstall). */
function readRemoveRequest(request: Record<string, unknown>): { input: Record<string, unknown>; problems: Problem[] } {
  const input = { ...request, mode: 'remove' };
  if (request.mode !== undefined && request.mode !== 'remove') {
    return {
      input,
      problems: [
        {
          field: 'mode',
          value: request.mode,
          reason: 'must be remove or left out in a batch: rollbacks and the uninstall run on their own',
        },
      ],
    };
  }
  try {
    parseRemoveNodeInput(input);
    return { input, problems: [] };
  } catch (error) {
    if (error instanceof InvalidRequestError) return { input, problems: [...error.problems] };
    throw error;
  }
}

/** A request's problems as one short message. */
export function formatProblems(problems: readonly Problem[]): string {
  return shortMessage(problems.map(formatProblem).join('; '));
}

/** The first line of a message, cut to {@link RESULT_MESSAGE_CHARACTERS}. */
export function shortMessage(message: string): string {
  const line = message.split('\n')[0];
  return line.length <= RESULT_MESSAGE_CHARACTERS ? line : `${line.slice(0, RESULT_MESSAGE_CHARACTERS - 1)}…`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
