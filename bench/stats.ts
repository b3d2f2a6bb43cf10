import type { WorkflowEvent } from '../local/runtime';

/** The median of a sample (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile: with 3 samples p95 is the largest. NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** Time spent in one state during one execution: all its visits (polling loops enter a state many times). */
export interface StateTime {
  readonly state: string;
  readonly stateType: string;
  readonly visits: number;
  readonly totalMs: number;
}

/**
 * Pairs StateEntered with the next StateExited of the same state name and sums the durations per state, in the
 * order states were first entered. Visits that never exited (a failure) are left out.
 */
export function stateTimes(events: readonly WorkflowEvent[]): StateTime[] {
  const open = new Map<string, number>();
  const times = new Map<string, { stateType: string; visits: number; totalMs: number }>();
  for (const event of events) {
    if (!event.state) continue;
    const key = `${event.workflow}/${event.state}`;
    if (event.type === 'StateEntered') open.set(key, event.timestamp);
    else if (event.type === 'StateExited') {
      const entered = open.get(key);
      if (entered === undefined) continue;
      open.delete(key);
      const time = times.get(event.state) ?? { stateType: event.stateType ?? '', visits: 0, totalMs: 0 };
      time.visits += 1;
      time.totalMs += event.timestamp - entered;
      times.set(event.state, time);
    }
  }
  return [...times].map(([state, time]) => ({ state, ...time }));
}

/** Counter maps: `after - before`, dropping zeros. */
export function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) diff[key] = delta;
  }
  return diff;
}

/** Sum of a counter map. */
export function totalOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
