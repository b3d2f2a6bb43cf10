import * as z from 'zod';
import { checkBatch } from '../check-batch/core';
import type { DriftReportStore } from '../drift-findings/report-store';
import { reportStoreFor } from '../drift-findings/store-for';
import { EdgekeeperError, formatProblem, InvalidRequestError, type Problem, shownValue } from '../shared/errors';
import { kubeClients } from '../shared/k8s';
import { manualJoinCommand } from '../shared/manual-join';
import { ROLLBACK_SUFFIX } from '../shared/node-lock';
import { redactSecrets } from '../shared/redact';
import type { OnboardRequest } from '../shared/schemas';
import type { Settings } from '../shared/settings';
import { problemsFromIssues } from '../shared/zod-problems';
import {
  canonicalJson,
  EngineThrottledError,
  EXECUTION_NAME_PATTERN,
  hashedExecutionName,
  type Operation,
  type OperationEvent,
  type OperationSummary,
  operationIdOf,
  redactDeep,
  type WorkflowEngine,
  type WorkflowName,
} from './engine';
import { type LockHolders, leaseLockHolders, refuseWhileLocked } from './locks';
import { isManualJoin, type JoinCommandSource, type ManualJoinWait, manualJoinStage } from './manual-join';
import { getEdgeNode, isEdgeNode, kubeNodeSource, listEdgeNodes, type NodeSource } from './nodes';
import {
  API_ROUTES,
  type ApiError,
  type ApiRoute,
  type ApiRouteId,
  BATCH_ACTIONS,
  type BatchBody,
  CONFIRM_HEADER,
  CONFIRM_WORD,
  IDEMPOTENCY_HEADER,
  type JoinCommand,
  type OnboardAccepted,
  type OperationAccepted,
} from './routes';

/*
 * The REST API's handlers, independent of API Gateway and of the local server: handler.ts maps API Gateway's
 * proxy events onto `handleApiRequest`, `edgekeeper serve` maps node:http onto it. Every answer is JSON; every
 * error is `{code, message, details}` with each bad field, its value (cut) and the reason, and a 500 says nothing
 * about its cause.
 */

