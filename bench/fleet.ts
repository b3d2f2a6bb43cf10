/**
 * The fleet part of `npm run bench`: one batch-onboard of N nodes (default 200) at concurrency 20 on a sandbox of
 * N edge hosts, in the `shared-network` host mode (local/sandbox/hosts/isolation-mode.ts). The sandbox runs in this
 * process, the runtime in a worker process of its own (bench/fleet-worker.ts) whose peak RSS is the runtime's.
 * Per node: wall time and orchestration overhead (bench/fleet-overhead.ts; bench/README.md says what it leaves
 * out). See bench/README.md, "Fleet".
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubeConfig, type V1Node, Watch } from '@kubernetes/client-node';
import { handlerEnvironment } from '../local/cli/targets';
import { fleetHostSpecs, type IsolationMode, loadHostFixture } from '../local/sandbox/hosts';
import { startSandbox } from '../local/sandbox/sandbox';
import { atLeast, type Budget } from './budget';
import { type Interval, type NodeOverhead, nodeOverhead } from './fleet-overhead';
import type { FleetWorkerDone, FleetWorkerPlan } from './fleet-worker';
import { descendantMemory } from './onboarding';
import type { DocSection } from './performance-doc';
import { median, percentile } from './stats';

/** The issue's fleet: 200 nodes, 20 at a time. */
export const FLEET_CONCURRENCY = 20;

/**
 * How long the runtime's process may take before it is given up on: generous, since a node costs this 2-core
 * machine about 5 CPU seconds (handlers, sandbox, host scripts; bench/README.md) and other work shares it.
 */
export function fleetTimeoutMs(nodes: number): number {
  return 120_000 + nodes * 8_000;
}

/** What the fleet part measured. */
export interface FleetBench {
  readonly nodes: number;
  readonly concurrency: number;
  readonly mode: IsolationMode;
  readonly waits: 'real' | 'compressed';
  readonly compressedWaitMs: number;
  readonly sandboxStartMs: number;
  readonly batchWallMs: number;
  /** the batch's totals: requested, joined, failed, skipped */
  readonly totals: Record<string, number> | null;
  readonly notJoined: FleetWorkerDone['notJoined'];
  /** medians and p95 (nearest rank) over the nodes that joined */
  readonly perNode: {
    readonly wallMs: Stat;
    readonly waitMs: Stat;
    readonly hostScriptMs: Stat;
    readonly nodeReadyMs: Stat;
    readonly overheadMs: Stat;
  };
  /** nodes whose Ready moment the bench did not see (their node-ready wait counts as overhead) */
  readonly readyUnseen: number;
  readonly memory: {
    /** the runtime's process: process.resourceUsage().maxRSS, KiB */
    readonly runtimeMaxRssKiB: number;
    /** the sandbox's process (cluster API, SSM endpoint, cloudcore stand-in, mirror) and this bench's harness */
    readonly sandboxMaxRssKiB: number;
    /** the edge hosts' processes after the batch (each host's namespace holder and init, the shared network) */
    readonly hostProcesses: { readonly count: number; readonly rssKiB: number; readonly peakRssKiB: number };
  };
  /** CPU seconds spent during the batch: where a 2-core machine's time goes */
  readonly cpuSeconds: {
    readonly runtime: number;
    /** the sandbox's process: the API server, SSM, cloudcore, TLS on both ends of every request */
    readonly sandbox: number;
    /** the host scripts and every process they started (reaped children of the sandbox's process) */
    readonly hostScripts: number;
  };
  readonly error: string | null;
}

export interface Stat {
  readonly median: number;
  readonly p95: number;
}

const stat = (values: readonly number[]): Stat => ({ median: median(values), p95: percentile(values, 95) });

