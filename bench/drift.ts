/**
 * The drift check at scale, for `npm run bench`: a sandbox grown to N nodes (10% of them edge nodes) and 300
 * DaemonSets with objects added straight to the simulated cluster's store (cluster-side only, no hosts behind them),
 * one drift check in a process of its own (bench/drift-worker.ts), timed, with its peak RSS, the size of its output
 * and the API requests it made; and the onboarding steps that read the cluster (validation, the DaemonSet step),
 * whose request counts must not grow with it. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { handlerEnvironment } from '../local/cli/targets';
import { EXECUTIONS_DIR_ENV } from '../local/executions';
import { EDGEKEEPER_USER } from '../local/sandbox/cluster';
import { cloudNodeObjects, daemonSetObjects, edgeNodeObjects } from '../local/sandbox/cluster/seed-nodes';
import { type Sandbox, startSandbox } from '../local/sandbox/sandbox';
import { atMost, type Budget } from './budget';
import type { DriftWorkerPlan, DriftWorkerResult } from './drift-worker';
import { joinableHosts } from './onboarding';
import { runStepWorker, type StepWorkerResult } from './step-worker';

/** The cluster the bench grows the sandbox to. */
export interface DriftScale {
  /** every Node, the fixture's two included */
  readonly nodes: number;
  readonly edgeNodes: number;
  /** every DaemonSet, the fixture's included */
  readonly daemonSets: number;
}

/** The issue's cluster: 5,000 nodes of which 500 edge nodes, and 300 DaemonSets. */
export const DEFAULT_SCALE: DriftScale = { nodes: 5000, edgeNodes: 500, daemonSets: 300 };

/** One drift check. */
export interface DriftRun extends DriftWorkerResult {
  readonly cluster: 'small' | 'large';
  /** API requests of the check, by verb and resource (the steps' identity) */
  readonly requests: Record<string, number>;
}

/** One onboarding step that reads the cluster, run once on each size. */
export interface StepRun {
  readonly cluster: 'small' | 'large';
  readonly step: string;
  readonly status: StepWorkerResult['status'];
  readonly error: string | null;
  readonly handlerMs: number;
  readonly requests: Record<string, number>;
}

export interface DriftBench {
  readonly scale: DriftScale;
  /** what the sandbox held once grown, counted in its store through the API */
  readonly seeded: {
    readonly seconds: number;
    readonly nodes: number;
    readonly daemonSets: number;
    readonly pods: number;
  };
  readonly runs: DriftRun[];
  readonly steps: StepRun[];
  readonly error: string | null;
}

/** Cloud nodes come in pools of this many; each added DaemonSet selects one pool, as agents of a node pool do. */
const POOL_SIZE = 10;

/**
 * Starts a sandbox and fences its cloud DaemonSets with a first remediating check (as on a cluster that onboarded
 * its edge nodes), then runs validation and the DaemonSet step once; grows it to `scale` (cloud nodes in pools,
 * edge nodes with every 10th NotReady so the report has findings, DaemonSets that already stay off edge nodes,
 * each on one pool) and runs one report-only check, then validation and the DaemonSet step again.
 */
