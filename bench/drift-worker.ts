/**
 * The drift-check process of `npm run bench`: what `edgekeeper drift --sandbox DIR` does, once, in a process of its
 * own so that its peak RSS is the check's alone. Started by bench/drift.ts with the handler environment of the
 * sandbox; prints one JSON line: status, wall time, peak RSS, the summary's size and counts.
 */
import '../local/polyfills';
import type { DriftSummary } from '../functions/drift-report/core';
import { runWorkflow } from '../local/runtime';

export interface DriftWorkerPlan {
  readonly executionsDir: string;
  readonly remediate: boolean;
}

export interface DriftWorkerResult {
  readonly status: string;
  readonly error: string | null;
  readonly wallMs: number;
  /** `process.resourceUsage().maxRSS`, KiB */
  readonly maxRssKiB: number;
  /** bytes of the execution's output (Step Functions' limit: 256 KiB) */
  readonly outputBytes: number;
  readonly total: number;
  readonly byType: Record<string, number>;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '{}') as DriftWorkerPlan;
  const environment = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const started = performance.now();
  const result = await runWorkflow({
    workflow: 'drift-check',
    input: { remediate: plan.remediate },
    executionsDir: plan.executionsDir,
    environment,
    waits: 'compressed',
    compressedWaitMs: 250,
  });
  const wallMs = performance.now() - started;
  const summary = result.output as DriftSummary | null;
  const report: DriftWorkerResult = {
    status: result.status,
    error: result.error && `${result.error.name}: ${result.error.message}`,
    wallMs,
    maxRssKiB: process.resourceUsage().maxRSS,
    outputBytes: Buffer.byteLength(JSON.stringify(result.output)),
    total: summary?.total ?? 0,
    byType: Object.fromEntries(Object.entries(summary?.byType ?? {}).map(([type, line]) => [type, line?.count ?? 0])),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`drift worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
