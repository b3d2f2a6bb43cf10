/*
 * What a drift check finds, shared by its steps (the checks, the remediation and the report). A finding says what
 * was seen, what was expected and whether edgekeeper may fix it; docs/operating.md §"Drift checks" lists the types.
 */

export type Severity = 'high' | 'medium' | 'low';

/** `automatic`: `remediate` fixes it (safe and idempotent); `manual`: only reported, a person decides. */
export type FixKind = 'automatic' | 'manual';

/** Every finding type, with its severity and who fixes it: stated once, so the report and the docs agree. */
export const FINDING_TYPES = {
  /** a cloud DaemonSet whose pods can land on edge nodes (keep-daemonsets-off-edge's own rule) */
  'daemonset-unfenced': { severity: 'high', fix: 'automatic' },
  /** an edge node whose Ready condition is not True */
  'node-not-ready': { severity: 'high', fix: 'manual' },
  /** a pod bound to an edge node that never started */
  'pod-pending': { severity: 'medium', fix: 'manual' },
  /** a pod on an edge node whose container restarts in a loop */
  'pod-crash-looping': { severity: 'medium', fix: 'manual' },
  /** an edge node's KubeEdge version outside the skew cloudcore supports */
  'version-skew': { severity: 'medium', fix: 'manual' },
  /** Metrics Server missing or older than 0.4.1: no CPU/memory metrics for edge nodes */
  'metrics-server-outdated': { severity: 'low', fix: 'manual' },
  /** edge-watcher-config names a version or region KubeSphere refuses */
  'edge-watcher-config-invalid': { severity: 'medium', fix: 'manual' },
  /** an edgekeeper Lease whose holder execution has ended */
  'stale-lock': { severity: 'medium', fix: 'automatic' },
  /** a managed node whose SSM managed instance is deregistered */
  'host-gone': { severity: 'high', fix: 'manual' },
  /** a managed node whose SSM managed instance does not answer (PingStatus not Online) */
  'host-offline': { severity: 'medium', fix: 'manual' },
  /** an SSM managed instance with the edge-host tag that backs no node */
  'host-without-node': { severity: 'low', fix: 'manual' },
  /** with routing on: a managed node without its logs/exec rules on some cloud host */
  'routing-missing': { severity: 'medium', fix: 'automatic' },
  /** with routing on: a rule for an IP no managed node has, or to another destination than the expected one */
  'routing-stale': { severity: 'medium', fix: 'automatic' },
} as const satisfies Record<string, { severity: Severity; fix: FixKind }>;

export type FindingType = keyof typeof FINDING_TYPES;

export const FINDING_TYPE_NAMES = Object.keys(FINDING_TYPES) as FindingType[];

export interface Finding {
  readonly type: FindingType;
  readonly severity: Severity;
  /** `kind/namespace/name` or `kind/name`, e.g. `daemonset/kube-system/calico-node`, `node/edge-1` */
  readonly object: string;
  readonly seen: string;
  readonly expected: string;
  readonly fix: FixKind;
  /** set by the report: remediation fixed it in this run */
  readonly fixed?: boolean;
}

/** The longest `seen` or `expected` a finding keeps: a finding is a line in a report, not a copy of the object. */
const TEXT_LIMIT = 300;

/** A finding of `type`, its severity and fix kind from FINDING_TYPES. */
export function finding(type: FindingType, object: string, seen: string, expected: string): Finding {
  const { severity, fix } = FINDING_TYPES[type];
  return { type, severity, object, seen: cut(seen), expected: cut(expected), fix };
}

function cut(text: string): string {
  return text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT - 1)}…`;
}

/** What identifies a finding across steps: the remediation's fixes are matched to the checks' findings by it. */
export function findingKey(item: Pick<Finding, 'type' | 'object'>): string {
  return `${item.type} ${item.object}`;
}

/** Count per finding type; types without findings are left out. */
export type FindingCounts = Partial<Record<FindingType, number>>;

/** What one check step returns through the workflow: counts and a bounded sample; the whole list is stored. */
export interface CheckResult {
  readonly check: string;
  readonly counts: FindingCounts;
  /** at most `perTypeSample` findings of each type */
  readonly sample: readonly Finding[];
  /** notes about what could not be checked (never secrets), e.g. routing off */
  readonly notes: readonly string[];
}

/** Where a check's findings go as they are found: one page at a time, so no step holds them all. */
export type FindingSink = (findings: readonly Finding[]) => Promise<void>;

/**
 * Collects a check's findings with memory bounded whatever their number: counts per type, a sample of at most
 * `perTypeSample` per type for the workflow's payload, and pages of `pageSize` handed to the sink (the report
 * store) as they fill.
 */
export class FindingCollector {
  private readonly counts: Record<string, number> = {};
  private readonly sample: Finding[] = [];
  private readonly notes: string[] = [];
  private page: Finding[] = [];

  constructor(
    private readonly check: string,
    private readonly sink: FindingSink,
    private readonly perTypeSample = 10,
    private readonly pageSize = 500,
  ) {}

  async add(item: Finding): Promise<void> {
    const count = (this.counts[item.type] ?? 0) + 1;
    this.counts[item.type] = count;
    if (count <= this.perTypeSample) this.sample.push(item);
    this.page.push(item);
    if (this.page.length >= this.pageSize) await this.flush();
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Hands the findings not yet stored to the sink. */
  async flush(): Promise<void> {
    if (this.page.length === 0) return;
    const page = this.page;
    this.page = [];
    await this.sink(page);
  }

  async result(): Promise<CheckResult> {
    await this.flush();
    return { check: this.check, counts: { ...this.counts }, sample: [...this.sample], notes: [...this.notes] };
  }
}

/** Items per list call: few calls at 5,000 nodes, and each answer light. */
export const PAGE_SIZE = 500;

/** One page of a paginated list and the token of the next (`continue`), absent on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly continue?: string;
}

/** Every page of a paginated Kubernetes list (`limit`/`continue`), one at a time. */
export async function* pages<T>(
  list: (continueToken: string | undefined) => Promise<{ items: readonly T[]; continue?: string }>,
): AsyncGenerator<readonly T[]> {
  let token: string | undefined;
  do {
    const page = await list(token);
    yield page.items;
    token = page.continue || undefined;
  } while (token);
}

/** How long ago `since` was, in words a report reader scans: `3d 4h`, `12m`, `40s`. */
export function ageOf(since: Date, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}
