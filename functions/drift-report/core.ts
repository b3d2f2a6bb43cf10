import {
  type CheckResult,
  FINDING_TYPE_NAMES,
  FINDING_TYPES,
  type Finding,
  type FindingType,
  type FixKind,
  findingKey,
  type Severity,
} from '../drift-findings/findings';
import type { DriftReportStore } from '../drift-findings/report-store';

/** The most findings the execution's output carries: the rest are in the stored report. */
export const SUMMARY_FINDINGS = 100;

const SEVERITY_ORDER: readonly Severity[] = ['high', 'medium', 'low'];

/** One line per finding type in the summary. */
export interface TypeSummary {
  readonly severity: Severity;
  readonly fix: FixKind;
  readonly count: number;
  readonly fixed: number;
}

/** What the execution returns and the event carries: counts, the first findings, and where the whole report is. */
export interface DriftSummary {
  readonly runId: string;
  readonly finishedAt: string;
  readonly remediate: boolean;
  /** findings the checks made */
  readonly total: number;
  /** of them, fixed by this run's remediation */
  readonly fixed: number;
  /** left for a person (or for the next remediating run) */
  readonly open: number;
  readonly byType: Partial<Record<FindingType, TypeSummary>>;
  /** open findings by severity, every severity present (0 included) */
  readonly bySeverity: Record<Severity, number>;
  /** at most SUMMARY_FINDINGS, open ones first, by severity */
  readonly findings: readonly Finding[];
  /** true when `findings` is not every finding: read the stored report for the rest */
  readonly truncated: boolean;
  readonly notes: readonly string[];
  readonly report: { readonly stored: boolean; readonly location: string; readonly key?: string };
}

export interface ReportRequest {
  readonly runId: string;
  readonly remediate: boolean;
  readonly checks: readonly CheckResult[];
  /** the remediation's fixes, when it ran */
  readonly remediation?: CheckResult | null;
}

/**
 * Joins the checks' results into the run's report: stores the whole report (every finding the checks stored,
 * marked fixed when the remediation fixed it) and returns the summary, which stays small whatever the number of
 * findings: counts per type and severity and at most SUMMARY_FINDINGS findings.
 */
export async function writeDriftReport(
  store: DriftReportStore,
  request: ReportRequest,
  now: Date,
): Promise<DriftSummary> {
  const fixes = new Set<string>((request.remediation?.sample ?? []).map(findingKey));
  for await (const page of store.readParts(request.runId, 'fixes-'))
    for (const item of page) fixes.add(findingKey(item));
  const mark = (item: Finding): Finding => (fixes.has(findingKey(item)) ? { ...item, fixed: true } : item);

  const byType: Partial<Record<FindingType, TypeSummary>> = {};
  const bySeverity: Record<Severity, number> = { high: 0, medium: 0, low: 0 };
  let total = 0;
  let fixedTotal = 0;
  for (const type of FINDING_TYPE_NAMES) {
    const count = request.checks.reduce((sum, check) => sum + (check.counts[type] ?? 0), 0);
    if (count === 0) continue;
    const fixed = Math.min(count, request.remediation?.counts[type] ?? 0);
    byType[type] = { ...FINDING_TYPES[type], count, fixed };
    bySeverity[FINDING_TYPES[type].severity] += count - fixed;
    total += count;
    fixedTotal += fixed;
  }
  const sample = request.checks
    .flatMap((check) => check.sample)
    .map(mark)
    .sort(
      (a, b) =>
        Number(Boolean(a.fixed)) - Number(Boolean(b.fixed)) ||
        SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
    );
  const findings = sample.slice(0, SUMMARY_FINDINGS);
  const notes = [...request.checks, ...(request.remediation ? [request.remediation] : [])].flatMap((check) =>
    check.notes.map((note) => `${check.check}: ${note}`),
  );
  const base = {
    runId: request.runId,
    finishedAt: now.toISOString(),
    remediate: request.remediate,
    total,
    fixed: fixedTotal,
    open: total - fixedTotal,
    byType,
    bySeverity,
    findings,
    truncated: findings.length < total,
    notes,
  };
  const key = await store.writeReport(
    {
      runId: request.runId,
      finishedAt: base.finishedAt,
      remediate: request.remediate,
      summary: { ...base, findings: undefined },
    },
    storedFindings(store, request.runId, mark),
  );
  return { ...base, report: { stored: key !== '', location: store.location, ...(key ? { key } : {}) } };
}

/** Every finding the checks stored, page by page, marked fixed where the remediation fixed it. */
async function* storedFindings(
  store: DriftReportStore,
  runId: string,
  mark: (item: Finding) => Finding,
): AsyncGenerator<Finding> {
  for (const check of ['cluster-', 'hosts-']) {
    for await (const page of store.readParts(runId, check)) for (const item of page) yield mark(item);
  }
}

/** The one metrics call the report makes: a count under one dimension. */
export type MetricSink = (
  name: string,
  dimension: { readonly name: string; readonly value: string },
  count: number,
) => void;

/**
 * EMF metrics of a run: `DriftFindings` per finding type (every type, 0 included, so an alarm sees data) and
 * `DriftOpenFindings` per severity (what is left after remediation: the high-severity alarm watches it).
 */
export function emitDriftMetrics(summary: DriftSummary, sink: MetricSink): void {
  for (const type of FINDING_TYPE_NAMES) {
    sink('DriftFindings', { name: 'findingType', value: type }, summary.byType[type]?.count ?? 0);
  }
  for (const severity of SEVERITY_ORDER) {
    sink('DriftOpenFindings', { name: 'severity', value: severity }, summary.bySeverity[severity]);
  }
}
