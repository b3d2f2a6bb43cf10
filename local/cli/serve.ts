import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ApiDeps, type ApiResponse, handleApiRequest } from '../../functions/api/router';
import { reportStoreFor } from '../../functions/drift-findings/store-for';
import { redactSecrets } from '../../functions/shared/redact';
import { readSettings, runWithEnvironment } from '../../functions/shared/settings';
import { type EndedOperation, LocalWorkflowEngine } from '../api-engine';
import { executionsDirFor } from '../executions';
import { SandboxInfoError } from '../sandbox/sandbox';
import { EXIT, type Io, type StopCause, shown, UsageError } from './io';
import { defaultLogFile, handlerEnvironment } from './targets';

/*
 * `edgekeeper serve --sandbox DIR | --local [--port P]`: the REST API's own handlers (functions/api/router.ts) over
 * node:http on 127.0.0.1, with the workflows run by the local runtime in the background of this process. There is
 * no IAM here, which is why it listens on the loopback address only.
 */

/** The only address serve listens on: without IAM, nothing beyond this machine may reach it. */
export const SERVE_HOST = '127.0.0.1';

/** API Gateway refuses larger payloads too. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const OPENAPI_FILE = join(__dirname, '..', '..', 'docs', 'openapi.yaml');

export interface ServeFlags {
  readonly sandbox?: string;
  readonly local?: boolean;
  readonly port: string;
}

/** A running API server. */
export interface ApiServer {
  readonly url: string;
  readonly engine: LocalWorkflowEngine;
  /**
   * Stops accepting requests, stops the running workflows at their next step (they roll back and release their
   * locks) and waits for them; resolves with how each ended.
   */
  stop(reason: string): Promise<EndedOperation[]>;
}

export interface ApiServerOptions {
  readonly target: { readonly kind: 'sandbox'; readonly dir: string } | { readonly kind: 'local' };
  /** 0 picks a free port */
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  /** one line per request and per operation that ends */
  readonly log?: (line: string) => void;
  /** the sandbox's pauses, as the CLI shortens them for `--sandbox` @default 250 */
  readonly compressedWaitMs?: number;
}

/** Starts the API on 127.0.0.1 against a target, as `edgekeeper serve` does (tests start it in-process). */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const log = options.log ?? (() => undefined);
  const target = options.target;
  const environment = await handlerEnvironment(target, defaultLogFile(target) ?? 'off');
  // the handlers and the router read the target's settings, never this process's environment alone
  const handlerEnv = { ...options.env, ...environment };
  const executionsDir = executionsDirFor(target, options.env);
  const engine = new LocalWorkflowEngine({
    executionsDir,
    environment,
    waits: target.kind === 'sandbox' ? 'compressed' : 'real',
    compressedWaitMs: options.compressedWaitMs ?? 250,
    onEnded: (ended) => log(`${ended.operationId} ${describeEnd(ended)}`),
  });
  const settings = readSettings(handlerEnv);
  const deps: ApiDeps = {
    engine,
    settings,
    // the reports the local drift checks store beside this registry (the runtime gives the steps the same dir)
    driftReports: reportStoreFor({ ...settings, localExecutionsDir: executionsDir }),
    // whatever the error carried, a join token never reaches the log
    onInternalError: (error) =>
      log(`internal error: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}`),
  };
  const server = createServer((request, response) => {
    const started = Date.now();
    void answer(request, deps, handlerEnv)
      .catch((error: unknown) => {
        deps.onInternalError?.(error);
        return apiError(
          500,
          'InternalError',
          'an internal error stopped this request; the server’s log has the details',
        );
      })
      .then((reply) => {
        response.writeHead(reply.statusCode, reply.headers).end(reply.body);
        // no bodies in the log, as API Gateway's access log
        log(`${request.method} ${request.url} → ${reply.statusCode} (${Date.now() - started} ms)`);
      });
  });
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${SERVE_HOST}:${port}`,
    engine,
    async stop(reason) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const ended = await engine.stop(reason);
      // a client still following an operation on a kept-alive connection is cut off now that nothing runs
      server.closeAllConnections();
      await closed;
      return ended;
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, SERVE_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** One HTTP request as the router's ApiRequest, answered; GET /openapi.yaml is served beside the API. */
async function answer(request: IncomingMessage, deps: ApiDeps, env: NodeJS.ProcessEnv): Promise<ApiResponse> {
  const url = new URL(request.url ?? '/', `http://${SERVE_HOST}`);
  let body: string | undefined;
  try {
    body = await readBody(request);
  } catch (error) {
    return apiError(413, 'PayloadTooLargeError', (error as Error).message);
  }
  if (request.method === 'GET' && url.pathname === '/openapi.yaml') return openApiDocument();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return runWithEnvironment(env, () =>
    handleApiRequest(
      {
        method: request.method ?? 'GET',
        path: url.pathname,
        // one value per name, as API Gateway's queryStringParameters (the last one wins)
        query: Object.fromEntries(url.searchParams),
        headers,
        ...(body !== undefined && { body }),
      },
      deps,
    ),
  );
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

