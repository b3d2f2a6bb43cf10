import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLeftovers, clusterView, readJoinTokenFrom } from './cli/cluster-view';
import { EXIT, type Io } from './cli/io';
import { formatDuration, progressPrinter } from './cli/progress';
import { defaultLogFile, handlerEnvironment } from './cli/targets';
import { executionsDirFor } from './executions';
import { runWorkflow, type WorkflowResult } from './runtime';
import { type SandboxInfo, startSandbox } from './sandbox/sandbox';

type Instance = SandboxInfo['instances'][number];

/**
 * `npm run demo`: what KubeSphere's "Add Edge Nodes" and "Remove Edge Nodes" pages ask a person to do by hand,
 * done by edgekeeper's workflows on an embedded sandbox — a simulated KubeSphere 3.2 cluster with KubeEdge and
 * isolated edge hosts behind an SSM-compatible endpoint. Nothing on this machine changes; the sandbox is removed
 * at the end.
 */
export async function runDemo(io: Io): Promise<number> {
  const say = (text = '') => io.stdout(`${text}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-demo-'));
  const started = Date.now();
  say('edgekeeper demo: the whole life of a KubeEdge edge node, on an embedded sandbox.');
  say(`Starting a simulated KubeSphere 3.2 cluster with KubeEdge and six edge hosts in ${dir} …`);
  const sandbox = await startSandbox({ dir });
  try {
    const target = { kind: 'sandbox', dir } as const;
    const environment = await handlerEnvironment(target, defaultLogFile(target) ?? 'off');
    const executionsDir = executionsDirFor(target, {});
    const token = await readJoinTokenFrom(sandbox.info.kubeconfig);
    const results: WorkflowResult[] = [];
    const run = async (workflow: string, input: object) => {
      const result = await runStep(workflow, input, io, { environment, executionsDir });
      results.push(result);
      return result;
    };
    const good = pickHost(sandbox.info, (host) => host.runtime.version === '20.10.7' && host.cloudcoreReachable);
    const oldDocker = pickHost(sandbox.info, (host) => host.runtime.version?.startsWith('18.') ?? false);
    say(`  edge hosts isolated with ${sandbox.info.mode}; kubectl works too: KUBECONFIG=${sandbox.info.kubeconfig}`);
    say();
    say(
      'Before: two cloud nodes, and cloud DaemonSets (calico-node, kube-proxy, nodelocaldns) that may land on any edge node.',
    );
    say(await clusterView(sandbox.info.kubeconfig));

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
    say();

    say('4. Uninstall KubeEdge from the cluster: edgekeeper uninstall');
    const uninstalled = await run('remove-node', { mode: 'uninstall' });
    if (uninstalled.status !== 'SUCCEEDED') return fail(uninstalled, say);
    const report = (uninstalled.output as { report: { deleted: string[]; releaseSecrets: string[] } }).report;
    say(
      `   deleted ${report.deleted.length} objects of the Helm release (CRDs and ClusterRoles too), its Secrets and namespace kubeedge.`,
    );
    say();
    const logs = readFileSync(join(dir, 'logs', 'edgekeeper.log'), 'utf8');
    const leaked = JSON.stringify(results).includes(token) || logs.includes(token);
    say(
      leaked
        ? 'The join token appeared in an output, event or log: that is a bug, please report it.'
        : `Checked: the join token is in none of the ${results.reduce((n, r) => n + r.events.length, 0)} events, the outputs or the steps' logs.`,
    );
    say(`Done in ${formatDuration(Date.now() - started)}.`);
    return leaked ? EXIT.workflowFailed : EXIT.ok;
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
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
  return runWorkflow({
    workflow,
    input,
    ...where,
    waits: 'compressed',
    compressedWaitMs: 250,
    onEvent: progressPrinter((line) => io.stdout(`  ${line}\n`), io.color),
  });
}

function pickHost(info: SandboxInfo, matches: (host: Instance) => boolean): Instance {
  const host = info.instances.find((instance) => instance.role === 'edge' && instance.online && matches(instance));
  if (!host) throw new Error('the sandbox fixture lacks an edge host the demo needs');
  return host;
}

function fail(result: WorkflowResult, say: (text: string) => void): number {
  say(`   FAILED ${result.error?.name}: ${result.error?.message}`);
  return EXIT.workflowFailed;
}
