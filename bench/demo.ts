/**
 * Budget 9: `npm run demo` from a warm install. Runs the demo once untimed (tsx's cache of compiled files, the
 * page cache), then times whole runs as a user starts them, from spawning npm to npm's exit, and splits each with
 * the timings the demo writes (`--timings <file>`, local/demo-timings.ts): npm's own start-up, the demo process's
 * phases, and its exit. The budget is for a quiet machine: the load average is printed beside it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoTimings } from '../local/demo-timings';
import { atMost, type Budget } from './budget';
import type { DocSection } from './performance-doc';

const REPO = join(__dirname, '..');
/** The budget: under 6 s on a quiet machine. */
export const DEMO_BUDGET_MS = 6000;
/** A run that takes longer has hung. */
const RUN_TIMEOUT_MS = 300_000;

export interface DemoRun {
  /** from spawning `npm run demo` to npm's exit */
  readonly wallMs: number;
  readonly exitCode: number | null;
  /** what the demo process wrote; null when it wrote nothing (it failed before its end) */
  readonly timings: DemoTimings | null;
  /** npm's start-up: from the spawn to the demo process's start */
  readonly launchMs: number | null;
  /** from the demo's end (sandbox stopped and removed) to npm's exit */
  readonly exitMs: number | null;
  /** 1-minute load average when the run started, and the number of cores */
  readonly loadAverage: number;
  /** the last lines of its output, when it failed */
  readonly tail?: string;
}

export interface DemoBench {
  readonly command: string;
  readonly cores: number;
  /** the untimed first run */
  readonly warmup: DemoRun;
  readonly runs: readonly DemoRun[];
  /** median wall time of the timed runs; NaN when one failed */
  readonly wallMs: number;
}

/** Runs the demo `1 + runs` times, the first untimed. */
export async function benchDemo(options: { runs: number }): Promise<DemoBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-demo-'));
  try {
    const warmup = await runDemo(join(dir, 'warmup.json'));
    const runs: DemoRun[] = [];
    for (let i = 0; i < options.runs; i += 1) runs.push(await runDemo(join(dir, `run-${i}.json`)));
    const failed = runs.some((run) => run.exitCode !== 0);
    return {
      command: 'npm run demo',
      cores: cpus().length,
      warmup,
      runs,
      wallMs: failed ? Number.NaN : median(runs.map((run) => run.wallMs)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runDemo(timingsFile: string): Promise<DemoRun> {
  const loadAverage = loadavg()[0] ?? 0;
  const spawnedAt = Date.now();
  const started = performance.now();
  const child = spawn('npm', ['run', '--silent', 'demo', '--', '--timings', timingsFile], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const wallMs = Math.round(performance.now() - started);
  const exitedAt = spawnedAt + wallMs;
  const timings = readTimings(timingsFile);
  return {
    wallMs,
    exitCode,
    timings,
    launchMs: timings && timings.processStartedAt - spawnedAt,
    exitMs: timings && exitedAt - timings.endedAt,
    loadAverage,
    ...(exitCode !== 0 && { tail: output.split('\n').slice(-15).join('\n') }),
  };
}

function readTimings(file: string): DemoTimings | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoTimings;
  } catch {
    return null;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** The run whose split the report shows: the median one. */
function medianRun(bench: DemoBench): DemoRun | undefined {
  return [...bench.runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((bench.runs.length - 1) / 2)];
}

export function demoBudgets(bench: DemoBench): Budget[] {
  const load = Math.max(...bench.runs.map((run) => run.loadAverage));
  return [
    atMost(
      'demo.wallMs',
      '`npm run demo` wall time, warm (median)',
      bench.wallMs,
      DEMO_BUDGET_MS,
      'ms',
      `for a quiet machine; load average ${load.toFixed(1)} on ${bench.cores} cores during the run`,
    ),
  ];
}

/** `npm 0.4 + start-up 0.3 + … + exit 0.1 s`: where one run's wall time went. */
export function formatSplit(run: DemoRun): string {
  if (!run.timings || run.launchMs === null || run.exitMs === null) return 'no split: the demo wrote no timings';
  const parts = [
    ['npm', run.launchMs],
    ...run.timings.phases.map((phase) => [phase.name, phase.ms] as const),
    ['exit', run.exitMs],
  ] as const;
  return `${parts.map(([name, ms]) => `${name} ${seconds(ms)}`).join(' + ')} s`;
}

/** `CPU (demo process + the processes it started): sandbox 1.2+0.8 · add 0.9+1.5 · … s` */
function cpuLine(run: DemoRun): string {
  if (!run.timings) return '';
  const phases = run.timings.phases.map(
    (phase) =>
      `${phase.name} ${seconds(phase.cpuMs)}${phase.childrenCpuMs === null ? '' : `+${seconds(phase.childrenCpuMs)}`}`,
  );
  return `CPU (demo process + the processes it started): ${phases.join(' · ')} s`;
}

export function formatDemoBench(bench: DemoBench): string {
  const lines = [`\nDemo (${bench.command}, warm: one untimed run first)`];
  for (const [index, run] of bench.runs.entries()) {
    const status = run.exitCode === 0 ? '' : ` FAILED (exit ${run.exitCode})`;
    lines.push(
      `  run ${index + 1}: ${seconds(run.wallMs)} s wall, load average ${run.loadAverage.toFixed(1)} on ${bench.cores} cores${status}`,
      `    = ${formatSplit(run)}`,
      `    ${cpuLine(run)}`,
    );
    if (run.tail) lines.push(...run.tail.split('\n').map((line) => `    | ${line}`));
  }
  lines.push(`  untimed first run: ${seconds(bench.warmup.wallMs)} s (exit ${bench.warmup.exitCode})`);
  return `${lines.join('\n')}\n`;
}

export function demoDocSection(bench: DemoBench): DocSection {
  const run = medianRun(bench);
  return {
    heading: 'Demo',
    lines: [
      `\`${bench.command}\` from a warm install (one untimed run first), wall time from spawning npm to its exit, split by the timings the demo writes (\`--timings\`): npm's start-up, the demo's phases, its exit. The budget is for a quiet machine.`,
      '',
      run
        ? `Median of ${bench.runs.length}: ${seconds(run.wallMs)} s = ${formatSplit(run)}, load average ${run.loadAverage.toFixed(1)} on ${bench.cores} cores. ${cpuLine(run)}.`
        : 'No timed run.',
    ],
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
