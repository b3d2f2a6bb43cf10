import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { handlerEnvironment } from '../local/cli/targets';
import { daemonSetObjects } from '../local/sandbox/cluster/seed-nodes';
import { type SandboxInfo, startSandbox } from '../local/sandbox/sandbox';
import { atMost, type Budget } from './budget';
import type { CountsReply, PlannedNode, Round, WorkerDone, WorkerMessage, WorkerPlan } from './protocol';

/** What the onboarding part of the bench measured. */
export interface OnboardingBench {
  readonly sandboxStartMs: number;
  /** add-on DaemonSets added to the fixture's before the first onboarding, and how many of them land on edge nodes */
  readonly extraDaemonSets: { readonly count: number; readonly landingOnEdge: number };
  readonly sandboxMode: SandboxInfo['mode'];
  readonly compressedWaitMs: number;
  readonly worker: WorkerDone;
  readonly memory: {
    /** the onboarding process: runtime + handlers + SDK clients */
    readonly onboardingMaxRssKiB: number;
    /** the sandbox process (cluster API, SSM endpoint, cloudcore stand-in, mirror) plus this bench's own harness */
    readonly sandboxMaxRssKiB: number;
    /** the edge hosts' processes (namespace inits, shells, stand-ins), summed after the last onboarding */
    readonly hostProcesses: { readonly count: number; readonly rssKiB: number; readonly peakRssKiB: number };
  };
}

/** Edge hosts that can join: online, reaching cloudcore, with a runtime keadm accepts (Docker ≥ 19.03). */
export function joinableHosts(info: SandboxInfo): SandboxInfo['instances'] {
  return info.instances.filter((host) => {
    if (host.role !== 'edge' || !host.online || !host.cloudcoreReachable || host.runtime.kind === 'none') return false;
    if (host.runtime.kind !== 'docker') return true;
    const version = semver.coerce(host.runtime.version ?? '');
    return version !== null && semver.gte(version, '19.3.0');
  });
}

/**
 * The cluster for counting requests: the fixture plus 50 add-on DaemonSets, 3 of which land on edge nodes
 * (no selector or affinity keeps them off), the others carrying the edge exclusion already.
 */
export const EXTRA_DAEMONSETS = { count: 50, landingOnEdge: 3 } as const;

/**
 * Starts the sandbox once in this process, adds {@link EXTRA_DAEMONSETS}, then runs the onboarding worker in a child
 * process: every round onboards the same joinable hosts (edge-1..N) with one wait mode; the worker resets the hosts
 * between rounds.
 */
