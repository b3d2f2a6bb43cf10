import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type Io } from './cli/io';
import { progressPrinter } from './cli/progress';
import { DemoClock, formatDone, writeTimings } from './demo-timings';
import { executionsDirFor } from './executions';
import type { WorkflowResult } from './runtime';
import { type HostSpec, loadHostFixture } from './sandbox/hosts';
import { type Sandbox, startSandbox } from './sandbox/sandbox';

/**
 * `npm run demo`: what KubeSphere's "Add Edge Nodes" and "Remove Edge Nodes" pages ask a person to do by hand,
 * done by edgekeeper's workflows on an embedded sandbox — a simulated KubeSphere 3.2 cluster with KubeEdge and
 * isolated edge hosts behind an SSM-compatible endpoint. Nothing on this machine changes; the sandbox is removed
 * at the end. Its last line tells where the time went; `timingsFile` gets the same as JSON (for `npm run bench`).
 */
export async function runDemo(io: Io, options: { timingsFile?: string } = {}): Promise<number> {
  const clock = new DemoClock();
  const say = (text = '') => io.stdout(`${text}\n`);
  const hosts = demoHosts(await loadHostFixture());
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-demo-'));
  say('edgekeeper demo: the whole life of a KubeEdge edge node, on an embedded sandbox.');
  say(`Starting a simulated KubeSphere 3.2 cluster with KubeEdge, two edge hosts and two cloud hosts in ${dir} …`);
  let code: number;
  try {
    const sandbox = await startPrepared(dir, [hosts.good, hosts.oldDocker, ...hosts.cloud]);
    try {
      code = await runActs(sandbox, hosts, dir, io, clock);
    } finally {
      await sandbox.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  clock.lap('stop');
  const timings = clock.timings();
  if (options.timingsFile) writeTimings(options.timingsFile, timings);
  say(formatDone(timings));
  return code;
}

/** How long the workflows' Wait states last in the demo, whatever they say. */
const COMPRESSED_WAIT_MS = 250;

/**
 * The hosts the acts use, out of the sandbox's fixture: one that joins cleanly, one whose Docker is too old, and the
 * cloud hosts that logs/exec routing reaches by tag. Starting only these halves the sandbox's start and removal.
 */
interface DemoHosts {
  readonly good: HostSpec;
  readonly oldDocker: HostSpec;
  readonly cloud: readonly HostSpec[];
}

function demoHosts(fixture: readonly HostSpec[]): DemoHosts {
  const edge = (matches: (host: HostSpec) => boolean): HostSpec => {
    const host = fixture.find((spec) => spec.role === 'edge' && spec.online && matches(spec));
    if (!host) throw new Error('the sandbox fixture lacks an edge host the demo needs');
    return host;
  };
  return {
    good: edge((host) => host.runtime.version === '20.10.7' && host.cloudcoreReachable),
    oldDocker: edge((host) => host.runtime.version?.startsWith('18.') ?? false),
    cloud: fixture.filter((spec) => spec.role === 'cloud'),
  };
}

/**
 * Starts the sandbox and, meanwhile, loads what the acts run: the local runtime, the handlers of both workflows and
 * their validated definitions, and the tour's cluster views with the Kubernetes client (which the sandbox's
 * cloudcore loads too, once a node connects). Starting hosts is mostly other processes' work (namespaces, mounts,
 * relays), so the loading fills the wait instead of adding to it. The sandbox is stopped again when the loading
 * fails.
 */
async function startPrepared(dir: string, hosts: readonly HostSpec[]): Promise<Sandbox> {
  // A joined Node turns Ready after one compressed wait too, instead of edged's second in real time.
  const starting = startSandbox({ dir, hosts, readyDelayMs: COMPRESSED_WAIT_MS });
  const preparing = (async () => {
    await new Promise((resolve) => setImmediate(resolve));
    const { prepareWorkflow } = require('./runtime') as typeof import('./runtime');
    const workflows = (async () => {
      for (const workflow of ['onboard-node', 'remove-node']) await prepareWorkflow(workflow);
    })();
    // while a worker thread validates the definitions (prepareWorkflow)
    await new Promise((resolve) => setImmediate(resolve));
    require('./cli/targets');
    require('./cli/cluster-view');
    await workflows;
  })();
  const [started, prepared] = await Promise.allSettled([starting, preparing]);
  if (started.status === 'rejected') throw started.reason;
  if (prepared.status === 'rejected') {
    await started.value.stop();
    throw prepared.reason;
  }
  return started.value;
}

/** The sandbox's tour and the four acts; `clock` ends a phase after each. */
async function runActs(sandbox: Sandbox, hosts: DemoHosts, dir: string, io: Io, clock: DemoClock): Promise<number> {
  const say = (text = '') => io.stdout(`${text}\n`);
  const target = { kind: 'sandbox', dir } as const;
  // loaded while the sandbox started (startPrepared)
  const { defaultLogFile, handlerEnvironment } = require('./cli/targets') as typeof import('./cli/targets');
  const { clusterLeftovers, clusterView, readJoinTokenFrom } =
    require('./cli/cluster-view') as typeof import('./cli/cluster-view');
  const environment = await handlerEnvironment(target, defaultLogFile(target) ?? 'off');
  const executionsDir = executionsDirFor(target, {});
  const token = await readJoinTokenFrom(sandbox.info.kubeconfig);
  const results: WorkflowResult[] = [];
  const run = async (workflow: string, input: object) => {
    const result = await runStep(workflow, input, io, { environment, executionsDir });
    results.push(result);
    return result;
  };
  const { good, oldDocker } = hosts;
  say(`  edge hosts isolated with ${sandbox.info.mode}; kubectl works too: KUBECONFIG=${sandbox.info.kubeconfig}`);
  say();
  say(
    'Before: two cloud nodes, and cloud DaemonSets (calico-node, kube-proxy, nodelocaldns) that may land on any edge node.',
  );
  say(await clusterView(sandbox.info.kubeconfig));
  clock.lap('sandbox');

  say(`1. Add an edge node: edgekeeper onboard --name edge-1 --ip 10.20.0.11 --instance ${good.instanceId}`);
  say(`   (${good.name}: ${good.os} ${good.arch}, ${good.runtime.kind} ${good.runtime.version})`);
  const joined = await run('onboard-node', { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: good.instanceId });
  if (joined.status !== 'SUCCEEDED') return fail(joined, say);
  const daemonSets = (joined.output as { daemonSets: DaemonSetReport }).daemonSets;
  say(`   patched ${daemonSets.patched.map((ds) => ds.name).join(', ')}`);
  say(`   left alone ${daemonSets.skipped.map((ds) => `${ds.name} (${ds.reason})`).join(', ')}`);
  say();
  say('After: edge-1 is Ready with the edge roles and the NoSchedule taint, and no cloud DaemonSet can land on it.');
  say(await clusterView(sandbox.info.kubeconfig));
  clock.lap('add');

  say(
    `2. A join that fails is rolled back: ${oldDocker.name} runs Docker ${oldDocker.runtime.version}, too old for KubeEdge.`,
  );
  const refused = await run('onboard-node', {
    nodeName: 'edge-2',
    nodeIp: '10.20.0.12',
    instanceId: oldDocker.instanceId,
  });
  say(`   ${refused.status}: ${refused.error?.message.split('\n')[0]}`);
  const leftovers = await clusterLeftovers(sandbox.info.kubeconfig, 'edge-2');
  say(
    leftovers.length === 0
      ? '   rolled back by remove-node: checked, no node edge-2 and no lock; its reset script verified the host clean.'
      : `   the rollback left ${leftovers.join(' and ')}: that is a bug, please report it.`,
  );
  if (leftovers.length > 0) return EXIT.workflowFailed;
  clock.lap('rollback');
  say();

  say('3. Remove the edge node: edgekeeper remove --name edge-1');
  const removed = await run('remove-node', { mode: 'remove', nodeName: 'edge-1' });
  if (removed.status !== 'SUCCEEDED') return fail(removed, say);
  const reset = (removed.output as { hostReset: { removed: string[]; unmounted: string[]; edgemesh: string } })
    .hostReset;
  say(
    `   host: keadm reset, mosquitto removed, ${reset.unmounted.length} volume unmounted, removed ${reset.removed.join(' ')}`,
  );
  say(
    `   EdgeMesh settings (nsswitch.conf, ip_forward) ${reset.edgemesh === 'restored' ? 'put back as they were' : 'untouched'}; node deleted.`,
  );
  clock.lap('remove');
  say();

  say('4. Uninstall KubeEdge from the cluster: edgekeeper uninstall');
  const uninstalled = await run('remove-node', { mode: 'uninstall' });
  if (uninstalled.status !== 'SUCCEEDED') return fail(uninstalled, say);
  const report = (uninstalled.output as { report: { deleted: string[]; releaseSecrets: string[] } }).report;
  say(
    `   deleted ${report.deleted.length} objects of the Helm release (CRDs and ClusterRoles too), its Secrets and namespace kubeedge.`,
  );
  clock.lap('uninstall');
  say();
  const logs = readFileSync(join(dir, 'logs', 'edgekeeper.log'), 'utf8');
  const leaked = JSON.stringify(results).includes(token) || logs.includes(token);
  say(
    leaked
      ? 'The join token appeared in an output, event or log: that is a bug, please report it.'
      : `Checked: the join token is in none of the ${results.reduce((n, r) => n + r.events.length, 0)} events, the outputs or the steps' logs.`,
  );
  return leaked ? EXIT.workflowFailed : EXIT.ok;
}

interface DaemonSetReport {
  patched: { name: string }[];
  skipped: { name: string; reason: string }[];
}

async function runStep(
  workflow: string,
  input: object,
  io: Io,
  where: { environment: Record<string, string>; executionsDir: string },
): Promise<WorkflowResult> {
  const { runWorkflow } = require('./runtime') as typeof import('./runtime');
  return runWorkflow({
    workflow,
    input,
    ...where,
    waits: 'compressed',
    compressedWaitMs: COMPRESSED_WAIT_MS,
    onEvent: progressPrinter((line) => io.stdout(`  ${line}\n`), io.color),
  });
}

function fail(result: WorkflowResult, say: (text: string) => void): number {
  say(`   FAILED ${result.error?.name}: ${result.error?.message}`);
  return EXIT.workflowFailed;
}
