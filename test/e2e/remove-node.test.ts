import { kubeClients } from '../../functions/shared/k8s';
import { readSettings } from '../../functions/shared/settings';
import { UNINSTALL_RECORD, uninstallDeletePorts, uninstallPlanPorts } from '../../functions/shared/uninstall-cluster';
import { deleteRelease, planOrResumeUninstall } from '../../functions/shared/uninstall-plan';
import { runWorkflow, type WorkflowResult } from '../../local/runtime';
import { E2E, HOSTS } from './harness';
import {
  CLEAN_HOST,
  disruptionBudget,
  hostState,
  kubectl,
  kubeedgeInstallation,
  podsOn,
  removeNode,
  runCli,
  runningPod,
  statesEntered,
  WHOLE_INSTALLATION,
} from './removal-helpers';

/**
 * Removal on the sandbox with the real handlers: a joined node through the real CLI (host checked from inside,
 * Node gone for real kubectl), a rerun, a refusal over workloads, a drain through a PodDisruptionBudget, and
 * finally `edgekeeper uninstall` once no edge node is left. The tests run in order on one sandbox.
 */

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ readyDelayMs: 100, prefix: 'edgekeeper-e2e-remove-' });
  const joined = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
  expect(joined.result.error).toBeNull();
});

afterAll(async () => {
  await e2e?.stop();
});

