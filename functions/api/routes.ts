import * as z from 'zod';
import { MAX_BATCH_REQUESTS } from '../shared/batch';
import { existingNodeNameRule, nodeIpRule, nodeNameRule, type Rule } from '../shared/domain';
import { OnboardRequest, versionFormatRule } from '../shared/schemas';
import { EXECUTION_NAME_PATTERN, OPERATION_STATUSES, parseOperationId, WORKFLOWS } from './engine';

/*
 * The REST API, declared once: each route's method, path, parameters, body and responses as zod schemas. The
 * router validates requests with them, and the OpenAPI document and API Gateway's request validation are generated
 * from them, so the three cannot disagree. Request schemas hold no transforms and response schemas none at all:
 * every schema converts with zod 4's `z.toJSONSchema` (requests with `io: 'input'`).
 */

// ---------------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------------

/** A string checked by one of the shared rules; the rule's reason is the message. */
function ruled(rule: Rule<string>, description: string) {
  return z
    .string({ error: 'must be a string' })
    .superRefine((value, ctx) => {
      const reason = rule(value);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    })
    .describe(description);
}

/** `true` or `false` in a query string; the router turns it into a boolean. */
const QueryBoolean = z.enum(['true', 'false'], { error: 'must be true or false' });

/** A page size in a query string. */
export const MAX_PAGE_SIZE = 500;
const PageSize = z
  .string({ error: 'must be a string' })
  .regex(/^[1-9][0-9]{0,2}$/, { error: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  .refine((value) => Number(value) <= MAX_PAGE_SIZE, { error: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  .describe(`page size, 1 to ${MAX_PAGE_SIZE}`);

/** Any name a node can have (removal and lookups take nodes joined by hand too). */
const NodeNameParam = ruled(existingNodeNameRule, 'the node name');

const OperationIdParam = z
  .string({ error: 'must be a string' })
  .refine((id) => parseOperationId(id) !== null, {
    error: `must be <workflow>:<execution name>, the workflow one of ${WORKFLOWS.join(', ')}`,
  })
  .describe('the operation id a POST or DELETE returned, e.g. onboard-node:api-3f2a9c…');

/** The header whose value becomes the execution name, so that a retried request never starts a second one. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** The header that confirms an uninstall, as `?confirm=kubeedge` does. */
export const CONFIRM_HEADER = 'x-edgekeeper-confirm';
/** What confirms an uninstall. */
export const CONFIRM_WORD = 'kubeedge';

/** Headers of the routes that start a workflow. The router checks the key's length per workflow (rollback). */
const StartHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .regex(EXECUTION_NAME_PATTERN)
    .optional()
    .describe(
      'becomes the execution name (1-80 of A-Z a-z 0-9 - _; at most 71 for POST /nodes, whose rollback runs as ' +
        '<key>-rollback): a retry with the same key returns the first operation; a different request with the ' +
        'same key is a 409',
    ),
});

// ---------------------------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------------------------

/**
 * `POST /nodes`: the onboard-node workflow's input, parsed by the very schema its validate step uses (a zod/mini
 * schema, as every step's: hence the core type). Exported on its own so the manual join (`mode: "manual"`) can widen
 * it into a union without touching the router.
 */
export const OnboardBody: z.core.$ZodType = OnboardRequest;

/** What a batch does: each request is one onboard-node or remove-node run (docs/adr/0012-batch-onboarding.md). */
export const BATCH_ACTIONS = { onboard: 'batch-onboard', remove: 'batch-remove' } as const;

/**
 * `POST /batches`: the batch workflows' input and which of them. Each request is checked by the batch itself, as
 * for a batch from the inventory: a wrong one fails alone (InvalidRequestError in its result) and the others run.
 */
export const BatchBody = z.strictObject({
  action: z
    .enum(['onboard', 'remove'], { error: 'must be onboard or remove' })
    .describe('onboard: batch-onboard runs onboard-node per request; remove: batch-remove runs remove-node'),
  requests: z
    .array(z.record(z.string(), z.unknown()), { error: 'must be a list of requests' })
    .min(1, { error: 'must hold at least one request' })
    .max(MAX_BATCH_REQUESTS, { error: `must hold at most ${MAX_BATCH_REQUESTS} requests: split the batch` })
    .describe(
      "onboard: POST /nodes' body per node (manual joins and dryRun are refused per request); remove: " +
        '{nodeName, instanceId?, drain?, force?, forceHost?}; either with an optional id (1-64 of A-Z a-z 0-9 - _), ' +
        'the name of the node’s own operation. No two requests may share a node name, IP, instance id or id',
    ),
});
export type BatchBody = z.infer<typeof BatchBody>;

/** `POST /drift-checks`: the drift-check workflow's input. */
export const DriftCheckBody = z.strictObject({
  remediate: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('also fix what is safe to fix (fence DaemonSets, expire stale locks); default false: report only'),
});

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

export const ApiErrorDetail = z.object({
  field: z.string().describe('the body field, query or path parameter, or header that is wrong'),
  value: z.string().nullable().describe('the value received, cut after 80 characters; null when absent'),
  reason: z.string(),
});
export type ApiErrorDetail = z.infer<typeof ApiErrorDetail>;

/** Every error the API answers: a workflow's own error keeps its name in `code`. */
export const ApiError = z.object({
  code: z.string().describe('InvalidRequestError, NotFoundError, IdempotencyConflictError, NodeLockedError, …'),
  message: z.string(),
  details: z.array(ApiErrorDetail),
});
export type ApiError = z.infer<typeof ApiError>;

export const OperationAccepted = z.object({
  operationId: z.string(),
  statusUrl: z.string().describe('the path of GET /operations/{id} for this operation'),
  existed: z.boolean().describe('true when this is a retry: the operation started earlier and nothing new started'),
});
export type OperationAccepted = z.infer<typeof OperationAccepted>;

/** `POST /nodes`: a manual join's answer carries the command a person runs on the device (docs/adr/0009). */
export const OnboardAccepted = OperationAccepted.extend({
  joinCommand: z
    .string()
    .nullable()
    .optional()
    .describe(
      'a manual join only: the command to run once, as root, on the device. It holds the cluster join token: ' +
        'shown in this answer only, never logged, stored or in GET /operations. Rendered once the operation waits ' +
        'for the node; null when it ended before (follow statusUrl for why) or did not get there within this ' +
        'answer (then GET /join-command renders it). A retry of the request while the operation waits renders it ' +
        'again, with the current token',
    ),
});
export type OnboardAccepted = z.infer<typeof OnboardAccepted>;

/** `GET /join-command`: KubeSphere's "Add Edge Node" command. */
export const JoinCommand = z.object({
  command: z
    .string()
    .describe('the command to run once, as root, on the device; it holds the cluster join token: do not keep it'),
});
export type JoinCommand = z.infer<typeof JoinCommand>;

const Timestamp = z.string().describe('ISO 8601');

export const OperationSummary = z.object({
  operationId: z.string(),
  workflow: z.enum(WORKFLOWS),
  status: z.enum(OPERATION_STATUSES),
  node: z.string().nullable(),
  mode: z.string().nullable().describe('remove, rollback or uninstall for remove-node; null for onboard-node'),
  startedAt: Timestamp,
  stoppedAt: Timestamp.nullable(),
});
export type OperationSummary = z.infer<typeof OperationSummary>;

export const StepTiming = z.object({
  step: z.string(),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
});

export const Operation = OperationSummary.extend({
  arn: z.string().optional().describe('the execution ARN'),
  resumed: z
    .number()
    .int()
    .optional()
    .describe('how many times it was continued after the process running it died (serve only; 0 deployed)'),
  record: z.string().optional().describe('serve only: the path of the execution record, shared with the CLI'),
  currentStep: z.string().nullable().describe('the state running now; null once the operation has ended'),
  steps: z.array(StepTiming),
  output: z.unknown().describe('the workflow output when it succeeded; never a secret'),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
});
export type Operation = z.infer<typeof Operation>;

export const OperationEvent = z.object({
  type: z.string().describe('ExecutionStarted, StateEntered, StateExited, StateFailed, StateRetried, StateCaught, …'),
  workflow: z.string().describe('the workflow the event belongs to (a child workflow reports its own)'),
  execution: z.string().describe('the execution name it belongs to: tells a child run from its parent'),
  state: z.string().optional(),
  stateType: z.string().optional().describe('Task, Choice, Pass, Wait, …'),
  input: z.unknown().optional().describe('the state’s input; never a secret'),
  output: z.unknown().optional().describe('the state’s output; never a secret'),
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  timestamp: z.number().int().describe('milliseconds since the epoch'),
});

export const OperationEventList = z.object({
  events: z.array(OperationEvent).describe('oldest first, the child workflows’ events among their parent’s'),
});

export const OperationList = z.object({ items: z.array(OperationSummary) });

export const LastOperation = z
  .object({
    operationId: z.string(),
    status: z.enum(OPERATION_STATUSES).nullable().describe('null when the operation is no longer known'),
    startedAt: Timestamp.nullable(),
  })
  .describe('the newest operation on this node, or the onboarding recorded on it');

export const EdgeNode = z.object({
  name: z.string(),
  instanceId: z.string().nullable().describe('the SSM managed instance edgekeeper recorded on the node'),
  internalIP: z.string().nullable(),
  ready: z.boolean(),
  kubeedgeVersion: z.string().nullable().describe('the KubeEdge version edgecore reports, e.g. v1.6.1'),
  kubeletVersion: z.string().nullable().describe('the kubelet version as edgecore reports it'),
  managed: z.boolean().describe('edgekeeper onboarded this node'),
  lastOperation: LastOperation.nullable(),
});
export type EdgeNode = z.infer<typeof EdgeNode>;

/** A drift check's summary, as the drift-check operation returns it and the latest report stores it. */
export const DriftSummary = z
  .looseObject({
    runId: z.string().describe('the drift-check execution name'),
    finishedAt: Timestamp,
    remediate: z.boolean(),
    total: z.number().int().describe('findings the checks made'),
    fixed: z.number().int().describe('of them, fixed by this run'),
    open: z.number().int().describe('left for a person or the next remediating run'),
    byType: z.record(z.string(), z.unknown()),
    bySeverity: z.record(z.string(), z.number().int()),
    findings: z.array(z.record(z.string(), z.unknown())).describe('the first findings, open ones first'),
    truncated: z.boolean().describe('true when findings is not every finding: the stored report has them all'),
    notes: z.array(z.string()),
    report: z.looseObject({ stored: z.boolean(), location: z.string(), key: z.string().optional() }),
  })
  .describe('the summary of a drift check (the stored report also lists every finding)');

export const EdgeNodeList = z.object({
  items: z.array(EdgeNode),
  continue: z.string().nullable().describe('pass as ?continue= for the next page; null on the last one'),
});
export type EdgeNodeList = z.infer<typeof EdgeNodeList>;

// ---------------------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface ApiResponseSpec {
  readonly description: string;
  readonly schema?: z.ZodType;
}

export interface ApiRoute {
  readonly method: HttpMethod;
  /** API Gateway style: `/nodes/{name}` */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** path parameters by name */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** headers the route reads (lower-case names); others pass */
  readonly headers?: z.ZodObject;
  /** zod's core type: a body may be a step's own zod/mini schema (OnboardBody) */
  readonly body?: z.core.$ZodType;
  readonly responses: Readonly<Record<number, ApiResponseSpec>>;
}

const error = (description: string): ApiResponseSpec => ({ description, schema: ApiError });

/** Answers every route may give. */
const COMMON_ERRORS = {
  400: error('a parameter, header or body field is wrong: details lists each with its value and reason'),
  429: error('too many requests: retry after the Retry-After header'),
  500: error('an internal error; the message says nothing more, the logs do'),
  503: error('the cluster or the workflow engine did not answer: retry shortly'),
} as const;

/** Answers of the routes that start a workflow. */
const START_RESPONSES = {
  200: { description: 'a retry: the operation this Idempotency-Key started earlier', schema: OperationAccepted },
  202: { description: 'the operation started; follow it at statusUrl', schema: OperationAccepted },
  409: error(
    'IdempotencyConflictError: the Idempotency-Key already started a different request; NodeLockedError: ' +
      'another operation holds the node',
  ),
  ...COMMON_ERRORS,
} as const;

const ROUTES = [
  {
    method: 'POST',
    path: '/nodes',
    operationId: 'onboardNode',
    summary: 'Onboard an edge node: starts the onboard-node workflow',
    headers: StartHeaders,
    body: OnboardBody,
    responses: {
      ...START_RESPONSES,
      200: {
        description: 'a retry: the operation this Idempotency-Key started earlier (a manual join: its command again)',
        schema: OnboardAccepted,
      },
      202: {
        description: 'the operation started; follow it at statusUrl (a manual join: with the command to run)',
        schema: OnboardAccepted,
      },
      500: error(
        'InternalError; JoinCommandNotRenderedError: the manual join started (its id in the message) but its ' +
          'command could not be rendered: retry the request, or GET /join-command; else the wait times out and ' +
          'releases the node',
      ),
    },
  },
  {
    method: 'GET',
    path: '/join-command',
    operationId: 'getJoinCommand',
    summary: 'The command that joins a device by hand (KubeSphere\'s "Add Edge Node" command); starts nothing',
    query: z.strictObject({
      name: ruled(nodeNameRule, 'the node name the device joins as (DNS-1123 label)'),
      ip: ruled(nodeIpRule, 'the InternalIP of the node (IPv4)'),
      kubeedgeVersion: ruled(versionFormatRule, 'KubeEdge version, e.g. v1.6.1').optional(),
      region: z.enum(['zh', 'en'], { error: 'must be zh or en' }).optional().describe('keadm download region'),
      taint: QueryBoolean.optional().describe('add the node-role.kubernetes.io/edge:NoSchedule taint (default true)'),
    }),
    responses: {
      200: {
        description: 'the command; it holds the join token: show it to the person who joins',
        schema: JoinCommand,
      },
      422: error(
        'KubeEdgeNotInstalledError, CloudcoreConfigError, InvalidJoinTokenError: the cluster cannot give a command',
      ),
      ...COMMON_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/nodes',
    operationId: 'listNodes',
    summary: 'The edge nodes of the cluster, with their last operation',
    query: z.strictObject({
      limit: PageSize.optional(),
      continue: z.string({ error: 'must be a string' }).min(1).optional().describe('from the previous page'),
    }),
    responses: { 200: { description: 'one page of edge nodes', schema: EdgeNodeList }, ...COMMON_ERRORS },
  },
  {
    method: 'GET',
    path: '/nodes/{name}',
    operationId: 'getNode',
    summary: 'One edge node, with its last operation',
    params: z.strictObject({ name: NodeNameParam }),
    responses: {
      200: { description: 'the edge node', schema: EdgeNode },
      404: error('NotFoundError: no edge node has this name'),
      ...COMMON_ERRORS,
    },
  },
  {
    method: 'DELETE',
    path: '/nodes/{name}',
    operationId: 'removeNode',
    summary: 'Remove an edge node: starts the remove-node workflow (drain, reset the host, delete the node)',
    params: z.strictObject({ name: NodeNameParam }),
    query: z.strictObject({
      drain: QueryBoolean.optional().describe('cordon and evict workload pods instead of refusing'),
      force: QueryBoolean.optional().describe('when the host is offline, clean up the cluster side only'),
    }),
    headers: StartHeaders,
    responses: {
      ...START_RESPONSES,
      422: error('NotAnEdgeNodeError: the node exists but is not an edge node'),
    },
  },
  {
    method: 'GET',
    path: '/operations/{id}',
    operationId: 'getOperation',
    summary: 'One operation: status, current step, per-step timings, output or error',
    params: z.strictObject({ id: OperationIdParam }),
    responses: {
      200: { description: 'the operation', schema: Operation },
      404: error('NotFoundError: no operation has this id'),
      ...COMMON_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/operations/{id}/events',
    operationId: 'getOperationEvents',
    summary: 'One operation’s event log, with each state’s input and output: what the CLI prints under --json',
    params: z.strictObject({ id: OperationIdParam }),
    responses: {
      200: { description: 'the events', schema: OperationEventList },
      404: error('NotFoundError: no operation has this id'),
      ...COMMON_ERRORS,
    },
  },
  {
    method: 'GET',
    path: '/operations',
    operationId: 'listOperations',
    summary: 'Recent operations, newest first; with ?node= only those on that node',
    query: z.strictObject({
      node: NodeNameParam.optional(),
      limit: PageSize.optional(),
    }),
    responses: { 200: { description: 'the operations', schema: OperationList }, ...COMMON_ERRORS },
  },
  {
    method: 'POST',
    path: '/batches',
    operationId: 'startBatch',
    summary:
      'Onboard or remove many edge nodes: starts batch-onboard or batch-remove; the operation output has the ' +
      'per-node results and totals',
    headers: StartHeaders,
    body: BatchBody,
    responses: {
      ...START_RESPONSES,
      400: error(
        'InvalidRequestError: the body is wrong; BatchCollisionError: requests share a node name, IP, instance id ' +
          'or id (each named with their indexes). Nothing started',
      ),
      409: error('IdempotencyConflictError: the Idempotency-Key already started a different request'),
    },
  },
  {
    method: 'POST',
    path: '/drift-checks',
    operationId: 'startDriftCheck',
    summary: 'Check the edge nodes, the cluster and the inventory for drift: starts drift-check',
    headers: StartHeaders,
    body: DriftCheckBody,
    responses: {
      ...START_RESPONSES,
      409: error('IdempotencyConflictError: the Idempotency-Key already started a different request'),
    },
  },
  {
    method: 'GET',
    path: '/drift-checks/latest',
    operationId: 'getLatestDriftCheck',
    summary: 'The summary of the latest drift check that stored its report',
    responses: {
      200: { description: 'the latest report’s summary', schema: DriftSummary },
      404: error('NotFoundError: no drift check has stored a report yet'),
      ...COMMON_ERRORS,
    },
  },
  {
    method: 'DELETE',
    path: '/kubeedge',
    operationId: 'uninstallKubeEdge',
    summary: `Uninstall KubeEdge from the cluster; needs ?confirm=${CONFIRM_WORD} or the ${CONFIRM_HEADER} header`,
    query: z.strictObject({
      force: QueryBoolean.optional().describe('remove the remaining edge nodes first instead of refusing'),
      confirm: z.string({ error: 'must be a string' }).optional().describe(`must be ${CONFIRM_WORD}`),
    }),
    headers: StartHeaders.extend({
      [CONFIRM_HEADER]: z.string().optional().describe(`${CONFIRM_WORD}, instead of ?confirm=`),
    }),
    responses: START_RESPONSES,
  },
] as const satisfies readonly ApiRoute[];

/** Every route of the API, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly ApiRoute[] = ROUTES;

export type ApiRouteId = (typeof ROUTES)[number]['operationId'];
