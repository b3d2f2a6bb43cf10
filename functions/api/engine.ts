import { createHash } from 'node:crypto';
import { TransientServiceError } from '../shared/errors';
import { redactSecrets } from '../shared/redact';

/*
 * What the REST API needs from whatever runs the workflows: start an execution under a given name, describe one,
 * list a node's. Step Functions implements it deployed (sfn-engine.ts), the local runtime in the background of
 * `edgekeeper serve` (local/api-engine.ts). The router sees only this interface, so both serve the same API.
 */

/** The workflows the API starts. Each is one state machine; the operation id says which. */
export const WORKFLOWS = ['onboard-node', 'remove-node', 'batch-onboard', 'batch-remove', 'drift-check'] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];

/** The environment variable that gives the API's Lambda each workflow's state machine ARN (the stack sets them). */
export const STATE_MACHINE_ARN_ENV: Readonly<Record<WorkflowName, string>> = {
  'onboard-node': 'EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN',
  'remove-node': 'EDGEKEEPER_REMOVE_STATE_MACHINE_ARN',
  'batch-onboard': 'EDGEKEEPER_BATCH_ONBOARD_STATE_MACHINE_ARN',
  'batch-remove': 'EDGEKEEPER_BATCH_REMOVE_STATE_MACHINE_ARN',
  'drift-check': 'EDGEKEEPER_DRIFT_CHECK_STATE_MACHINE_ARN',
};

export function isWorkflowName(value: string): value is WorkflowName {
  return (WORKFLOWS as readonly string[]).includes(value);
}

/** Step Functions' statuses as the API reports them (a failed execution being redriven counts as RUNNING). */
export const OPERATION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** Step Functions' rule for execution names: also what an Idempotency-Key must be. */
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/** `<workflow>:<executionName>`: the workflow part tells which state machine, so a lookup needs no search. */
export function operationIdOf(workflow: WorkflowName, executionName: string): string {
  return `${workflow}:${executionName}`;
}

/** The workflow and execution name of an operation id, or null when it is not one. */
export function parseOperationId(
  operationId: string,
): { readonly workflow: WorkflowName; readonly executionName: string } | null {
  const colon = operationId.indexOf(':');
  if (colon < 0) return null;
  const workflow = operationId.slice(0, colon);
  const executionName = operationId.slice(colon + 1);
  if (!isWorkflowName(workflow) || !EXECUTION_NAME_PATTERN.test(executionName)) return null;
  return { workflow, executionName };
}

/**
 * JSON with object keys sorted at every level: two inputs that differ only in key order are the same request.
 * Both engines compare a retried request's input with the first one's in this form, and the API hashes it.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => [key, sortKeys(record[key])]),
  );
}

/** Every string of a JSON value with join-token shapes replaced (redact.ts): outputs should hold none anyway. */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)]));
}

