/**
 * Side by side with KubeSphere's own way (issue 14, budget 6): two simulated clusters in the same state (the
 * fixture plus one edge node registered as cloudcore registers it, no DaemonSet fenced yet); on one, KubeSphere's
 * DaemonSet script (bench/fixtures/kubesphere-daemonset-patch.sh, unmodified) runs with the real `kubectl` and the
 * admin kubeconfig; on the other, edgekeeper's DaemonSet step (functions/keep-daemonsets-off-edge) runs alone, with
 * the steps' own identity. Printed: the requests each sent, its wall time and the DaemonSets each changed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { settingsEnvironment } from '../functions/shared/settings';
import { EDGEKEEPER_USER, type SandboxCluster, startCluster } from '../local/sandbox/cluster';
import { edgeNodeObjects } from '../local/sandbox/cluster/seed-nodes';
import { atLeast, atMost, type Budget } from './budget';
import type { DocSection } from './performance-doc';
import { runStepWorker } from './step-worker';

/** KubeSphere's script, byte for byte as its documentation prints it (see bench/fixtures/README.md). */
export const KUBESPHERE_SCRIPT = join(__dirname, 'fixtures', 'kubesphere-daemonset-patch.sh');

/** The edge node both clusters have: the script's one argument. */
const EDGE_NODE = 'edge-1';

/** What one side did. */
export interface SideResult {
  /** from start to end of the job: the script's whole run, or the step's one invocation */
  readonly wallMs: number;
  /** every API request the side sent, by verb and resource */
  readonly requests: Record<string, number>;
  readonly total: number;
  /** `namespace/name` of every DaemonSet whose resourceVersion moved */
  readonly changed: readonly string[];
  readonly error: string | null;
}

export interface SeedScriptBench {
  readonly edgeNode: string;
  readonly kubectl: SideResult & {
    readonly version: string;
    /** what the script printed (its "Patching for ns:…" lines) */
    readonly output: string;
  };
  readonly ours: SideResult & {
    /** loading the handler's module (a cold Lambda pays it once per container), not in wallMs */
    readonly loadMs: number;
    readonly patched: number;
  };
}

/** Runs both sides, one after the other, each on its own cluster. */
export async function benchSeedScript(): Promise<SeedScriptBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-seed-'));
  const clusters: SandboxCluster[] = [];
  try {
    const start = async (name: string) => {
      const cluster = await startCluster({ dir: join(dir, name) });
      clusters.push(cluster);
      cluster.seedObjects(edgeNodeObjects({ count: 1, prefix: 'edge-' }));
      return cluster;
    };
    const theirs = await start('kubesphere');
    const ours = await start('edgekeeper');
    return { edgeNode: EDGE_NODE, kubectl: await runScript(theirs, dir), ours: await runStep(ours) };
  } finally {
    for (const cluster of clusters) await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runScript(cluster: SandboxCluster, dir: string): Promise<SeedScriptBench['kubectl']> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  // kubectl keeps its discovery cache under $HOME: a fresh one, warmed first so the script is counted at its best
  const env = { ...process.env, HOME: home, KUBECONFIG: cluster.kubeconfigPath };
  const version = (await run('kubectl', ['version', '--client'], env)).stdout.split('\n')[0] ?? '';
  await run('kubectl', ['api-resources'], env);
  const before = await daemonSetVersions(cluster);
  cluster.requestLog.reset();
  const started = performance.now();
  const result = await run('bash', [KUBESPHERE_SCRIPT, EDGE_NODE], env);
  const wallMs = performance.now() - started;
  const requests = cluster.requestLog.counts();
  const changed = changedSince(before, await daemonSetVersions(cluster));
  return {
    wallMs,
    requests,
    total: sum(requests),
    changed,
    error: result.code === 0 ? null : `exit ${result.code}: ${result.stderr.trim().slice(-300)}`,
    version,
    output: result.stdout.trim(),
  };
}

