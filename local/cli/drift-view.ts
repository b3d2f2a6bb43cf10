import type { Finding, Severity } from '../../functions/drift-findings/findings';
import type { DriftSummary } from '../../functions/drift-report/core';

const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low'];

/**
 * A drift check's summary as a person reads it: one table per severity (type, object, what was seen, and the fix:
 * `fixed`, `automatic` for a run with --remediate to fix, `manual`), then the counts per type and where the whole
 * report is.
 */
export function formatDriftSummary(summary: DriftSummary): string {
  const lines: string[] = [];
  const remediation = summary.remediate ? 'with remediation' : 'report only';
  if (summary.total === 0) {
    lines.push(`No drift found (${remediation}, run ${summary.runId}).`);
  } else {
    lines.push(
      `${summary.total} finding(s): ${summary.open} open, ${summary.fixed} fixed (${remediation}, run ${summary.runId}).`,
    );
    for (const severity of SEVERITIES) {
      const rows = summary.findings.filter((item) => item.severity === severity);
      if (rows.length === 0) continue;
      lines.push('', severity.toUpperCase(), ...table(rows));
    }
    const counts = Object.entries(summary.byType).map(
      ([type, line]) => `${type} ${line?.count ?? 0}${line?.fixed ? ` (${line.fixed} fixed)` : ''}`,
    );
    lines.push('', `By type: ${counts.join(', ')}`);
    if (summary.truncated) {
      lines.push(`Shown: ${summary.findings.length} of ${summary.total}; the stored report has every finding.`);
    }
  }
  for (const note of summary.notes) lines.push(`Note: ${note}`);
  lines.push(
    summary.report.stored
      ? `Report: ${summary.report.location}/${summary.report.key} (and latest.json beside it)`
      : `Report: ${summary.report.location}`,
  );
  return `${lines.join('\n')}\n`;
}

const COLUMNS = ['TYPE', 'OBJECT', 'SEEN', 'FIX'] as const;
/** SEEN is cut so a row stays on one line of a wide terminal; --json has it whole. */
const SEEN_WIDTH = 70;

function table(rows: readonly Finding[]): string[] {
  const cells = rows.map((item) => [
    item.type,
    item.object,
    item.seen.length > SEEN_WIDTH ? `${item.seen.slice(0, SEEN_WIDTH - 1)}…` : item.seen,
    item.fixed ? 'fixed' : item.fix,
  ]);
  const widths = COLUMNS.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column].length)));
  const line = (row: readonly string[]) =>
    `  ${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')}`;
  return [line(COLUMNS), ...cells.map(line)];
}
