import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterView } from './cli/cluster-view';
import { EXIT, type Io, runWorkflowCommand } from './cli/program';
import { startSandbox } from './sandbox/sandbox';

/**
 * `npm run demo`: what KubeSphere's "Add Edge Nodes" page asks a person to do by hand, done by the onboarding
 * workflow on an embedded sandbox — a simulated KubeSphere 3.2 cluster with KubeEdge, and isolated edge hosts
 * reached through an SSM-compatible endpoint. Nothing on this machine changes; the sandbox is removed at the end.
 */
export async function runDemo(io: Io): Promise<number> {
  const say = (text = '') => io.stdout(`${text}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-demo-'));
  say('edgekeeper demo: adding an edge node to a KubeSphere cluster, end to end, on an embedded sandbox.');
  say(`Starting the sandbox in ${dir} …`);
  const sandbox = await startSandbox({ dir });
  try {
    const host = sandbox.info.instances.find(
      (instance) =>
        instance.online && instance.cloudcoreReachable && instance.runtime.kind !== 'none' && instance.os === 'ubuntu',
    );
    if (!host) throw new Error('the sandbox fixture has no online Ubuntu edge host');
    say(`  cluster: ${sandbox.info.kubeconfig}   edge hosts isolated with ${sandbox.info.mode}`);
    say(
      `  edge host: ${host.instanceId} (${host.name}: ${host.os} ${host.arch}, ${host.runtime.kind} ${host.runtime.version ?? ''})`,
    );
    say();
    say(
      'Before: two cloud nodes, and cloud DaemonSets (calico-node, kube-proxy, nodelocaldns) that would land on any edge node.',
    );
    say(await clusterView(sandbox.info.kubeconfig));
    say(`$ edgekeeper onboard --name edge-1 --ip 10.20.0.11 --instance ${host.instanceId}`);
    const code = await runWorkflowCommand(
      'onboard-node',
      { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: host.instanceId, taint: true, labels: {}, dryRun: false },
      { sandbox: dir },
      io,
    );
    if (code !== EXIT.ok) return code;
    say();
    say(
      'After: edge-1 is Ready with the edge roles and the NoSchedule taint; the cloud DaemonSets now exclude edge nodes,',
    );
    say('while node-exporter (already excluding them) and edgemesh-agent (meant for them) were left alone.');
    say(await clusterView(sandbox.info.kubeconfig));
    say('What happened, step by step:');
    say(
      '  1. validated the name, IP and instance against the cluster and the SSM inventory, and locked the node (a Lease);',
    );
    say(
      '  2. read cloudcore’s settings and rendered the join script: preflight, EdgeMesh (nsswitch, ip_forward), keadm join;',
    );
    say(
      '  3. ran it on the edge host with SSM Run Command — the join token was added at send time and appears nowhere else;',
    );
    say('  4. waited until the node registered Ready with its labels, IP and taint, then marked it as managed;');
    say(
      '  5. added node-role.kubernetes.io/edge DoesNotExist to each cloud DaemonSet once, keeping their own affinity;',
    );
    say('  6. released the lock and published "Edge Node Joined".');
    return EXIT.ok;
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