export interface ApiRequest {
  readonly method: string;
  /** the path without the stage, e.g. `/nodes/edge-1`; percent-encoding is decoded per segment */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** lower-case names */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ApiDeps {
  readonly engine: WorkflowEngine;
  readonly settings: Settings;
  /** where nodes are read; default: the cluster the settings name (the steps' kubeconfig) */
  readonly cluster?: NodeSource;
  /** who holds a node's locks; default: the cluster's lock Leases (locks.ts) */
  readonly lockHolders?: LockHolders;
  /** told of every error that ends in a 500 (whose answer says nothing of it), for the logs */
  readonly onInternalError?: (error: unknown) => void;
  /** the clock that scopes a request hash to its hour (see hashedExecutionName); default: now */
  readonly now?: () => Date;
  /** renders a manual join's command (it reads the join token); default: from the cluster the settings name */
  readonly joinCommand?: JoinCommandSource;
  /** how long POST /nodes waits for a manual join to reach its wait before rendering its command */
  readonly manualJoinWait?: ManualJoinWait;
  /** where GET /drift-checks/latest reads the latest report; default: the store the settings name (store-for.ts) */
  readonly driftReports?: Pick<DriftReportStore, 'readLatest'>;
}

/** Default page sizes. */
const NODES_PAGE = 100;
const OPERATIONS_PAGE = 50;

/** Answers one request. Never throws: every failure is an ApiResponse. */
export async function handleApiRequest(request: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    const method = request.method.toUpperCase();
    const matched = matchRoute(method, request.path);
    if (matched.kind === 'none') {
      return failure(404, 'NotFoundError', `no route ${shownValue(method)} ${shownValue(request.path)}`);
    }
    if (matched.kind === 'method') {
      const allowed = matched.allowed.join(', ');
      return {
        ...failure(405, 'MethodNotAllowedError', `${shownValue(request.path)} answers ${allowed} only`),
        headers: { ...JSON_HEADERS, allow: allowed },
      };
    }
    const valid = validate(matched.route, matched.params, request);
    if (valid.problems.length > 0) throw new InvalidRequestError(valid.problems);
    return await HANDLERS[matched.route.operationId as ApiRouteId](valid, request, deps);
  } catch (error) {
    return errorResponse(error, deps);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Routes' handlers
// ---------------------------------------------------------------------------------------------------------------

/** A request that passed its route's schemas. */
interface ValidRequest {
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
  readonly body: unknown;
  readonly problems: readonly Problem[];
}

type RouteHandler = (valid: ValidRequest, request: ApiRequest, deps: ApiDeps) => Promise<ApiResponse>;

const HANDLERS: Record<ApiRouteId, RouteHandler> = {
  onboardNode: async (valid, request, deps) => {
    const input = valid.body as OnboardRequest;
    const started = await start('onboard-node', input, valid, request, deps, input.nodeName);
    if (!isManualJoin(input) || !('accepted' in started)) return answerStart(started);
    return answerStart(await withJoinCommand(started, input, deps));
  },

  getJoinCommand: async (valid, _request, deps) => {
    const { name, ip, kubeedgeVersion, region, taint } = valid.query;
    const joinRequest = {
      nodeName: name,
      nodeIp: ip,
      taint: taint !== 'false',
      ...(kubeedgeVersion !== undefined && { kubeedgeVersion }),
      ...(region !== undefined && { region }),
    };
    const command: JoinCommand = { command: await renderJoinCommand(deps, joinRequest) };
    return ok(200, command);
  },

  listNodes: async (valid, _request, deps) => {
    const page = {
      limit: valid.query.limit ? Number(valid.query.limit) : NODES_PAGE,
      ...(valid.query.continue !== undefined && { continue: valid.query.continue }),
    };
    return ok(200, await listEdgeNodes(await nodeSource(deps), deps.engine, page));
  },

  getNode: async (valid, _request, deps) => {
    const node = await getEdgeNode(await nodeSource(deps), deps.engine, valid.params.name);
    if (!node) return failure(404, 'NotFoundError', `no edge node is named ${valid.params.name}`);
    return ok(200, node);
  },

  removeNode: async (valid, request, deps) => {
    const name = valid.params.name;
    // a node that is gone still has locks, routing and a host to clean; one that is not an edge node is refused
    const node = await (await nodeSource(deps)).readNode(name);
    if (node && !isEdgeNode(node)) {
      return failure(
        422,
        'NotAnEdgeNodeError',
        `node ${name} is not an edge node: edgekeeper removes only edge nodes`,
        [{ field: 'name', value: name, reason: 'is not an edge node (it has no node-role.kubernetes.io/edge label)' }],
      );
    }
    const input = {
      mode: 'remove',
      nodeName: name,
      drain: valid.query.drain === 'true',
      force: valid.query.force === 'true',
    };
    return answerStart(await start('remove-node', input, valid, request, deps, name));
  },

  getOperation: async (valid, _request, deps) => {
    const operation = await deps.engine.describe(valid.params.id);
    if (!operation) return failure(404, 'NotFoundError', `no operation has the id ${shownValue(valid.params.id)}`);
    return ok(200, publicOperation(operation));
  },

  getOperationEvents: async (valid, _request, deps) => {
    const events = await deps.engine.events(valid.params.id);
    if (!events) return failure(404, 'NotFoundError', `no operation has the id ${shownValue(valid.params.id)}`);
    return ok(200, { events: events.map(publicEvent) });
  },

  listOperations: async (valid, _request, deps) => {
    const limit = valid.query.limit ? Number(valid.query.limit) : OPERATIONS_PAGE;
    const items = await deps.engine.list({ ...(valid.query.node && { node: valid.query.node }), limit });
    return ok(200, { items: items.slice(0, limit).map(summaryOf) });
  },

  startBatch: async (valid, request, deps) => {
    const { action, requests } = valid.body as BatchBody;
    const workflow = BATCH_ACTIONS[action];
    const batchOf = workflow === 'batch-onboard' ? 'onboard-node' : 'remove-node';
    // the batch's own first check, before it starts: a list that cannot be a batch, or requests that collide, are
    // a 400 here rather than a failed operation (each request's own fields are checked by the batch, per node)
    const precheck = (name: string) => checkBatch(batchOf, name, requests, deps.settings);
    return answerStart(await start(workflow, { requests }, valid, request, deps, undefined, precheck));
  },

  startDriftCheck: async (valid, request, deps) => {
    const { remediate } = valid.body as { remediate?: boolean };
    return answerStart(await start('drift-check', { remediate: remediate === true }, valid, request, deps));
  },

  getLatestDriftCheck: async (_valid, _request, deps) => {
    const latest = await (deps.driftReports ?? reportStoreFor(deps.settings)).readLatest();
    if (latest === null) return failure(404, 'NotFoundError', 'no drift check has stored a report yet');
    const summary = (latest as { summary?: unknown }).summary;
    if (summary === null || typeof summary !== 'object') {
      throw new Error('the latest drift report holds no summary');
    }
    return ok(200, redactDeep(summary));
  },

  uninstallKubeEdge: async (valid, request, deps) => {
    const input = { mode: 'uninstall', force: valid.query.force === 'true' };
    return answerStart(await start('remove-node', input, valid, request, deps));
  },
};

async function nodeSource(deps: ApiDeps): Promise<NodeSource> {
  return deps.cluster ?? kubeNodeSource(await kubeClients(deps.settings));
}

/** A start the API accepted (202, or 200 for a retry), or its refusal. */
type Started = { readonly accepted: OnboardAccepted } | ApiResponse;

function answerStart(started: Started): ApiResponse {
  if (!('accepted' in started)) return started;
  const { accepted } = started;
  return { ...ok(accepted.existed ? 200 : 202, accepted), headers: { ...JSON_HEADERS, location: accepted.statusUrl } };
}

/**
 * Starts a workflow under the request's execution name: its Idempotency-Key, else a hash of the request. A retry
 * finds the first execution and answers 200 with its id; the same key on a different request is a 409, and so is
 * a node another operation holds.
 */
async function start(
  workflow: WorkflowName,
  input: unknown,
  valid: ValidRequest,
  request: ApiRequest,
  deps: ApiDeps,
  node?: string,
  /** checks the request under its execution name before the start; throws what the API answers */
  precheck?: (name: string) => void,
): Promise<Started> {
  const key = request.headers[IDEMPOTENCY_HEADER];
  const name = key ?? hashedExecutionName(request.method, valid.path, canonicalJson(input), deps.now?.() ?? new Date());
  precheck?.(name);
  if (node !== undefined) await refuseWhileLocked(deps.lockHolders ?? leaseLockHolders(deps.settings), node, name);
  const started = await deps.engine.start({ workflow, name, input });
  if (started.existed && !started.sameInput) {
    const operationId = operationIdOf(workflow, name);
    return failure(
      409,
      'IdempotencyConflictError',
      `the Idempotency-Key ${name} already started operation ${operationId} with a different request: ` +
        'repeat that request to follow it, or send a new key to start another operation',
      [{ field: 'Idempotency-Key', value: name, reason: `already started ${operationId} with a different request` }],
    );
  }
  const accepted: OperationAccepted = {
    operationId: started.operationId,
    statusUrl: `/operations/${started.operationId}`,
    existed: started.existed,
  };
  return { accepted };
}

/**
 * A manual join's answer: the command a person runs on the device, rendered here, after the start, once the
 * execution waits for the node (valid, locked, settings resolved), so the token never enters the execution. A
 * retry renders it again (cloudcore may have rotated the token; anyone allowed this route may also call GET
 * /join-command, so a second showing reveals nothing new). Rendering that fails leaves the operation running: it
 * says so, and how to get the command; without one, the wait times out and releases the node.
 */
async function withJoinCommand(
  started: { readonly accepted: OnboardAccepted },
  input: OnboardRequest,
  deps: ApiDeps,
): Promise<Started> {
  const { operationId } = started.accepted;
  const stage = await manualJoinStage(deps.engine, operationId, deps.manualJoinWait);
  if (stage !== 'waiting') return { accepted: { ...started.accepted, joinCommand: null } };
  try {
    return { accepted: { ...started.accepted, joinCommand: await renderJoinCommand(deps, input) } };
  } catch (error) {
    const query = `name=${input.nodeName}&ip=${input.nodeIp}`;
    const how =
      `retry this request (same Idempotency-Key) or GET /join-command?${query} to render it; without it, the ` +
      'operation times out and releases the node';
    if (error instanceof EdgekeeperError && error.transient) {
      return {
        ...failure(
          503,
          'JoinCommandNotRenderedError',
          `operation ${operationId} started and waits for the node, but the cluster did not answer for its join command: ${how}`,
        ),
        headers: { ...JSON_HEADERS, 'retry-after': '5', location: started.accepted.statusUrl },
      };
    }
    // a named error of the cluster's configuration is the caller's to fix; anything else only the logs tell
    const cause = error instanceof EdgekeeperError ? ` (${error.name}: ${redactSecrets(error.message)})` : '';
    if (!cause) deps.onInternalError?.(error);
    return {
      ...failure(
        500,
        'JoinCommandNotRenderedError',
        `operation ${operationId} started and waits for the node, but its join command could not be rendered${cause}: ${how}`,
      ),
      headers: { ...JSON_HEADERS, location: started.accepted.statusUrl },
    };
  }
}

function renderJoinCommand(deps: ApiDeps, joinRequest: unknown): Promise<string> {
  return (deps.joinCommand ?? manualJoinCommand)(deps.settings, joinRequest);
}

function summaryOf(operation: OperationSummary): OperationSummary {
  const { operationId, workflow, status, node, mode, startedAt, stoppedAt } = operation;
  return { operationId, workflow, status, node, mode, startedAt, stoppedAt };
}

/** Only the declared fields, the output and the error message redacted: whatever an engine hands over. */
/** An event with its input, output and error message redacted: they should hold no secret anyway. */
function publicEvent(event: OperationEvent): OperationEvent {
  return {
    ...event,
    ...(event.input !== undefined && { input: redactDeep(event.input) }),
    ...(event.output !== undefined && { output: redactDeep(event.output) }),
    ...(event.error && { error: { name: event.error.name, message: redactSecrets(event.error.message) } }),
  };
}

function publicOperation(operation: Operation): Operation {
  return {
    ...summaryOf(operation),
    ...(operation.arn !== undefined && { arn: operation.arn }),
    ...(operation.resumed !== undefined && { resumed: operation.resumed }),
    ...(operation.record !== undefined && { record: operation.record }),
    currentStep: operation.currentStep,
    steps: operation.steps.map(({ step, startedAt, endedAt, durationMs, status }) => ({
      step,
      startedAt,
      endedAt,
      durationMs,
      status,
    })),
    output: redactDeep(operation.output ?? null),
    error: operation.error && { name: operation.error.name, message: redactSecrets(operation.error.message) },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Matching and validation
// ---------------------------------------------------------------------------------------------------------------

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

const COMPILED: readonly CompiledRoute[] = API_ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
});

type Match =
  | { readonly kind: 'route'; readonly route: ApiRoute; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

function matchRoute(method: string, rawPath: string): Match {
  // `/nodes/` is `/nodes`
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const allowed: string[] = [];
  for (const { route, pattern, names } of COMPILED) {
    const found = pattern.exec(path);
    if (!found) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    return { kind: 'route', route, params: Object.fromEntries(names.map((name, at) => [name, found[at + 1]])) };
  }
  return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
}

/** Checks every part of the request at once, so that one answer lists every problem. */
function validate(route: ApiRoute, rawParams: Record<string, string>, request: ApiRequest): ValidRequest {
  const problems: Problem[] = [];
  const params: Record<string, string> = {};
  for (const [name, raw] of Object.entries(rawParams)) {
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      problems.push({ field: name, value: raw, reason: 'is not valid percent-encoding' });
    }
  }
  if (route.params && problems.length === 0) problems.push(...check(route.params, params, 'path').problems);
  const query = { ...request.query };
  if (route.query) problems.push(...check(route.query, query, 'query').problems);
  else problems.push(...Object.keys(query).map((field) => unknownParameter(field, query[field])));
  if (route.headers) problems.push(...headerProblems(route, request.headers));
  if (route.operationId === 'uninstallKubeEdge') problems.push(...confirmationProblems(request));
  let body = parseBody(route, request.body, problems);
  if (route.body && body !== undefined) {
    const checked = check(route.body, body, 'body');
    problems.push(...checked.problems);
    body = checked.data;
  }
  // the path with its parameters in one encoding: part of the hash that names an execution without a key
  const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  return { path, params, query, body, problems };
}

/**
 * A value's problems under a schema, and the value parsed (defaults applied) when it has none. Unknown query
 * parameters are named as such, with their value.
 */
function check(
  schema: z.core.$ZodType,
  value: unknown,
  part: 'path' | 'query' | 'body',
): { problems: Problem[]; data: unknown } {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return { problems: [], data: parsed.data };
  const problems = problemsFromIssues(parsed.error.issues, value, 'body').map((problem) =>
    part === 'query' && problem.reason === 'is not a known field'
      ? unknownParameter(problem.field, (value as Record<string, string>)[problem.field])
      : problem,
  );
  return { problems, data: value };
}

function unknownParameter(field: string, value: string | undefined): Problem {
  return { field, value, reason: 'is not a query parameter of this route' };
}

function parseBody(route: ApiRoute, text: string | undefined, problems: Problem[]): unknown {
  const empty = text === undefined || text.trim() === '';
  if (!route.body) {
    if (!empty) {
      problems.push({ field: 'body', value: text, reason: 'must be empty: this route takes no body' });
    }
    return undefined;
  }
  if (empty) {
    problems.push({ field: 'body', value: undefined, reason: 'is required: a JSON object' });
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    problems.push({ field: 'body', value: text, reason: 'is not valid JSON' });
    return undefined;
  }
}

/** The Idempotency-Key becomes an execution name: Step Functions' rule, shorter where a rollback adds a suffix. */
function headerProblems(route: ApiRoute, headers: Readonly<Record<string, string>>): Problem[] {
  const key = headers[IDEMPOTENCY_HEADER];
  if (key === undefined) return [];
  const field = 'Idempotency-Key';
  const onboarding = route.operationId === 'onboardNode';
  const max = onboarding ? 80 - ROLLBACK_SUFFIX.length : 80;
  if (!EXECUTION_NAME_PATTERN.test(key) || key.length > max) {
    const why = onboarding ? ` (its rollback runs as <key>${ROLLBACK_SUFFIX}, within Step Functions' 80)` : '';
    return [{ field, value: key, reason: `must be 1 to ${max} characters of letters, digits, - and _${why}` }];
  }
  if (!onboarding && key.endsWith(ROLLBACK_SUFFIX)) {
    return [{ field, value: key, reason: `must not end in ${ROLLBACK_SUFFIX}: onboardings' rollbacks use such names` }];
  }
  return [];
}

/** Uninstalling KubeEdge deletes it for every edge node: the caller must say so in words. */
function confirmationProblems(request: ApiRequest): Problem[] {
  const given = request.query.confirm ?? request.headers[CONFIRM_HEADER];
  if (given === CONFIRM_WORD) return [];
  const how = `add ?confirm=${CONFIRM_WORD} or the header ${CONFIRM_HEADER}: ${CONFIRM_WORD}`;
  return [
    given === undefined
      ? { field: 'confirm', value: undefined, reason: `is required to uninstall KubeEdge from the cluster: ${how}` }
      : { field: 'confirm', value: given, reason: `must be ${CONFIRM_WORD}: ${how}` },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------------

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store' });

function ok(statusCode: number, body: unknown): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

function failure(statusCode: number, code: string, message: string, problems: readonly Problem[] = []): ApiResponse {
  const body: ApiError = {
    code,
    message,
    details: problems.map(({ field, value, reason }) => ({
      field,
      value: value === undefined ? null : shownValue(value),
      reason,
    })),
  };
  return ok(statusCode, body);
}

/** Errors a workflow names, answered by the API when a check before the start raises them. */
const STATUS_OF_ERROR: Readonly<Record<string, number>> = {
  NodeLockedError: 409,
  ClusterLockedError: 409,
  // POST /batches: two requests name the same node, IP, instance or id
  BatchCollisionError: 400,
  KubeEdgeNotInstalledError: 422,
  HostOfflineError: 422,
  // GET /join-command: the cluster's KubeEdge cannot give a command
  CloudcoreConfigError: 422,
  InvalidJoinTokenError: 422,
};

function errorResponse(error: unknown, deps: ApiDeps): ApiResponse {
  if (error instanceof InvalidRequestError) {
    return failure(400, error.name, error.problems.map(formatProblem).join('; '), error.problems);
  }
  if (error instanceof EngineThrottledError) {
    return {
      ...failure(429, 'TooManyRequestsError', 'the workflow engine is throttling requests: retry shortly'),
      headers: { ...JSON_HEADERS, 'retry-after': String(error.retryAfterSeconds) },
    };
  }
  if (error instanceof EdgekeeperError && error.transient) {
    return {
      ...failure(503, 'ServiceUnavailableError', 'the cluster or the workflow engine did not answer: retry shortly'),
      headers: { ...JSON_HEADERS, 'retry-after': '5' },
    };
  }
  if (error instanceof EdgekeeperError && STATUS_OF_ERROR[error.name] !== undefined) {
    const problems = (error as { problems?: readonly Problem[] }).problems ?? [];
    return failure(STATUS_OF_ERROR[error.name], error.name, redactSecrets(error.message), problems);
  }
  deps.onInternalError?.(error);
  return failure(500, 'InternalError', 'an internal error stopped this request; the API’s logs have the details');
}