describe('edgekeeper remove on the sandbox', () => {
  it('removes a joined node through the CLI: host clean from inside, Node gone for kubectl, lock released', async () => {
    // the join really left KubeEdge on the host, so "clean" below means the removal cleaned it
    const joined = await hostState(e2e, HOSTS.ubuntuAmd64);
    expect(joined.files).toEqual(expect.arrayContaining(['/etc/kubeedge/config', '/var/lib/kubeedge/edgecore.db']));
    expect(joined.mounts.length).toBeGreaterThan(0);
    expect(joined.edgecore).toBe('active');
    expect(joined.packages).toContain('mosquitto');
    // DaemonSet pods follow the node: they never block a removal
    expect(await e2e.daemonSetPodsOn('edge-1')).not.toEqual([]);

    const cli = await runCli(['remove', '--sandbox', e2e.dir, '--name', 'edge-1', '--json']);
    expect(cli).toMatchObject({ code: 0 });
    const printed = JSON.parse(cli.stdout) as WorkflowResult;
    expect(printed).toMatchObject({
      status: 'SUCCEEDED',
      error: null,
      output: {
        nodeName: 'edge-1',
        mode: 'remove',
        instanceId: HOSTS.ubuntuAmd64,
        drain: { step: 'drain', result: 'nothing-to-do' },
        host: { action: 'reset' },
        hostReset: { keadm: 'reset', mosquitto: 'removed' },
        node: { step: 'delete-node', result: 'done', detail: 'deleted node edge-1' },
      },
    });
    expect(statesEntered(printed)).toContain('Publish Edge Node Removed');

    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
    const got = await kubectl(e2e, ['get', 'node', 'edge-1']);
    expect(got.code).toBe(1);
    expect(got.stderr).toContain('Error from server (NotFound): nodes "edge-1" not found');
    expect(await e2e.lease('edge-1')).toBeUndefined();
  });

  it('a rerun of the removal succeeds, says the node was already gone, and touches no host', async () => {
    const { result, published } = await removeNode(e2e, { nodeName: 'edge-1' });
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      error: null,
      output: {
        nodeName: 'edge-1',
        mode: 'remove',
        instanceId: null,
        notice: 'node edge-1 was already gone: cleaning only what edgekeeper left for it (locks, routing)',
        host: { action: 'skip', reason: 'no node and no host recorded for it: nothing to reset' },
        hostReset: null,
        node: { step: 'delete-node', result: 'nothing-to-do', detail: 'node edge-1 was already gone' },
      },
    });
    expect(statesEntered(result)).not.toContain('Send the reset script to the host');
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Removed']);
    expect(await e2e.lease('edge-1')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
  });

  it('a plain remove finishes a half-joined node: onboarding killed after the join script, host found from its lock', async () => {
    // the onboarding dies right after sending the join script: the host joins, nothing annotates the node
    const kill = new AbortController();
    const killed = await runWorkflow({
      workflow: 'onboard-node',
      input: {
        nodeName: 'edge-h',
        nodeIp: '10.20.0.14',
        instanceId: HOSTS.ubuntuAmd64,
        taint: true,
        labels: {},
        dryRun: false,
      },
      waits: 'compressed',
      compressedWaitMs: 50,
      environment: e2e.environment,
      executionsDir: e2e.executionsDir,
      stopNow: kill.signal,
      hooks: {
        afterTask: ({ state }) => {
          if (state === 'Send the join script to the host') kill.abort('killed after the join script was sent');
        },
      },
    });
    expect(killed.status).toBe('ABORTED');
    const deadline = Date.now() + 60_000;
    while (!(await e2e.node('edge-h')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const halfJoined = await e2e.node('edge-h');
    expect(halfJoined?.metadata?.annotations?.['edgekeeper.io/instance-id']).toBeUndefined();
    expect(await e2e.lease('edge-h')).toBeDefined();
    expect((await hostState(e2e, HOSTS.ubuntuAmd64)).edgecore).toBe('active');

    const { result } = await removeNode(e2e, { nodeName: 'edge-h' });
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({
      nodeName: 'edge-h',
      instanceId: HOSTS.ubuntuAmd64,
      host: { action: 'reset' },
      node: { step: 'delete-node', result: 'done' },
    });
    expect(await e2e.node('edge-h')).toBeUndefined();
    expect(await e2e.lease('edge-h')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
  });

  it('refuses while a workload pod runs on the node, naming it, and leaves node, host and pod as they were', async () => {
    const joined = await e2e.onboard({
      nodeName: 'edge-2',
      nodeIp: '10.20.0.12',
      instanceId: HOSTS.ubuntuArm64Containerd,
    });
    expect(joined.result.error).toBeNull();
    await runningPod(e2e, { name: 'debug', nodeName: 'edge-2' });
    const nodeBefore = await e2e.node('edge-2');

    const { result } = await removeNode(e2e, { nodeName: 'edge-2' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({
      name: 'WorkloadPodsPresentError',
      message: 'node edge-2 runs 1 workload pod: default/debug (no controller); pass drain to evict them',
    });
    const nodeAfter = await e2e.node('edge-2');
    expect(nodeAfter?.metadata?.resourceVersion).toBe(nodeBefore?.metadata?.resourceVersion);
    expect(nodeAfter?.spec?.unschedulable).toBeFalsy();
    expect(await podsOn(e2e, 'edge-2')).toContain('default/debug');
    expect(await e2e.lease('edge-2')).toBeUndefined();
    const host = await hostState(e2e, HOSTS.ubuntuArm64Containerd);
    expect(host.edgecore).toBe('active');
    expect(host.files).toContain('/etc/kubeedge/config');
  });

  it('with drain, evicts through the Eviction API honouring a PodDisruptionBudget, then removes the node', async () => {
    // two replicas of "web" on the node, at least one must stay available
    await runningPod(e2e, { name: 'web-1', nodeName: 'edge-2', labels: { app: 'web' } });
    await runningPod(e2e, { name: 'web-2', nodeName: 'edge-2', labels: { app: 'web' } });
    await disruptionBudget(e2e, 'web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    // The budget lets one of the two go; the other waits until a replacement runs elsewhere, which is what the
    // ReplicaSet controller would start once the first is evicted. Here the test starts it when the drain waits.
    let replacement: Promise<unknown> | undefined;
    const { result } = await removeNode(
      e2e,
      { nodeName: 'edge-2', drain: true },
      {
        onEvent: (event) => {
          if (event.type === 'StateEntered' && event.state === 'Wait for evictions' && !replacement) {
            replacement = runningPod(e2e, { name: 'web-3', nodeName: 'worker', labels: { app: 'web' } });
          }
        },
      },
    );
    await replacement;
    expect(result.error).toBeNull();
    const entered = statesEntered(result);
    // a web pod was refused (HTTP 429) on the first turn, so the drain waited and tried again
    expect(entered).toContain('Wait for evictions');
    expect(entered.filter((s) => s === 'Clear workloads off the node').length).toBeGreaterThanOrEqual(2);
    expect(result.output).toMatchObject({
      nodeName: 'edge-2',
      drain: { step: 'drain', result: 'done' },
      host: { action: 'reset' },
      node: { result: 'done' },
    });
    expect((await podsOn(e2e, 'edge-2')).filter((pod) => pod.startsWith('default/'))).toEqual([]);
    expect(await podsOn(e2e, 'worker')).toContain('default/web-3');
    expect(await e2e.node('edge-2')).toBeUndefined();
    expect(await e2e.lease('edge-2')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuArm64Containerd)).toEqual(CLEAN_HOST);
  });
});

describe('edgekeeper uninstall on the sandbox, once no edge node is left', () => {
  it('an uninstall killed between the release Secrets and the namespace leaves its plan recorded', async () => {
    expect(await kubeedgeInstallation(e2e)).toEqual(WHOLE_INSTALLATION);
    // the real steps' adapters, with the run dying where the namespace delete would have been sent
    const kube = await kubeClients(readSettings({ KUBECONFIG: e2e.stepsKubeconfig }));
    const { plan } = await planOrResumeUninstall(uninstallPlanPorts(kube), { force: false, releaseName: 'kubeedge' });
    if (!plan) throw new Error('expected KubeEdge to be installed');
    const crash = new Error('killed between the release Secrets and the namespace');
    const ports = {
      ...uninstallDeletePorts(kube),
      deleteNamespace: async () => {
        throw crash;
      },
    };
    await expect(deleteRelease(ports, plan, [])).rejects.toBe(crash);
    // what the issue found stuck: no release Secret, but the namespace and its leftovers are still there
    expect(await kubeedgeInstallation(e2e)).toEqual(['Namespace/kubeedge']);
    const record = await e2e.core.readNamespacedConfigMap({ name: UNINSTALL_RECORD, namespace: 'kube-system' });
    expect(JSON.parse(record.data?.plan ?? '{}')).toMatchObject({
      release: { name: 'kubeedge' },
      namespace: 'kubeedge',
    });
  });

  it('uninstalls through the CLI, finishing the killed uninstall: namespace gone, record forgotten', async () => {
    const cli = await runCli(['uninstall', '--sandbox', e2e.dir, '--json']);
    expect(cli).toMatchObject({ code: 0 });
    const printed = JSON.parse(cli.stdout) as WorkflowResult;
    expect(printed).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        uninstalled: true,
        report: {
          release: 'kubeedge/kubeedge',
          removedNodes: [],
          releaseSecrets: ['sh.helm.release.v1.kubeedge.v1'],
          namespace: 'kubeedge',
        },
      },
    });
    // the killed run deleted them; this one found them gone
    const report = (printed.output as { report: { alreadyGone: string[] } }).report;
    expect(report.alreadyGone).toEqual(
      expect.arrayContaining([
        'ClusterRole/cloudcore',
        'ClusterRoleBinding/cloudcore',
        'CustomResourceDefinition/devices.devices.kubeedge.io',
        'kubeedge/Deployment/cloudcore',
      ]),
    );
    expect(await kubeedgeInstallation(e2e)).toEqual([]);
    const ns = await kubectl(e2e, ['get', 'namespace', 'kubeedge']);
    expect(ns.stderr).toContain('namespaces "kubeedge" not found');
    const record = await kubectl(e2e, ['get', 'configmap', UNINSTALL_RECORD, '-n', 'kube-system']);
    expect(record.stderr).toContain(`configmaps "${UNINSTALL_RECORD}" not found`);
  });

  it('a following onboarding fails saying KubeEdge is not installed, and touches neither cluster nor host', async () => {
    const { result } = await e2e.onboard({ nodeName: 'edge-3', nodeIp: '10.20.0.13', instanceId: HOSTS.ubuntuAmd64 });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('KubeEdgeNotInstalledError');
    expect(result.error?.message).toContain('KubeEdge is not installed in this cluster');
    expect(await e2e.node('edge-3')).toBeUndefined();
    expect(await e2e.lease('edge-3')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
  });
});
