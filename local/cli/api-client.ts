import { randomUUID } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity } from '@smithy/types';
import { dump } from 'js-yaml';
import type { Operation, OperationStatus } from '../../functions/api/engine';
import { stageOf } from '../../functions/api/manual-join';
import type { ExecutionSummary, WorkflowEvent, WorkflowResult } from '../runtime';
import { signingRegion, signRequest } from './api-signing';
import { EXIT, type Io, shown, UsageError } from './io';
import { showJoinCommand } from './join-command-notice';
import { progressPrinter } from './progress';

/*
 * `onboard`, `remove` and `uninstall` with `--api-url URL` (or EDGEKEEPER_API_URL): the command becomes a REST call
 * (POST /nodes, DELETE /nodes/{name}, DELETE /kubeedge), then follows GET /operations/{id} to the end, reading its
 * event log (GET /operations/{id}/events: the runtime's own events) to print the same progress view and the same
 * `--json` document as a local run. A manual join (`onboard` without `--instance`)
 * shows the join command the API answers with, once, as a local run does (`join-command` is GET /join-command).
 * This module runs nothing locally: it must not
 * load local/runtime or the sandbox (a test walks its module graph), only their types.
 *
 * Signing: a deployed API answers only SigV4-signed requests (AWS_IAM on every method), signed here with the
 * standard credential chain. `edgekeeper serve` listens on a loopback address and has no IAM: requests to a
 * loopback host go unsigned, so trying the API locally needs no AWS account (and no credential lookup that could
 * stall on the instance metadata service).
 */

/** The flags of a workflow command that matter here. */
export interface ApiCommandFlags {
  readonly url: string;
  readonly json?: boolean;
  readonly executionName?: string;
  /** false with `--no-wait`: print the operation id and return */
  readonly wait?: boolean;
}

/** What the client needs from outside, replaceable in tests. */
export interface ApiClientDeps {
  readonly fetch?: typeof fetch;
  readonly credentials?: () => Promise<AwsCredentialIdentity>;
  /** between two polls of the operation @default 1000 */
  readonly pollMs?: number;
  /** before the first retry of a throttled or failed call; doubles each time @default 1000 */
  readonly retryMs?: number;
}

/** One request of the REST API, before the base URL and signing. */
interface ApiCall {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** path under the API's root (its stage), e.g. `/nodes/edge-1` */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** An answer that is not a 2xx: the API's `{code, message, details}`, or what API Gateway said instead. */
export class ApiRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: readonly { field: string; value: string | null; reason: string }[] = [],
  ) {
    super(message);
  }
  override readonly name = 'ApiRequestError';
}

/** The API's answer to a start. */
interface Accepted {
  readonly operationId: string;
  readonly statusUrl: string;
  readonly existed: boolean;
  /** a manual join's command (it holds the join token: shown once, never in the --json document); null: not yet */
  readonly joinCommand?: string | null;
}