export async function benchOnboarding(options: {
  nodes: number;
  compressedWaitMs: number;
  timeoutMs: number;
}): Promise<OnboardingBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-'));
  try {
    const started = performance.now();
    const sandbox = await startSandbox({ dir });
    const sandboxStartMs = performance.now() - started;
    try {
      sandbox.seedObjects(
        daemonSetObjects({
          count: EXTRA_DAEMONSETS.count,
          namespace: 'kube-system',
          prefix: 'bench-agent-',
          placementOf: (n) => (n <= EXTRA_DAEMONSETS.landingOnEdge ? 'lands-on-edge' : 'off-edge'),
        }),
      );
      const hosts = joinableHosts(sandbox.info).slice(0, options.nodes);
      if (hosts.length === 0) throw new Error('the sandbox fixture has no host that can join');
      const nodes: PlannedNode[] = hosts.map((host, i) => ({
        nodeName: `edge-${i + 1}`,
        nodeIp: host.ipAddress,
        instanceId: host.instanceId,
        host: `${host.os} ${host.arch} (${host.runtime.kind})`,
      }));
      const rounds: Round[] = [
        { waits: 'compressed', nodes },
        { waits: 'real', nodes },
      ];
      const plan: WorkerPlan = {
        rounds,
        compressedWaitMs: options.compressedWaitMs,
        logFile: join(dir, 'bench-handlers.log'),
        timeoutMs: options.timeoutMs,
      };
      const env = { ...process.env, ...(await handlerEnvironment({ kind: 'sandbox', dir })) };
      const worker = await runWorker(plan, env, (reset) => {
        const counts = sandbox.requestLog.byClient();
        if (reset) sandbox.requestLog.reset();
        return counts;
      });
      const hostProcesses = descendantMemory(process.pid, worker.pid);
      return {
        sandboxStartMs,
        extraDaemonSets: EXTRA_DAEMONSETS,
        sandboxMode: sandbox.info.mode,
        compressedWaitMs: options.compressedWaitMs,
        worker: worker.done,
        memory: {
          onboardingMaxRssKiB: worker.done.maxRssKiB,
          sandboxMaxRssKiB: process.resourceUsage().maxRSS,
          hostProcesses,
        },
      };
    } finally {
      await sandbox.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Forks bench/onboard-worker.ts under tsx, answers its request-log reads, resolves with its final message. */
function runWorker(
  plan: WorkerPlan,
  env: NodeJS.ProcessEnv,
  counts: (reset: boolean) => Record<string, Record<string, number>>,
): Promise<{ done: WorkerDone; pid: number }> {
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  const child = fork(join(__dirname, 'onboard-worker.ts'), [JSON.stringify(plan)], {
    execArgv: ['--import', tsxLoader],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let done: WorkerDone | undefined;
    child.on('message', (message: WorkerMessage) => {
      if (message.kind === 'counts') {
        const reply: CountsReply = { kind: 'counts', id: message.id, counts: counts(message.reset) };
        child.send(reply);
      } else done = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (done && child.pid !== undefined) resolve({ done, pid: child.pid });
      else reject(new Error(`the onboarding worker exited (${signal ?? code}) without reporting`));
    });
  });
}

/**
 * Current and peak RSS of every descendant of `root` except the `exclude` subtree (already gone by now), from
 * /proc: the edge hosts' processes. Zero on systems without /proc.
 */
export function descendantMemory(root: number, exclude: number) {
  const parents = new Map<number, number[]>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return { count: 0, rssKiB: 0, peakRssKiB: 0 };
  }
  for (const name of pids) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process exited while we looked
    }
  }
  let count = 0;
  let rssKiB = 0;
  let peakRssKiB = 0;
  const queue = [...(parents.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (pid === exclude) continue;
    queue.push(...(parents.get(pid) ?? []));
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      count += 1;
      rssKiB += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      peakRssKiB += Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return { count, rssKiB, peakRssKiB };
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/**
 * Budget 5 of issue 14: the steps' own API requests per onboarding (the cloudcore stand-in's counted apart), at
 * most 15 plus one per DaemonSet patched; the worst onboarding of every round counts.
 */
export function onboardingRequestBudgets(bench: OnboardingBench): Budget[] {
  const done = bench.worker.onboardings.filter((o) => o.status === 'SUCCEEDED');
  const beyond = (o: (typeof done)[number]) => total(o.ownRequests) - (o.ownRequests['patch daemonsets'] ?? 0);
  const worst = [...done].sort((a, b) => beyond(b) - beyond(a))[0];
  const first = done[0];
  const note = worst
    ? `worst: ${worst.node.nodeName} (${worst.waits} waits) ${total(worst.ownRequests)} requests, ` +
      `${worst.ownRequests['patch daemonsets'] ?? 0} DaemonSets patched; first onboarding ` +
      `${first ? total(first.ownRequests) : 0} with ${first?.ownRequests['patch daemonsets'] ?? 0} patched; ` +
      `cloudcore stand-in apart: ${first ? total(first.cloudcoreRequests) : 0}`
    : 'no onboarding succeeded';
  return [
    atMost(
      'onboarding.requestsBeyondPatches',
      'API requests per onboarding, beyond 1 per DaemonSet patched',
      worst ? beyond(worst) : Number.NaN,
      15,
      'requests',
      note,
    ),
  ];
}

/** The steps' requests of each onboarding by step kind, and the cloudcore stand-in's apart, for the text report. */
export function formatOnboardingRequests(bench: OnboardingBench): string {
  const lines = [
    '',
    `API requests per onboarding (fixture + ${bench.extraDaemonSets.count} add-on DaemonSets, ` +
      `${bench.extraDaemonSets.landingOnEdge} landing on edge nodes): the steps' own, then the cloudcore stand-in's`,
  ];
  for (const o of bench.worker.onboardings) {
    const own = Object.entries(o.ownRequests)
      .map(([key, n]) => `${n} ${key}`)
      .join(', ');
    lines.push(
      `  ${o.node.nodeName} (${o.waits}): ${total(o.ownRequests)} (${own}); cloudcore ${total(o.cloudcoreRequests)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