export async function benchDrift(options: { scale?: DriftScale } = {}): Promise<DriftBench> {
  const scale = options.scale ?? DEFAULT_SCALE;
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-drift-'));
  const sandbox = await startSandbox({ dir });
  const runs: DriftRun[] = [];
  const steps: StepRun[] = [];
  let seeded = { seconds: 0, nodes: 0, daemonSets: 0, pods: 0 };
  const result = (error: string | null): DriftBench => ({ scale, seeded, runs, steps, error });
  try {
    const env = {
      ...process.env,
      ...(await handlerEnvironment({ kind: 'sandbox', dir }, join(dir, 'edgekeeper.log'))),
      [EXECUTIONS_DIR_ENV]: join(dir, 'executions'),
    };
    const plan = (remediate: boolean): DriftWorkerPlan => ({ executionsDir: join(dir, 'executions'), remediate });
    const fenced = await runWorker(plan(true), env);
    if (fenced.status !== 'SUCCEEDED') return result(fenced.error);
    const host = joinableHosts(sandbox.info)[0];
    const onboardingSteps = async (cluster: StepRun['cluster']) => {
      for (const [step, event] of stepEvents(host)) {
        const run = await runStepWorker({ step, event }, env, () => sandbox.requestLog.reset());
        const requests = sandbox.requestLog.counts(EDGEKEEPER_USER);
        steps.push({ cluster, step, status: run.status, error: run.error, handlerMs: run.handlerMs, requests });
      }
    };
    const check = async (cluster: DriftRun['cluster']) => {
      sandbox.requestLog.reset();
      const run = await runWorker(plan(false), env);
      runs.push({ cluster, requests: sandbox.requestLog.counts(EDGEKEEPER_USER), ...run });
      return run;
    };
    await onboardingSteps('small');
    const small = await check('small');
    if (small.status !== 'SUCCEEDED') return result(small.error);
    seeded = await grow(sandbox, scale);
    const large = await check('large');
    if (large.status !== 'SUCCEEDED') return result(large.error);
    await onboardingSteps('large');
    const failed = steps.find((s) => s.status !== 'SUCCEEDED');
    return result(failed ? `${failed.step}: ${failed.error}` : null);
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The events of the two steps: a valid request for an unused name on a joinable host, and the fence itself. */
function stepEvents(host: { instanceId: string; ipAddress: string }): [string, unknown][] {
  const request = {
    nodeName: 'bench-new-edge',
    nodeIp: host.ipAddress,
    instanceId: host.instanceId,
    taint: true,
    labels: {},
    dryRun: false,
  };
  return [
    ['ValidateOnboardRequest', { operationId: 'bench-validate', request }],
    ['KeepDaemonSetsOffEdge', { operationId: 'bench-daemonsets', dryRun: false, nodeName: request.nodeName }],
  ];
}

/** Adds nodes and DaemonSets up to `scale`, counting what the fixture has already; one controller run for all. */
async function grow(sandbox: Sandbox, scale: DriftScale): Promise<DriftBench['seeded']> {
  const started = performance.now();
  const before = await clusterCounts(sandbox);
  const cloud = Math.max(0, scale.nodes - scale.edgeNodes - before.nodes);
  const addedDaemonSets = Math.max(0, scale.daemonSets - before.daemonSets);
  const pool = (n: number) => ({ 'bench.edgekeeper.io/pool': `pool-${Math.ceil(n / POOL_SIZE)}` });
  sandbox.seedObjects([
    ...cloudNodeObjects({ count: cloud, prefix: 'seeded-cloud-', labelsOf: pool }),
    ...edgeNodeObjects({ count: scale.edgeNodes, prefix: 'seeded-edge-', notReadyEvery: 10 }),
    ...daemonSetObjects({
      count: addedDaemonSets,
      prefix: 'seeded-agent-',
      placementOf: () => 'off-edge',
      // spread over the pools that exist
      nodeSelectorOf: (n) => pool(((n - 1) % Math.max(1, Math.ceil(cloud / POOL_SIZE))) * POOL_SIZE + 1),
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, ...(await clusterCounts(sandbox)) };
}

/** How many nodes, DaemonSets and pods the cluster holds, as the admin reads them (one item and the remaining count). */
async function clusterCounts(sandbox: Sandbox): Promise<{ nodes: number; daemonSets: number; pods: number }> {
  const config = new KubeConfig();
  config.loadFromFile(sandbox.info.kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  const count = (list: { items: unknown[]; metadata?: { remainingItemCount?: number } }) =>
    list.items.length + (list.metadata?.remainingItemCount ?? 0);
  const [nodes, daemonSets, pods] = await Promise.all([
    core.listNode({ limit: 1 }).then(count),
    apps.listDaemonSetForAllNamespaces({ limit: 1 }).then(count),
    core.listPodForAllNamespaces({ limit: 1 }).then(count),
  ]);
  return { nodes, daemonSets, pods };
}

function runWorker(plan: DriftWorkerPlan, env: NodeJS.ProcessEnv): Promise<DriftWorkerResult> {
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...profiling(), '--import', tsxLoader, join(__dirname, 'drift-worker.ts'), JSON.stringify(plan)],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((text) => text.startsWith('{"status"'));
        if (!line) reject(new Error(`the drift worker did not report (${error?.message ?? 'no output'}):\n${stderr}`));
        else resolve(JSON.parse(line) as DriftWorkerResult);
      },
    );
  });
}

/**
 * With `EDGEKEEPER_BENCH_CPU_PROF=<dir>`, every drift check writes a V8 CPU profile there (`node --cpu-prof`;
 * NODE_OPTIONS may not carry it): where its time goes, for Chrome DevTools or any .cpuprofile reader.
 */
function profiling(): string[] {
  const dir = process.env.EDGEKEEPER_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, n) => total + n, 0);