/** Whether two workflow inputs are the same request. */
export function sameInput(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The execution name the API derives when a request carries no Idempotency-Key: a hash of the request and of the
 * UTC hour it arrives in. A client's retries (seconds or minutes apart) map to the first operation; the same
 * request an hour or more later (onboard, remove, onboard the same node again) is a new operation, where an
 * unscoped hash would return the first one for the 90 days Step Functions keeps names. A retry that straddles the
 * hour starts a second execution, which the workflows make harmless: it finds the node joined (or gone), or its
 * lock held. Clients that need exact control send a key (the CLI always does).
 */
export function hashedExecutionName(
  method: string,
  path: string,
  canonicalRequest: string,
  now: Date = new Date(),
): string {
  const hour = now.toISOString().slice(0, 13);
  const digest = createHash('sha256').update(`${method.toUpperCase()}${path}${canonicalRequest}${hour}`).digest('hex');
  return `api-${digest.slice(0, 40)}`;
}

export interface StartRequest {
  readonly workflow: WorkflowName;
  /** the execution name (Idempotency-Key or hash), already validated */
  readonly name: string;
  /** the workflow input, parsed by the route's schema (defaults applied): never a secret */
  readonly input: unknown;
}

export interface StartResult {
  readonly operationId: string;
  /** an execution of this name already existed: nothing was started */
  readonly existed: boolean;
  /** when it existed: whether its input equals this request's (false → the API answers 409) */
  readonly sameInput: boolean;
}

/** One Task state of an execution (a Lambda step or a child workflow), as its history shows it. */
export interface StepTiming {
  readonly step: string;
  /** ISO 8601 */
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
}

export interface OperationError {
  /** the workflow's own error name (InvalidRequestError, NodeLockedError, …) */
  readonly name: string;
  readonly message: string;
}

/** A short view of one execution, for lists. */
export interface OperationSummary {
  readonly operationId: string;
  readonly workflow: WorkflowName;
  readonly status: OperationStatus;
  /** the node the input names; null for an uninstall, a batch or a drift check */
  readonly node: string | null;
  /** `remove`, `rollback` or `uninstall` for remove-node; null for onboard-node */
  readonly mode: string | null;
  readonly startedAt: string;
  readonly stoppedAt: string | null;
}

/**
 * One entry of an execution's event log: the local runtime's WorkflowEvent (local/runtime.ts), which Step Functions'
 * history is mapped to, so that the CLI prints the same `--json` document through the API as locally.
 */
export interface OperationEvent {
  /** ExecutionStarted, StateEntered, StateExited, StateFailed, StateRetried, StateCaught, ExecutionSucceeded, … */
  readonly type: string;
  /** the workflow the event belongs to (a child `.sync` execution reports its own) */
  readonly workflow: string;
  /** the execution name it belongs to: tells a child run from its parent */
  readonly execution: string;
  readonly state?: string;
  /** Task, Choice, Pass, Wait, … */
  readonly stateType?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: OperationError;
  /** milliseconds since the epoch */
  readonly timestamp: number;
}

/** Everything the API tells about one execution. Never its input, which the caller already has. */
export interface Operation extends OperationSummary {
  /** the execution's ARN (a local one under `serve`) */
  readonly arn?: string;
  /** how many times the execution was continued after the process running it died (always 0 deployed) */
  readonly resumed?: number;
  /** under `serve`, the execution record's path (shared with the CLI's `--sandbox`); deployed, absent */
  readonly record?: string;
  /** the state running now; null once the execution has ended */
  readonly currentStep: string | null;
  readonly steps: readonly StepTiming[];
  /** the workflow's output when it succeeded (secrets redacted), else null */
  readonly output: unknown;
  readonly error: OperationError | null;
}

export interface ListFilter {
  /** only the operations whose input names this node */
  readonly node?: string;
  /** at most this many, newest first */
  readonly limit: number;
}

export interface WorkflowEngine {
  /**
   * Starts `workflow` under `name`, or finds the execution that already has that name.
   * @throws EngineThrottledError when the engine refuses for now, TransientServiceError when it cannot be reached
   */
  start(request: StartRequest): Promise<StartResult>;
  /** The execution, or null when none has this id. @throws EngineThrottledError, TransientServiceError */
  describe(operationId: string): Promise<Operation | null>;
  /** Recent executions of every workflow, newest first. @throws EngineThrottledError, TransientServiceError */
  list(filter: ListFilter): Promise<OperationSummary[]>;
  /**
   * The execution's event log, oldest first (inputs and outputs redacted by the router), or null when no execution
   * has this id. @throws EngineThrottledError, TransientServiceError
   */
  events(operationId: string): Promise<OperationEvent[] | null>;
}

/**
 * The engine throttled the call (Step Functions' ThrottlingException). A TransientServiceError like any other,
 * which the API answers with 429 and Retry-After rather than 503.
 */
export class EngineThrottledError extends TransientServiceError {
  constructor(
    message: string,
    /** seconds the caller should wait */
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}