const ENDED: ReadonlySet<OperationStatus> = new Set(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
const REQUEST_TIMEOUT_MS = 30_000;
/** Answers worth another try (0: no answer at all), and how many tries a call gets. */
const RETRIED: ReadonlySet<number> = new Set([0, 429, 502, 503, 504]);
const ATTEMPTS = 4;

/** Loopback hosts: what `edgekeeper serve` listens on, and the only ones called unsigned. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The REST call a workflow command becomes; the CLI has already checked the input with the workflow's schemas. */
export function apiCallFor(workflow: string, input: Record<string, unknown>): ApiCall {
  if (workflow === 'onboard-node') return { method: 'POST', path: '/nodes', body: input };
  if (workflow === 'remove-node' && input.mode === 'uninstall') {
    return {
      method: 'DELETE',
      path: '/kubeedge',
      query: { confirm: 'kubeedge', ...(input.force === true && { force: 'true' }) },
    };
  }
  if (workflow === 'remove-node' && input.mode === 'remove') {
    // the API removes a node by its name alone: the instance comes from the node's own record
    for (const [field, flag] of [
      ['instanceId', '--instance'],
      ['forceHost', '--force-host'],
    ] as const) {
      if (input[field] !== undefined) {
        throw new UsageError(
          `${flag} ${shown(input[field])}: the REST API does not take it; run with --local or --sandbox <dir>`,
        );
      }
    }
    return {
      method: 'DELETE',
      path: `/nodes/${encodeURIComponent(String(input.nodeName))}`,
      query: {
        ...(input.drain === true && { drain: 'true' }),
        ...(input.force === true && { force: 'true' }),
      },
    };
  }
  if (workflow === 'batch-onboard' || workflow === 'batch-remove') {
    const action = workflow === 'batch-onboard' ? 'onboard' : 'remove';
    return { method: 'POST', path: '/batches', body: { action, requests: input.requests } };
  }
  if (workflow === 'drift-check')
    return { method: 'POST', path: '/drift-checks', body: { remediate: input.remediate } };
  throw new UsageError(`--api-url: the REST API does not run ${workflow}; run it with --local or --sandbox <dir>`);
}

/**
 * How a command shows a successful operation's output without --json (default: YAML), and the exit code it gives
 * (default 0; a batch with failed nodes exits 1): the local run's views, so both paths print the same.
 */
export interface ApiResultView {
  readonly view?: (output: unknown) => string;
  readonly exitCode?: (output: unknown) => number;
}

/** Talks to one deployment of the REST API: builds, signs and sends requests, and parses the answers. */
export class ApiClient {
  private readonly base: URL;
  private readonly fetch: typeof fetch;
  private readonly credentials: () => Promise<AwsCredentialIdentity>;
  private readonly retryMs: number;

  constructor(
    url: string,
    private readonly env: NodeJS.ProcessEnv,
    deps: ApiClientDeps = {},
  ) {
    this.base = parseApiUrl(url);
    this.fetch = deps.fetch ?? fetch;
    this.credentials = deps.credentials ?? defaultProvider();
    this.retryMs = deps.retryMs ?? 1000;
  }

  /**
   * Sends a call and returns its JSON answer, trying again after a throttle, a gateway error or a lost connection:
   * every call is safe to repeat (a start carries its execution name). @throws ApiRequestError for any other answer
   */
  async send<T>(call: ApiCall): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.sendOnce<T>(call);
      } catch (error) {
        if (!(error instanceof ApiRequestError) || !RETRIED.has(error.statusCode) || attempt >= ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.retryMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async sendOnce<T>(call: ApiCall): Promise<T> {
    const url = new URL(this.base);
    url.pathname = `${this.base.pathname.replace(/\/$/, '')}${call.path}`;
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...call.headers,
    };
    const sent = isLoopback(url) ? headers : await this.sign({ method: call.method, url, headers, body });
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: call.method,
        headers: sent,
        ...(body !== undefined && { body }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiRequestError(
        0,
        'ApiUnreachableError',
        `${call.method} ${url.origin}${url.pathname}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    throw errorOfAnswer(response.status, parsed, text);
  }

  private async sign(request: Parameters<typeof signRequest>[0]): Promise<Record<string, string>> {
    const region = signingRegion(request.url, this.env);
    if (!region) {
      throw new UsageError(
        `--api-url ${shown(this.base.href)}: set AWS_REGION to the API's region (it is not in the host name)`,
      );
    }
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await this.credentials();
    } catch (error) {
      throw new UsageError(
        `--api-url ${shown(this.base.href)}: the API needs SigV4-signed requests and the AWS credential chain ` +
          `found no credentials (${(error as Error).message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID`,
      );
    }
    return signRequest(request, { credentials, region });
  }
}

function parseApiUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--api-url ${shown(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed))) {
    throw new UsageError(`--api-url ${shown(url)} must be https (http only for a loopback address, as serve uses)`);
  }
  if (parsed.search || parsed.hash) throw new UsageError(`--api-url ${shown(url)} must not have a query or fragment`);
  return parsed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's error document, or API Gateway's own `{message}` (a missing or refused signature, throttling). */
