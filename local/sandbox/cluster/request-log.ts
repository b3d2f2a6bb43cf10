import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestAttributes } from './rbac';

/**
 * Counts API requests per `<verb> <resource>` (`list pods`, `patch daemonsets`, `patch nodes/status`), the way a
 * benchmark wants to compare how chatty two ways of doing the same job are. Discovery and `/version` count under
 * `get discovery` so they do not hide among resource requests.
 */
export interface RequestLog {
  /** A snapshot of the counters. */
  counts(): Record<string, number>;
  /** All requests counted since the last reset. */
  total(): number;
  /** Sets every counter back to zero. */
  reset(): void;
}

/** The in-memory {@link RequestLog} the server writes to. */
export class CountingRequestLog implements RequestLog {
  private readonly counters = new Map<string, number>();

  /** Counts one request. */
  record(verb: string, resource: string): void {
    const key = `${verb} ${resource}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.counters].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let sum = 0;
    for (const n of this.counters.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.counters.clear();
  }
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
