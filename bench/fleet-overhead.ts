/**
 * What a node's onboarding costs the workflow itself (bench/README.md, "Fleet"): its wall time minus the time it
 * was waiting on purpose (Wait states) or waiting on the host or the node (the host scripts run for it, and its
 * node's road from the end of the join to Ready). Overlapping intervals count once.
 */

/** [start, end] in epoch milliseconds. */
export type Interval = readonly [number, number];

/** Total length of the union of `intervals` clipped to `window`. */
export function coveredMs(intervals: readonly Interval[], window: Interval): number {
  const clipped = intervals
    .map(([s, e]): Interval => [Math.max(s, window[0]), Math.min(e, window[1])])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [s, e] of clipped) {
    if (current && s <= current[1]) current[1] = Math.max(current[1], e);
    else {
      if (current) total += current[1] - current[0];
      current = [s, e];
    }
  }
  if (current) total += current[1] - current[0];
  return total;
}

/** One node's onboarding, split into what it waited for and what the workflow itself cost. */
export interface NodeOverhead {
  readonly nodeName: string;
  readonly wallMs: number;
  /** in Wait states */
  readonly waitMs: number;
  /** in host scripts run for the node (join, logs/exec routing), outside Wait states */
  readonly hostScriptMs: number;
  /** between the join script's end and the Node turning Ready, outside the two above */
  readonly nodeReadyMs: number;
  /** the rest: the steps' handlers, their API calls, the runtime's transitions */
  readonly overheadMs: number;
}

/**
 * Splits one execution's `[startedAt, endedAt]`. `scripts` are the host scripts run for the node; `ready` is
 * when its Node turned Ready (the wait for it starts when the last script that ended before it did).
 */
export function nodeOverhead(node: {
  nodeName: string;
  startedAt: number;
  endedAt: number;
  waits: readonly Interval[];
  scripts: readonly Interval[];
  readyAt?: number;
}): NodeOverhead {
  const window: Interval = [node.startedAt, node.endedAt];
  const wallMs = node.endedAt - node.startedAt;
  const waitMs = coveredMs(node.waits, window);
  const withScripts = coveredMs([...node.waits, ...node.scripts], window);
  const joinEnd = node.scripts
    .map(([, end]) => end)
    .filter((end) => node.readyAt !== undefined && end <= node.readyAt)
    .reduce((latest, end) => Math.max(latest, end), Number.NEGATIVE_INFINITY);
  const readyWait: Interval[] = node.readyAt !== undefined && Number.isFinite(joinEnd) ? [[joinEnd, node.readyAt]] : [];
  const all = coveredMs([...node.waits, ...node.scripts, ...readyWait], window);
  return {
    nodeName: node.nodeName,
    wallMs,
    waitMs,
    hostScriptMs: withScripts - waitMs,
    nodeReadyMs: all - withScripts,
    overheadMs: wallMs - all,
  };
}