function errorOfAnswer(statusCode: number, parsed: unknown, text: string): ApiRequestError {
  const body = (parsed ?? {}) as { code?: unknown; message?: unknown; Message?: unknown; details?: unknown };
  if (typeof body.code === 'string' && typeof body.message === 'string') {
    const details = Array.isArray(body.details) ? (body.details as ApiRequestError['details']) : [];
    return new ApiRequestError(statusCode, body.code, body.message, details);
  }
  const message =
    typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : text;
  const code = statusCode === 403 ? 'AccessDeniedError' : statusCode === 429 ? 'TooManyRequestsError' : 'HttpError';
  return new ApiRequestError(statusCode, code, `HTTP ${statusCode}: ${shown(message.trim() || '(empty answer)')}`);
}

/**
 * Runs one workflow command through the REST API: starts it (the execution name as Idempotency-Key), then,
 * unless `--no-wait`, follows it to its end. Resolves to the exit code, as the local modes do.
 */
export async function runApiWorkflowCommand(
  workflow: string,
  input: Record<string, unknown>,
  flags: ApiCommandFlags,
  io: Io,
  deps: ApiClientDeps = {},
  shows: ApiResultView = {},
): Promise<number> {
  const call = apiCallFor(workflow, input);
  const client = new ApiClient(flags.url, io.env, deps);
  // Without --execution-name a local run is a new execution each time; so is this one. (Without a key the API
  // would name it after the request, and a later onboarding of the same node would find the first one.)
  const headers = { 'idempotency-key': flags.executionName ?? `cli-${randomUUID()}` };
  let answer: Accepted;
  try {
    answer = await client.send<Accepted>({ ...call, headers: { ...call.headers, ...headers } });
  } catch (error) {
    if (error instanceof ApiRequestError) return reportRefusal(error, flags, io);
    throw error;
  }
  const { joinCommand, ...accepted } = answer;
  const manual = isManualJoin(workflow, input) ? new ManualJoinCommand(client, input, flags, io) : undefined;
  if (typeof joinCommand === 'string') manual?.show(joinCommand);
  if (flags.wait === false) {
    io.stdout(flags.json ? `${JSON.stringify(accepted, null, 2)}\n` : `${accepted.operationId}\n`);
    if (manual && joinCommand === null) manual.later(accepted.operationId);
    return EXIT.ok;
  }
  let stopped: string | undefined;
  const unsubscribe = io.onStop((cause) => {
    stopped ??= cause;
  });
  // a retry shows no steps, as a local run of a name that already ran
  const view = flags.json || accepted.existed ? undefined : progressPrinter((line) => io.stderr(`${line}\n`), io.color);
  const events = new OperationEvents(client, accepted.operationId, view);
  let operation: Operation;
  // the event log is read again only when the operation moved on: deployed, each read is a history with its data
  let seen = '';
  try {
    for (;;) {
      operation = await client.send<Operation>({ method: 'GET', path: operationPath(accepted.operationId) });
      const progress = `${operation.status} ${operation.currentStep} ${operation.steps.length}`;
      if (view && progress !== seen) await events.update();
      seen = progress;
      // the API answered before the operation waited for the node: render the command once it does
      if (manual && stageOf(operation) === 'waiting') await manual.render();
      if (ENDED.has(operation.status) || stopped) break;
      await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 1000));
    }
  } catch (error) {
    if (error instanceof ApiRequestError) return reportRefusal(error, flags, io);
    throw error;
  } finally {
    unsubscribe();
  }
  if (!ENDED.has(operation.status)) {
    io.stderr(
      `\n${stopped}: stopped following ${accepted.operationId}; it runs on in the API. ` +
        `Follow it with GET ${accepted.statusUrl}.\n`,
    );
    return stopped === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  }
  let result: ApiWorkflowResult;
  try {
    // a retried request has nothing new to show, as a local run of a name that already ran; --json reads the log
    // once, now (the progress view read it after each poll, the last time after the operation ended)
    const log = accepted.existed ? [] : flags.json ? await events.update() : events.latest();
    result = resultOf(operation, accepted, log);
  } catch (error) {
    if (error instanceof ApiRequestError) return reportRefusal(error, flags, io);
    throw error;
  }
  const succeeded = result.status === 'SUCCEEDED';
  const shown = shows.view && succeeded ? replayedNote(result) + shows.view(result.output) : formatApiResult(result);
  io.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : shown);
  if (!succeeded) return EXIT.workflowFailed;
  return shows.exitCode ? shows.exitCode(result.output) : EXIT.ok;
}