async function openApiDocument(): Promise<ApiResponse> {
  try {
    const text = await readFile(OPENAPI_FILE, 'utf8');
    return { statusCode: 200, headers: { 'content-type': 'application/yaml' }, body: text };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return apiError(
      404,
      'NotFoundError',
      'docs/openapi.yaml is missing from this copy of edgekeeper: it is generated from functions/api/routes.ts',
    );
  }
}

function apiError(statusCode: number, code: string, message: string): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, message, details: [] }),
  };
}

function describeEnd(ended: EndedOperation): string {
  const error = ended.error ? ` ${ended.error.name}: ${ended.error.message.split('\n')[0]}` : '';
  const stop = ended.stop;
  if (!stop) return `${ended.status}${error}`;
  if (stop.mode === 'immediate') return `${ended.status}: stopped at once, no rollback ran`;
  const before = stop.before ? ` before "${stop.before}"` : '';
  if (stop.afterwards.length === 0) return `${ended.status}: stopped${before}; nothing needed undoing`;
  const failed = stop.afterwards.filter((step) => !step.ok).map((step) => `${step.state} ✗`);
  const path = `its failure path ran (${stop.afterwards.length} steps)`;
  return failed.length === 0
    ? `${ended.status}: stopped${before}; ${path}: rolled back and released its lock`
    : `${ended.status}: stopped${before}; ${path}, not everything was undone: ${failed.join(', ')}`;
}

/** `--port`: a whole number from 0 (any free port) to 65535. */
function parsePort(value: string): number {
  if (/^\d{1,5}$/.test(value) && Number(value) <= 65_535) return Number(value);
  throw new UsageError(`--port ${shown(value)} must be a whole number from 0 to 65535`);
}

/** `edgekeeper serve`: runs until SIGINT or SIGTERM; resolves to the exit code. */
export async function serveCommand(flags: ServeFlags, io: Io): Promise<number> {
  if (flags.sandbox && flags.local) throw new UsageError('serve: choose one of --sandbox <dir> and --local');
  if (!flags.sandbox && !flags.local)
    throw new UsageError('serve: choose where workflows run: --sandbox <dir> or --local');
  const port = parsePort(flags.port);
  const target = flags.sandbox ? ({ kind: 'sandbox', dir: flags.sandbox } as const) : ({ kind: 'local' } as const);
  const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
  let server: ApiServer;
  try {
    server = await startApiServer({ target, port, env: io.env, log });
  } catch (error) {
    if (error instanceof SandboxInfoError) {
      throw new UsageError(
        `--sandbox ${flags.sandbox}: ${error.message}; start one with: edgekeeper sandbox start --detach --dir ${flags.sandbox}`,
      );
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`--port ${port} is in use on ${SERVE_HOST}; choose another (0 picks a free one)`);
    }
    throw error;
  }
  io.stderr(
    [
      `edgekeeper serve: the REST API on ${server.url}, running workflows ${
        target.kind === 'sandbox'
          ? `against the sandbox ${target.dir}`
          : 'against KUBECONFIG and this shell’s AWS credentials'
      }`,
      `  No IAM here: every request is accepted unsigned, which is why it listens on ${SERVE_HOST} only.`,
      '  The deployed API requires SigV4 (AWS_IAM) on every method.',
      `  Try: curl ${server.url}/nodes    The OpenAPI document: ${server.url}/openapi.yaml`,
      '  Ctrl-C stops it: running operations stop at their next step, roll back and release their locks.',
      '',
    ].join('\n'),
  );
  const cause = await firstStop(io);
  const running = server.engine.running();
  io.stderr(
    `\n${cause}: no new requests; ${
      running.length === 0
        ? 'no operation is running.'
        : `stopping ${running.length} running operation(s) at their next step: ${running.join(', ')}. ` +
          'Press Ctrl-C again to stop them at once (no rollback).'
    }\n`,
  );
  const unsubscribe = io.onStop((again) => {
    if (again === 'parent exited') return;
    io.stderr(`${again} again: stopping the running operations at once.\n`);
    server.engine.stopNow(again);
  });
  try {
    const ended = await server.stop(cause);
    for (const operation of ended) io.stderr(`  ${operation.operationId}: ${describeEnd(operation)}\n`);
    io.stderr('edgekeeper serve: stopped.\n');
  } finally {
    unsubscribe();
  }
  return cause === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}

function firstStop(io: Io): Promise<StopCause> {
  return new Promise((resolve) => {
    const unsubscribe = io.onStop((cause) => {
      unsubscribe();
      resolve(cause);
    });
  });
}