/** Runs the fleet part; never throws for a failed batch (the budget and `error` say so). */
export async function benchFleet(options: {
  nodes: number;
  waits: 'real' | 'compressed';
  compressedWaitMs: number;
  timeoutMs: number;
}): Promise<FleetBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-fleet-'));
  const specs = fleetHostSpecs(options.nodes, await loadHostFixture());
  // 200 network namespaces, each with its own relays, cost more than this 2-core machine can spare: the hosts share
  // one (not the machine's). Without root there is no such mode; the strongest available is used instead.
  const mode: IsolationMode | undefined = process.getuid?.() === 0 ? 'shared-network' : undefined;
  try {
    const started = performance.now();
    const sandbox = await startSandbox({ dir, hosts: specs, ...(mode && { mode }) });
    const sandboxStartMs = performance.now() - started;
    const readiness = await watchReadiness(sandbox.info.kubeconfig);
    try {
      const requests = specs
        .filter((s) => s.role === 'edge')
        .map((s) => ({ nodeName: s.name, nodeIp: s.ipAddress, instanceId: s.instanceId }));
      const env = {
        ...process.env,
        ...(await handlerEnvironment({ kind: 'sandbox', dir })),
        EDGEKEEPER_BATCH_CONCURRENCY: String(FLEET_CONCURRENCY),
      };
      const plan: FleetWorkerPlan = {
        requests,
        waits: options.waits,
        compressedWaitMs: options.compressedWaitMs,
        executionName: 'bench-fleet',
        executionsDir: join(dir, 'executions'),
        logFile: join(dir, 'bench-fleet-handlers.log'),
        timeoutMs: options.timeoutMs,
      };
      const cpuBefore = { own: process.cpuUsage(), reaped: reapedChildrenCpuSeconds() };
      const worker = await runWorker(plan, env);
      const own = process.cpuUsage(cpuBefore.own);
      const hostScriptsCpu = reapedChildrenCpuSeconds() - cpuBefore.reaped - worker.done.cpuSeconds;
      const hostProcesses = descendantMemory(process.pid, worker.pid);
      const { done } = worker;
      const scripts = hostScripts(join(dir, 'hosts'), new Set(requests.map((r) => r.nodeName)));
      const joined = done.children.filter((c) => c.status === 'SUCCEEDED');
      const split: NodeOverhead[] = joined.map((child) =>
        nodeOverhead({
          nodeName: child.nodeName,
          startedAt: child.startedAt,
          endedAt: child.endedAt,
          waits: child.waits,
          scripts: scripts.get(child.nodeName) ?? [],
          ...(readiness.readyAt.has(child.nodeName) && { readyAt: readiness.readyAt.get(child.nodeName) }),
        }),
      );
      return {
        nodes: requests.length,
        concurrency: FLEET_CONCURRENCY,
        mode: sandbox.info.mode,
        waits: options.waits,
        compressedWaitMs: options.compressedWaitMs,
        sandboxStartMs,
        batchWallMs: done.batchWallMs,
        totals: done.totals,
        notJoined: done.notJoined.slice(0, 10),
        perNode: {
          wallMs: stat(split.map((s) => s.wallMs)),
          waitMs: stat(split.map((s) => s.waitMs)),
          hostScriptMs: stat(split.map((s) => s.hostScriptMs)),
          nodeReadyMs: stat(split.map((s) => s.nodeReadyMs)),
          overheadMs: stat(split.map((s) => s.overheadMs)),
        },
        readyUnseen: joined.filter((c) => !readiness.readyAt.has(c.nodeName)).length,
        memory: {
          runtimeMaxRssKiB: done.maxRssKiB,
          sandboxMaxRssKiB: process.resourceUsage().maxRSS,
          hostProcesses,
        },
        cpuSeconds: { runtime: done.cpuSeconds, sandbox: (own.user + own.system) / 1e6, hostScripts: hostScriptsCpu },
        error: done.error,
      };
    } finally {
      readiness.stop();
      await sandbox.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fleet's budget: every node joins. The other figures have no number in the issue; they are printed. */
export function fleetBudgets(bench: FleetBench): Budget[] {
  return [
    atLeast(
      'fleet.joined',
      `Fleet: nodes joined by one batch-onboard, ${bench.concurrency} at a time`,
      bench.totals?.joined ?? 0,
      bench.nodes,
      'nodes',
      `${bench.mode} hosts, ${bench.waits} waits`,
    ),
  ];
}

/**
 * CPU seconds of this process's children that ended and were waited for (`/proc/self/stat` cutime + cstime, in
 * Linux's fixed 100 ticks a second): each waited-for process brings its own waited-for children's, so the host
 * scripts and everything they ran land here once they end. 0 without /proc.
 */
function reapedChildrenCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/**
 * When each Node first turned Ready, from one watch of the admin's: the moment the wait for the node ends. A watch
 * event arrives a few milliseconds after the write, which makes the node wait that much longer, never shorter.
 */
async function watchReadiness(kubeconfig: string): Promise<{ readyAt: Map<string, number>; stop: () => void }> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const readyAt = new Map<string, number>();
  const controller = await new Watch(config).watch(
    '/api/v1/nodes',
    {},
    (_type, node: V1Node) => {
      const name = node.metadata?.name;
      const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (name && ready && !readyAt.has(name)) readyAt.set(name, Date.now());
    },
    () => undefined,
  );
  return { readyAt, stop: () => controller.abort() };
}

/**
 * The host scripts each node's onboarding ran, from the SSM command records the sandbox keeps
 * (`<host dir>/commands/<id>.json`): the join on its own host, logs/exec routing on the cloud hosts. A command
 * names its node in its comment (`edgekeeper join <node> (<operation>)`).
 */
function hostScripts(hostsDir: string, nodes: ReadonlySet<string>): Map<string, Interval[]> {
  const byNode = new Map<string, Interval[]>();
  for (const host of readdirSync(hostsDir)) {
    let files: string[] = [];
    try {
      files = readdirSync(join(hostsDir, host, 'commands')).filter((f) => f.endsWith('.json'));
    } catch {
      continue; // not a host (the fleet's root templates)
    }
    for (const file of files) {
      const record = JSON.parse(readFileSync(join(hostsDir, host, 'commands', file), 'utf8')) as {
        comment?: string;
        startedAt?: string;
        endedAt?: string;
      };
      const node = /^edgekeeper \S+(?: \S+)? (\S+) \(/.exec(record.comment ?? '')?.[1];
      if (!node || !nodes.has(node) || !record.startedAt || !record.endedAt) continue;
      const interval: Interval = [Date.parse(record.startedAt), Date.parse(record.endedAt)];
      byNode.set(node, [...(byNode.get(node) ?? []), interval]);
    }
  }
  return byNode;
}

/** Forks bench/fleet-worker.ts under tsx and resolves with its one message. */
function runWorker(plan: FleetWorkerPlan, env: NodeJS.ProcessEnv): Promise<{ done: FleetWorkerDone; pid: number }> {
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  const child = fork(join(__dirname, 'fleet-worker.ts'), [JSON.stringify(plan)], {
    execArgv: ['--import', tsxLoader],
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let done: FleetWorkerDone | undefined;
    child.on('message', (message: FleetWorkerDone) => {
      done = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (done && child.pid !== undefined) resolve({ done, pid: child.pid });
      else reject(new Error(`the fleet worker exited (${signal ?? code}) without reporting`));
    });
  });
}

const ms = (value: number) =>
  Number.isNaN(value) ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const cpu = (seconds: number) => `${seconds.toFixed(1)} s`;
const perNodeCpu = (bench: FleetBench) =>
  (bench.cpuSeconds.runtime + bench.cpuSeconds.sandbox + bench.cpuSeconds.hostScripts) / bench.nodes;

/** The fleet's lines of the text report. */
export function formatFleetBench(bench: FleetBench): string {
  const t = bench.totals;
  const waits = bench.waits === 'compressed' ? `compressed waits (${bench.compressedWaitMs} ms)` : 'real waits';
  const row = (label: string, s: Stat) => `  ${label.padEnd(44)}${ms(s.median).padStart(10)}${ms(s.p95).padStart(10)}`;
  const lines = [
    '',
    `Fleet: batch-onboard of ${bench.nodes} nodes, ${bench.concurrency} at a time, ${bench.mode} hosts, ${waits}`,
    `  sandbox started in ${ms(bench.sandboxStartMs)}; batch ${ms(bench.batchWallMs)}: ` +
      (t ? `${t.joined} joined, ${t.failed} failed, ${t.skipped} skipped` : 'no result'),
    `  ${'per node (joined)'.padEnd(44)}${'median'.padStart(10)}${'p95'.padStart(10)}`,
    row('wall time', bench.perNode.wallMs),
    row('… in Wait states', bench.perNode.waitMs),
    row('… in host scripts (outside waits)', bench.perNode.hostScriptMs),
    row('… waiting for the Node to be Ready (the rest)', bench.perNode.nodeReadyMs),
    row('orchestration overhead (what is left)', bench.perNode.overheadMs),
    `  peak RSS: runtime process ${mib(bench.memory.runtimeMaxRssKiB)}, sandbox process ` +
      `${mib(bench.memory.sandboxMaxRssKiB)}; ${bench.memory.hostProcesses.count} host processes ` +
      `${mib(bench.memory.hostProcesses.rssKiB)} after the batch`,
    `  CPU during the batch: runtime ${cpu(bench.cpuSeconds.runtime)}, sandbox ${cpu(bench.cpuSeconds.sandbox)}, ` +
      `host scripts ${cpu(bench.cpuSeconds.hostScripts)}; per node ${cpu(perNodeCpu(bench))}, the runtime's ` +
      `${ms((bench.cpuSeconds.runtime / bench.nodes) * 1000)}`,
  ];
  if (bench.readyUnseen > 0)
    lines.push(`  Ready not seen for ${bench.readyUnseen} node(s): their wait counts as overhead`);
  for (const n of bench.notJoined) lines.push(`  ✗ ${n.nodeName} ${n.status}${n.error ? `: ${n.error}` : ''}`);
  if (bench.error) lines.push(`  failed: ${bench.error}`);
  return `${lines.join('\n')}\n`;
}

/** The fleet's section of docs/performance.md. */
export function fleetDocSection(bench: FleetBench): DocSection {
  const t = bench.totals;
  const p = bench.perNode;
  const row = (label: string, s: Stat) => `| ${label} | ${ms(s.median)} | ${ms(s.p95)} |`;
  return {
    heading: 'Fleet',
    lines: [
      `One batch-onboard of ${bench.nodes} nodes, ${bench.concurrency} at a time, on ${bench.nodes} sandbox hosts in the ` +
        `\`${bench.mode}\` mode, ${bench.waits} waits${bench.waits === 'compressed' ? ` (${bench.compressedWaitMs} ms)` : ''}: ` +
        (t ? `${t.joined} joined, ${t.failed} failed, ${t.skipped} skipped` : 'no result') +
        `, in ${ms(bench.batchWallMs)} (sandbox start ${ms(bench.sandboxStartMs)} apart).`,
      '',
      '| per joined node | median | p95 |',
      '| - | -: | -: |',
      row('wall time', p.wallMs),
      row('in Wait states', p.waitMs),
      row('in host scripts, outside waits', p.hostScriptMs),
      row('waiting for the Node to be Ready, outside both', p.nodeReadyMs),
      row('**orchestration overhead** (the rest)', p.overheadMs),
      '',
      `Peak RSS of the runtime process ${mib(bench.memory.runtimeMaxRssKiB)}; sandbox process ` +
        `${mib(bench.memory.sandboxMaxRssKiB)}; ${bench.memory.hostProcesses.count} host processes ` +
        `${mib(bench.memory.hostProcesses.rssKiB)} RSS after the batch. CPU during the batch: runtime ` +
        `${cpu(bench.cpuSeconds.runtime)}, sandbox ${cpu(bench.cpuSeconds.sandbox)}, host scripts ` +
        `${cpu(bench.cpuSeconds.hostScripts)}: ${cpu(perNodeCpu(bench))} per node, the runtime's ` +
        `${ms((bench.cpuSeconds.runtime / bench.nodes) * 1000)}.`,
    ],
  };
}
