import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestAttributes } from './rbac';

/** One request as the log keeps it: who sent it, the RBAC verb, the resource, and the object when it names one. */
export interface LoggedRequest {
  /** the authenticated user (`admin`, `system:serviceaccount:<ns>:<name>`), `system:anonymous` without a token */
  readonly client: string;
  readonly verb: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * Counts API requests per `<verb> <resource>` (`list pods`, `patch daemonsets`, `patch nodes/status`), the way a
 * benchmark wants to compare how chatty two ways of doing the same job are, and per client: the steps (their
 * ServiceAccount), the cloudcore stand-in (its own) and a person's kubectl (the admin) each send what a real cluster
 * would see from them, so a bench can count one apart from the others. Discovery and `/version` count under
 * `get discovery` / `get version` so they do not hide among resource requests.
 */
export interface RequestLog {
  /** A snapshot of the counters: every client's summed, or one client's. */
  counts(client?: string): Record<string, number>;
  /** The counters of each client that sent anything. */
  byClient(): Record<string, Record<string, number>>;
  /** The requests since the last reset, in order (the most recent {@link TRACE_LIMIT} of them). */
  trace(): readonly LoggedRequest[];
  /** All requests counted since the last reset (of one client when given). */
  total(client?: string): number;
  /** Sets every counter back to zero and empties the trace. */
  reset(): void;
}

/** The trace keeps this many requests: enough for an onboarding or a drift check, bounded under any load. */
export const TRACE_LIMIT = 10_000;

/** The in-memory {@link RequestLog} the server writes to. */
export class CountingRequestLog implements RequestLog {
  private readonly counters = new Map<string, Map<string, number>>();
  private entries: LoggedRequest[] = [];

  /** Counts one request. */
  record(request: LoggedRequest): void {
    const key = `${request.verb} ${request.resource}`;
    const counters = this.counters.get(request.client) ?? new Map<string, number>();
    this.counters.set(request.client, counters);
    counters.set(key, (counters.get(key) ?? 0) + 1);
    if (this.entries.length === TRACE_LIMIT) this.entries = this.entries.slice(TRACE_LIMIT / 2);
    this.entries.push(request);
  }

  counts(client?: string): Record<string, number> {
    const summed = new Map<string, number>();
    for (const [who, counters] of this.counters) {
      if (client !== undefined && who !== client) continue;
      for (const [key, n] of counters) summed.set(key, (summed.get(key) ?? 0) + n);
    }
    return sorted(summed);
  }

  byClient(): Record<string, Record<string, number>> {
    return Object.fromEntries(
      [...this.counters.keys()].sort((a, b) => a.localeCompare(b)).map((client) => [client, this.counts(client)]),
    );
  }

  trace(): readonly LoggedRequest[] {
    return [...this.entries];
  }

  total(client?: string): number {
    let sum = 0;
    for (const n of Object.values(this.counts(client))) sum += n;
    return sum;
  }

  reset(): void {
    this.counters.clear();
    this.entries = [];
  }
}

function sorted(counters: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counters].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Where the sandbox appends the requests it authorized for the edgekeeper identity, one JSON line each, when this
 * variable names a directory (the e2e suite's global setup sets it; test/e2e/rbac-coverage.ts reads the files).
 * One file per cluster, so parallel sandboxes never interleave writes.
 */
export const ACCESS_LOG_DIR_ENV = 'EDGEKEEPER_SANDBOX_ACCESS_LOG_DIR';

/** The requests the edgekeeper identity was allowed, kept in memory and, when a file is given, appended to it. */
export class AccessLog {
  private readonly entries: RequestAttributes[] = [];

  constructor(private readonly file?: string) {}

  record(request: RequestAttributes): void {
    const entry: RequestAttributes = {
      verb: request.verb,
      apiGroup: request.apiGroup,
      resource: request.resource,
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
      ...(request.name === undefined ? {} : { name: request.name }),
    };
    this.entries.push(entry);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** Every request recorded by this cluster, in order. */
  all(): readonly RequestAttributes[] {
    return this.entries;
  }

  /** A file in `dir` for one cluster's log: `<pid>-<random>.jsonl`. */
  static fileIn(dir: string): string {
    mkdirSync(dir, { recursive: true });
    return join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.jsonl`);
  }
}

/** Reads every access log file of a directory (lines that are not JSON are a bug of the writer and throw). */
export function readAccessLogs(dir: string): RequestAttributes[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as RequestAttributes),
    );
}