async function runStep(cluster: SandboxCluster): Promise<SeedScriptBench['ours']> {
  const env = { ...process.env, ...settingsEnvironment({ kubeconfigPath: cluster.edgekeeperKubeconfigPath }) };
  const before = await daemonSetVersions(cluster);
  const event = { operationId: 'bench-seed-script', dryRun: false, nodeName: EDGE_NODE };
  // warm, as kubectl's discovery cache is: a dry run (it changes nothing) builds the clients and opens the connection
  const run = await runStepWorker(
    { step: 'KeepDaemonSetsOffEdge', event, warmUp: { ...event, dryRun: true } },
    env,
    () => cluster.requestLog.reset(),
  );
  const requests = cluster.requestLog.counts(EDGEKEEPER_USER);
  const changed = changedSince(before, await daemonSetVersions(cluster));
  const patched = (run.result as { patched?: unknown[] } | null)?.patched?.length ?? 0;
  return {
    wallMs: run.handlerMs,
    requests,
    total: sum(requests),
    changed,
    error: run.error,
    loadMs: run.loadMs,
    patched,
  };
}

/** `namespace/name` → resourceVersion of every DaemonSet, read as the admin outside the counted window. */
async function daemonSetVersions(cluster: SandboxCluster): Promise<Map<string, string>> {
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  const { items } = await config.makeApiClient(AppsV1Api).listDaemonSetForAllNamespaces();
  return new Map(items.map((d) => [`${d.metadata?.namespace}/${d.metadata?.name}`, d.metadata?.resourceVersion ?? '']));
}

function changedSince(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([name, version]) => before.get(name) !== version).map(([name]) => name);
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, n) => total + n, 0);

/** Budget 6 of issue 14: ours at least 20 times faster, with at most half the requests. */
export function seedScriptBudgets(bench: SeedScriptBench): Budget[] {
  const failed = bench.kubectl.error !== null || bench.ours.error !== null;
  return [
    atLeast(
      'seedScript.speedup',
      "KubeSphere's DaemonSet script's wall time over the DaemonSet step's",
      failed ? Number.NaN : bench.kubectl.wallMs / bench.ours.wallMs,
      20,
      '×',
      `${(bench.kubectl.wallMs / 1000).toFixed(2)} s vs ${bench.ours.wallMs.toFixed(0)} ms (module load ${bench.ours.loadMs.toFixed(0)} ms apart)`,
    ),
    atMost(
      'seedScript.requestRatio',
      "the DaemonSet step's API requests over the script's",
      failed ? Number.NaN : bench.ours.total / bench.kubectl.total,
      0.5,
      '×',
      `${bench.ours.total} vs ${bench.kubectl.total}`,
    ),
  ];
}

/** The section's lines for the text report. */
export function formatSeedScriptBench(bench: SeedScriptBench): string {
  const side = (name: string, s: SideResult) =>
    `  ${name}: ${(s.wallMs / 1000).toFixed(3)} s, ${s.total} requests (${describe(s.requests)}); changed ` +
    `${s.changed.length === 0 ? 'no DaemonSet' : s.changed.join(', ')}${s.error ? `; failed: ${s.error}` : ''}`;
  return [
    '',
    `DaemonSets off a new edge node (${bench.edgeNode}), side by side on the same cluster state:`,
    side(`KubeSphere's script (${bench.kubectl.version})`, bench.kubectl),
    side(`edgekeeper's DaemonSet step (module load ${bench.ours.loadMs.toFixed(0)} ms apart)`, bench.ours),
    '',
  ].join('\n');
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([key, n]) => `${n} ${key}`)
    .join(', ');
}

/** The side-by-side comparison for docs/performance.md. */
export function seedScriptDocSection(bench: SeedScriptBench): DocSection {
  const row = (name: string, s: SideResult) =>
    `| ${name} | ${(s.wallMs / 1000).toFixed(3)} s | ${s.total} (${describe(s.requests)}) | ${s.changed.join(', ') || 'none'} |`;
  return {
    heading: "Side by side with KubeSphere's DaemonSet script",
    lines: [
      `The same cluster state on two simulated clusters: the fixture plus edge node ${bench.edgeNode} as cloudcore ` +
        "registers it, no DaemonSet fenced yet. KubeSphere's script (bench/fixtures/kubesphere-daemonset-patch.sh, " +
        `unmodified) runs with the real kubectl (${bench.kubectl.version}, discovery cache warm); edgekeeper's ` +
        `DaemonSet step runs alone in a warm process: its module loaded (${bench.ours.loadMs.toFixed(0)} ms) and one ` +
        'dry run done before the measured invocation, neither timed nor counted.',
      '',
      '| | wall time | API requests | DaemonSets changed |',
      '| - | -: | - | - |',
      row("KubeSphere's script", bench.kubectl),
      row("edgekeeper's DaemonSet step", bench.ours),
    ],
  };
}