/** An onboarding the workflow will wait on for a person to run the join command (no instance, not a dry run). */
function isManualJoin(workflow: string, input: Record<string, unknown>): boolean {
  if (workflow !== 'onboard-node' || input.dryRun === true) return false;
  return input.mode === 'manual' || (input.mode === undefined && input.instanceId == null);
}

/** The query of GET /join-command for an onboarding request (the CLI's flags, already checked). */
function joinCommandQuery(input: Record<string, unknown>): Record<string, string> {
  return {
    name: String(input.nodeName),
    ip: String(input.nodeIp),
    ...(input.taint === false && { taint: 'false' }),
    ...(typeof input.kubeedgeVersion === 'string' && { kubeedgeVersion: input.kubeedgeVersion }),
    ...(typeof input.region === 'string' && { region: input.region }),
  };
}

/** A manual join's command, shown once: from the API's answer, or from GET /join-command once the run waits. */
class ManualJoinCommand {
  private shown = false;

  constructor(
    private readonly client: ApiClient,
    private readonly input: Record<string, unknown>,
    private readonly flags: ApiCommandFlags,
    private readonly io: Io,
  ) {}

  show(command: string): void {
    if (this.shown) return;
    this.shown = true;
    showJoinCommand(this.io, Boolean(this.flags.json), command);
  }

  /** Renders it through the API; a failure is told once, and the operation waits on until its timeout. */
  async render(): Promise<void> {
    if (this.shown) return;
    try {
      const { command } = await this.client.send<{ command: string }>({
        method: 'GET',
        path: '/join-command',
        query: joinCommandQuery(this.input),
      });
      this.show(command);
    } catch (error) {
      if (!(error instanceof ApiRequestError)) throw error;
      this.shown = true;
      this.io.stderr(
        `error: the join command could not be rendered (${error.code}: ${error.message}); the operation waits ` +
          `until its timeout, then releases the node. Try: edgekeeper join-command --api-url ${this.flags.url} ` +
          `--name ${String(this.input.nodeName)} --ip ${String(this.input.nodeIp)}\n`,
      );
    }
  }

  /** --no-wait before the operation waited: say how to get the command. */
  later(operationId: string): void {
    this.io.stderr(
      `the join command is not ready yet: once GET /operations/${operationId} shows "Check the manual join", run ` +
        `edgekeeper join-command --api-url ${this.flags.url} --name ${String(this.input.nodeName)} ` +
        `--ip ${String(this.input.nodeIp)}\n`,
    );
  }
}

/**
 * `edgekeeper join-command --api-url URL`: GET /join-command, printed as the local command prints it (with
 * `--json`, as `{ "command": … }`). Starts nothing. Resolves to the exit code.
 */
export async function runApiJoinCommand(
  input: Record<string, unknown>,
  flags: Pick<ApiCommandFlags, 'url' | 'json'>,
  io: Io,
  deps: ApiClientDeps = {},
): Promise<number> {
  const client = new ApiClient(flags.url, io.env, deps);
  let answer: { command: string };
  try {
    answer = await client.send<{ command: string }>({
      method: 'GET',
      path: '/join-command',
      query: joinCommandQuery(input),
    });
  } catch (error) {
    if (!(error instanceof ApiRequestError)) throw error;
    const details = error.details.map((d) => `  ${d.field}${d.value === null ? '' : ` ${d.value}`}: ${d.reason}\n`);
    io.stderr(`error: ${error.code}: ${error.message}\n${details.join('')}`);
    return error.statusCode === 400 ? EXIT.usage : EXIT.workflowFailed;
  }
  io.stdout(flags.json ? `${JSON.stringify(answer, null, 2)}\n` : answer.command);
  return EXIT.ok;
}