/** GETs of one node or one pod: a check that reads per object does not scale. */
const singleReads = (counts: Record<string, number>) => (counts['get nodes'] ?? 0) + (counts['get pods'] ?? 0);

/** Budget 7 of issue 14: the large check's time, memory and reads; the steps' request counts on both sizes. */
export function driftBudgets(bench: DriftBench): Budget[] {
  const large = bench.runs.find((run) => run.cluster === 'large');
  const size = `${bench.scale.nodes} nodes (${bench.scale.edgeNodes} edge), ${bench.scale.daemonSets} DaemonSets`;
  const budgets: Budget[] = [
    atMost('drift.largeSeconds', 'drift check wall time', large ? large.wallMs / 1000 : Number.NaN, 15, 's', size),
    atMost(
      'drift.largePeakRssMiB',
      'drift check peak RSS',
      large ? large.maxRssKiB / 1024 : Number.NaN,
      512,
      'MiB',
      'its own process',
    ),
    atMost(
      'drift.singleObjectReads',
      'drift check GETs of single nodes or pods',
      large ? singleReads(large.requests) : Number.NaN,
      0,
      'requests',
      'list pages only',
    ),
  ];
  for (const step of ['ValidateOnboardRequest', 'KeepDaemonSetsOffEdge']) {
    const on = (cluster: StepRun['cluster']) => bench.steps.find((s) => s.step === step && s.cluster === cluster);
    const small = on('small');
    const grown = on('large');
    budgets.push(
      atMost(
        `drift.${step}Requests`,
        `${step} API requests on the large cluster`,
        grown && grown.status === 'SUCCEEDED' ? sum(grown.requests) : Number.NaN,
        small && small.status === 'SUCCEEDED' ? sum(small.requests) : Number.NaN,
        'requests',
        'limit: the same step on the small cluster',
      ),
    );
  }
  return budgets;
}

/** The bench's lines for the text report. */
export function formatDriftBench(bench: DriftBench): string {
  const { scale, seeded } = bench;
  const lines = [
    '',
    `Drift check at scale (grown to ${seeded.nodes} nodes, ${scale.edgeNodes} of them edge nodes with every 10th ` +
      `NotReady, ${seeded.daemonSets} DaemonSets, ${seeded.pods} pods; seeded in ${seeded.seconds.toFixed(1)} s):`,
  ];
  for (const run of bench.runs) {
    lines.push(
      `  ${run.cluster.padEnd(5)} cluster: ${(run.wallMs / 1000).toFixed(2)} s, peak RSS ` +
        `${(run.maxRssKiB / 1024).toFixed(0)} MiB, output ${(run.outputBytes / 1024).toFixed(1)} KiB, ` +
        `${run.total} findings, ${sum(run.requests)} API requests (${describe(run.requests)})`,
    );
  }
  for (const step of bench.steps) {
    lines.push(
      `  ${step.step} on the ${step.cluster} cluster: ${sum(step.requests)} requests (${describe(step.requests)}), ` +
        `${step.handlerMs.toFixed(0)} ms${step.error ? `, failed: ${step.error}` : ''}`,
    );
  }
  if (bench.error) lines.push(`  failed: ${bench.error}`);
  return `${lines.join('\n')}\n`;
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([key, n]) => `${n} ${key}`)
    .join(', ');
}
