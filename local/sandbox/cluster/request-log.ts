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
