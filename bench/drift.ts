/**
 * The drift check at scale, for `npm run bench`: a sandbox with thousands of edge Node objects (cluster-side only,
 * `edgeNodeObjects`), one drift check per size in a process of its own (bench/drift-worker.ts), timed, with its peak
 * RSS, the size of its output and the API requests it made. Memory flat in the number of nodes means the peak RSS
 * barely moves from the smallest size to the largest. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { handlerEnvironment } from '../local/cli/targets';
import { EXECUTIONS_DIR_ENV } from '../local/executions';
import { edgeNodeObjects } from '../local/sandbox/cluster/seed-nodes';
import { startSandbox } from '../local/sandbox/sandbox';
import type { DriftWorkerPlan, DriftWorkerResult } from './drift-worker';

/** One drift check at one cluster size. */
export interface DriftRun extends DriftWorkerResult {
  readonly edgeNodes: number;
  /** seconds the seeding took (store writes, then one run of the controllers) */
  readonly seedSeconds: number;
  /** API requests of the check, by verb and resource */
  readonly requests: Record<string, number>;
}

export interface DriftBench {
  readonly runs: DriftRun[];
  readonly error: string | null;
}

/**
 * Starts a sandbox, fences its cloud DaemonSets with a first remediating check (so seeded nodes get only the edge
 * DaemonSets' pods, as on a cluster that onboarded them), then for each size seeds nodes up to it (every 10th
 * NotReady, so the report has findings to page through) and runs one check.
 */
export async function benchDrift(options: { sizes: readonly number[] }): Promise<DriftBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-drift-'));
  const sandbox = await startSandbox({ dir });
  const runs: DriftRun[] = [];
  try {
    const env = {
      ...process.env,
      ...(await handlerEnvironment({ kind: 'sandbox', dir }, join(dir, 'edgekeeper.log'))),
      [EXECUTIONS_DIR_ENV]: join(dir, 'executions'),
    };
    const plan = (remediate: boolean): DriftWorkerPlan => ({ executionsDir: join(dir, 'executions'), remediate });
    const fenced = await runWorker(plan(true), env);
    if (fenced.status !== 'SUCCEEDED') return { runs, error: fenced.error };
    let seeded = 0;
    for (const size of options.sizes) {
      const started = performance.now();
      sandbox.seedObjects(
        edgeNodeObjects({ count: size - seeded, prefix: `seeded-${seeded}-`, firstAddress: seeded, notReadyEvery: 10 }),
      );
      const seedSeconds = (performance.now() - started) / 1000;
      seeded = size;
      sandbox.requestLog.reset();
      const result = await runWorker(plan(false), env);
      runs.push({ edgeNodes: size, seedSeconds, requests: sandbox.requestLog.counts(), ...result });
      if (result.status !== 'SUCCEEDED') return { runs, error: result.error };
    }
    return { runs, error: null };
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runWorker(plan: DriftWorkerPlan, env: NodeJS.ProcessEnv): Promise<DriftWorkerResult> {
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, join(__dirname, 'drift-worker.ts'), JSON.stringify(plan)],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((text) => text.startsWith('{'));
        if (!line) reject(new Error(`the drift worker did not report (${error?.message ?? 'no output'}):\n${stderr}`));
        else resolve(JSON.parse(line) as DriftWorkerResult);
      },
    );
  });
}

/** The bench's lines for the text report. */
export function formatDriftBench(bench: DriftBench): string {
  const lines = ['', 'Drift check (cluster-side edge nodes, every 10th NotReady):'];
  for (const run of bench.runs) {
    const requests = Object.values(run.requests).reduce((sum, count) => sum + count, 0);
    lines.push(
      `  ${String(run.edgeNodes).padStart(5)} nodes: ${(run.wallMs / 1000).toFixed(2)} s, peak RSS ` +
        `${(run.maxRssKiB / 1024).toFixed(0)} MiB, output ${(run.outputBytes / 1024).toFixed(1)} KiB, ` +
        `${run.total} findings, ${requests} API requests (seeded in ${run.seedSeconds.toFixed(1)} s)`,
    );
  }
  if (bench.error) lines.push(`  failed: ${bench.error}`);
  return `${lines.join('\n')}\n`;
}