/** `/operations/{id}`: the id's `:` is a legal path character and stays readable. */
function operationPath(operationId: string): string {
  return `/operations/${encodeURIComponent(operationId).replace(/%3A/g, ':')}`;
}

/**
 * The `--json` document of a run through the API: WorkflowResult, as a local run prints it. `execution.record`
 * is there under `serve` (the record the sandbox's CLI writes too), not against a deployed API, which has none.
 */
export type ApiWorkflowResult = Omit<WorkflowResult, 'execution' | 'stop'> & {
  readonly execution: Omit<ExecutionSummary, 'record'> & { readonly record?: string };
};

function resultOf(operation: Operation, accepted: Accepted, events: WorkflowEvent[]): ApiWorkflowResult {
  const name = accepted.operationId.slice(accepted.operationId.indexOf(':') + 1);
  return {
    // Step Functions' TIMED_OUT is the local runtime's FAILED with States.Timeout
    status: operation.status === 'SUCCEEDED' || operation.status === 'ABORTED' ? operation.status : 'FAILED',
    output: operation.status === 'SUCCEEDED' ? operation.output : null,
    error: operation.error ?? (operation.status === 'TIMED_OUT' ? { name: 'States.Timeout', message: '' } : null),
    events,
    execution: {
      name,
      arn: operation.arn ?? '',
      replayed: accepted.existed,
      resumed: operation.resumed ?? 0,
      ...(operation.record !== undefined && { record: operation.record }),
    },
  };
}

/**
 * The operation's event log (GET /operations/{id}/events): the runtime's own events, which the local progress
 * view prints as they come, each once.
 */
class OperationEvents {
  private events: WorkflowEvent[] = [];

  constructor(
    private readonly client: ApiClient,
    private readonly operationId: string,
    private readonly view: ((event: WorkflowEvent) => void) | undefined,
  ) {}

  /** Reads the whole log, shows the events not yet shown, and returns it. @throws ApiRequestError */
  async update(): Promise<WorkflowEvent[]> {
    const answer = await this.client.send<{ events?: unknown }>({
      method: 'GET',
      path: `${operationPath(this.operationId)}/events`,
    });
    // an answer without a list (a proxy's, a test double's) shows nothing rather than failing a finished operation
    const events = Array.isArray(answer?.events) ? (answer.events as WorkflowEvent[]) : [];
    for (const event of events.slice(this.events.length)) this.view?.(event);
    if (events.length >= this.events.length) this.events = events;
    return this.events;
  }

  /** The log as last read. */
  latest(): WorkflowEvent[] {
    return this.events;
  }
}

/** A refused or failed request: printed like a failed workflow, with the API's details. */
function reportRefusal(error: ApiRequestError, flags: ApiCommandFlags, io: Io): number {
  const document = {
    status: 'FAILED',
    output: null,
    error: { name: error.code, message: error.message, details: error.details },
    events: [],
  };
  if (flags.json) io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  else {
    const details = error.details.map((d) => `  ${d.field}${d.value === null ? '' : ` ${d.value}`}: ${d.reason}\n`);
    io.stdout(`FAILED ${error.code}: ${error.message}\n${details.join('')}`);
  }
  return error.statusCode === 400 ? EXIT.usage : EXIT.workflowFailed;
}

function replayedNote(result: ApiWorkflowResult): string {
  return result.execution.replayed
    ? `(execution ${result.execution.name} already ran: this is its result; nothing ran now)\n`
    : '';
}

function formatApiResult(result: ApiWorkflowResult): string {
  const replayed = replayedNote(result);
  if (result.status !== 'SUCCEEDED')
    return `${replayed}${result.status} ${result.error?.name}: ${result.error?.message}\n`;
  return `${replayed}SUCCEEDED\n${dump(result.output, { lineWidth: 120 })}`;
}
