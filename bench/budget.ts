/**
 * A performance budget: one figure the benchmark measured, the limit it must hold, and whether it does. Budgets
 * live here, in the benchmark, never as timing assertions in tests; `npm run bench` exits 1 when one fails.
 */
export interface Budget {
  /** stable key, e.g. `bundles.kubernetesMaxBytes` */
  readonly id: string;
  /** what the figure is, for the report */
  readonly what: string;
  readonly value: number;
  /** the figure must stay at or below (`max`) or at or above (`min`) the limit */
  readonly bound: 'max' | 'min';
  readonly limit: number;
  readonly unit: string;
  readonly holds: boolean;
  /** what the figure was compared with, or how it was measured */
  readonly note?: string;
}

export function atMost(id: string, what: string, value: number, limit: number, unit: string, note?: string): Budget {
  return { id, what, value, bound: 'max', limit, unit, holds: Number.isFinite(value) && value <= limit, note };
}

export function atLeast(id: string, what: string, value: number, limit: number, unit: string, note?: string): Budget {
  return { id, what, value, bound: 'min', limit, unit, holds: Number.isFinite(value) && value >= limit, note };
}

/** One line per budget: ✓ or ✗, the figure, the limit. */
export function formatBudgets(budgets: readonly Budget[]): string {
  const rows = budgets.map((b) => {
    const sign = b.bound === 'max' ? '≤' : '≥';
    const note = b.note ? `  (${b.note})` : '';
    return `  ${b.holds ? '✓' : '✗'} ${b.what}: ${round(b.value)} ${b.unit} ${sign} ${round(b.limit)} ${b.unit}${note}`;
  });
  const failed = budgets.filter((b) => !b.holds).length;
  return `\nBudgets: ${budgets.length - failed} of ${budgets.length} hold\n${rows.join('\n')}\n`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
