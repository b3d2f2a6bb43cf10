import type { V1Node } from '@kubernetes/client-node';
import { E2E, HOSTS } from './harness';
import {
  CLEAN_HOST,
  hostState,
  KUBEEDGE_DIRS,
  kubeedgeInstallation,
  removeNode,
  statesEntered,
  WHOLE_INSTALLATION,
} from './removal-helpers';

/**
 * On one sandbox, in order: removal of a node whose host is offline (refused, then forced), rollback of failed
 * joins, and the KubeEdge uninstall (refused while edge nodes exist, forced, rerun), with the real handlers.
 * Joined nodes stay NotReady for 4 s, long enough for a 1 s ready timeout to fail a join after the host joined.
 */

const READY_DELAY_MS = 4_000;
let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ readyDelayMs: READY_DELAY_MS, prefix: 'edgekeeper-e2e-uninstall-' });
});

afterAll(async () => {
  await e2e?.stop();
});

/** An edge node whose edgekeeper.io/instance-id names the offline host, as an onboarding would have left it. */
async function offlineNode(name: string): Promise<V1Node> {
  return e2e.core.createNode({
    body: {
      metadata: {
        name,
        labels: { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' },
        annotations: { 'edgekeeper.io/instance-id': HOSTS.offline },
      },
    },
  });
}

describe('removing a node whose host is offline', () => {
  it('refuses without force, naming what would stay on the host, and changes nothing', async () => {
    const before = await offlineNode('edge-off');
    const { result, published } = await removeNode(e2e, { nodeName: 'edge-off' });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('HostCannotBeResetError');
    expect(result.error?.message).toContain(
      `host ${HOSTS.offline} of node edge-off is offline (SSM PingStatus ConnectionLost): not cleaned: `,
    );
    for (const dir of KUBEEDGE_DIRS) expect(result.error?.message).toContain(dir);
    expect(result.error?.message).toContain('mosquitto');
    expect(result.error?.message).toMatch(/pass force to clean up the cluster side only$/);
    expect(statesEntered(result)).not.toContain('Lock the node');
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Removal Failed']);
    const after = await e2e.node('edge-off');
    expect(after?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(after?.spec?.unschedulable).toBeFalsy();
    expect(await e2e.lease('edge-off')).toBeUndefined();
  });

  it('with force, deletes the node and says the host was not cleaned', async () => {
    const { result, published } = await removeNode(e2e, { nodeName: 'edge-off', force: true });
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({
      nodeName: 'edge-off',
      mode: 'remove',
      instanceId: HOSTS.offline,
      host: {
        action: 'skip',
        reason: `host ${HOSTS.offline} is offline (SSM PingStatus ConnectionLost); cluster side only`,
        notCleaned: expect.arrayContaining(['mosquitto', '/var/lib/kubeedge', '/etc/kubeedge (ca, certs, config)']),
      },
      hostReset: null,
      node: { step: 'delete-node', result: 'done' },
    });
    expect(statesEntered(result)).toContain('Skip the host reset');
    expect(statesEntered(result)).not.toContain('Send the reset script to the host');
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Removed']);
    expect(await e2e.node('edge-off')).toBeUndefined();
    expect(await e2e.lease('edge-off')).toBeUndefined();
  });
});

describe('rollback of a failed join', () => {
  // the node is still Ready=False at the deadline: a node that never becomes Ready fails the same way
  it('undoes a join that failed after the host joined: no node, no lock, host clean', async () => {
    const { result, published } = await e2e.onboard(
      { nodeName: 'edge-late', nodeIp: '10.20.0.21', instanceId: HOSTS.ubuntuAmd64 },
      { env: { EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS: '1' } },
    );
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('NodeNotReadyError');
    expect(result.error?.message).toBe(
      'node edge-late is not ready after the deadline: missing condition Ready=True (is False)',
    );
    expect(published.map((event) => event.detailType)).toEqual(['Edge Node Removed', 'Edge Node Join Failed']);
    expect(published[0].detail).toMatchObject({ nodeName: 'edge-late', mode: 'rollback' });
    expect(published[1].detail).toMatchObject({ error: 'NodeNotReadyError' });
    // the rollback found the registered node and the joined host, and undid both
    const report = result.events.find(
      (event) =>
        event.workflow === 'remove-node' && event.type === 'StateExited' && event.state === 'Report the removal',
    );
    expect(report?.output).toMatchObject({
      mode: 'rollback',
      host: { action: 'reset' },
      hostReset: { keadm: 'reset', mosquitto: 'removed', removed: expect.arrayContaining(['/etc/kubeedge']) },
      node: { step: 'delete-node', result: 'done' },
    });
    expect(await e2e.node('edge-late')).toBeUndefined();
    expect(await e2e.lease('edge-late')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
    // not even the directories are left
    const dirs = await e2e.hostRun(
      HOSTS.ubuntuAmd64,
      `for path in ${KUBEEDGE_DIRS.join(' ')}; do [ -e "$path" ] && echo "present $path"; done; true`,
    );
    expect(dirs.status).toBe('Success');
    expect(dirs.stdout).toBe('');
  });

  it('undoes a join refused by the preflight (Docker 18.09): no node, no lock, host clean', async () => {
    const { result } = await e2e.onboard({ nodeName: 'edge-old', nodeIp: '10.20.0.22', instanceId: HOSTS.oldDocker });
    expect(result.error?.name).toBe('JoinPreflightFailedError');
    expect(result.error?.message).toContain('docker 18.09.9 is older than 19.3.0');
    expect(statesEntered(result)).toContain('Roll back the join');
    // the preflight changed nothing on the host, so the rollback did not reset it
    const report = result.events.find(
      (event) =>
        event.workflow === 'remove-node' && event.type === 'StateExited' && event.state === 'Report the removal',
    );
    expect(report?.output).toMatchObject({
      mode: 'rollback',
      host: { action: 'skip', reason: `the failed join changed nothing on host ${HOSTS.oldDocker}: not reset` },
      hostReset: null,
    });
    expect(await e2e.node('edge-old')).toBeUndefined();
    expect(await e2e.lease('edge-old')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.oldDocker)).toEqual(CLEAN_HOST);
  });
});

describe('uninstalling KubeEdge', () => {
  it('refuses while edge nodes exist, naming them, and deletes nothing', async () => {
    const joined = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
    expect(joined.result.error).toBeNull();
    await offlineNode('edge-off');
    const { result, published } = await removeNode(e2e, { mode: 'uninstall' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({
      name: 'EdgeNodesExistError',
      message:
        '2 edge nodes exist: edge-1, edge-off; remove them first or pass force to remove them as part of the uninstall',
    });
    expect(published.map((event) => event.detailType)).toEqual(['KubeEdge Uninstall Failed']);
    expect(await kubeedgeInstallation(e2e)).toEqual(WHOLE_INSTALLATION);
    expect(await e2e.node('edge-1')).toBeDefined();
    expect(await e2e.node('edge-off')).toBeDefined();
    expect((await hostState(e2e, HOSTS.ubuntuAmd64)).edgecore).toBe('active');
  });

  it('with force, removes every edge node with nested removals, then the whole release', async () => {
    const { result, published } = await removeNode(
      e2e,
      { mode: 'uninstall', force: true },
      { executionName: 'uninstall-1' },
    );
    expect(result.error).toBeNull();
    expect(result.output).toMatchObject({
      uninstalled: true,
      report: {
        release: 'kubeedge/kubeedge',
        removedNodes: ['edge-1', 'edge-off'],
        releaseSecrets: ['sh.helm.release.v1.kubeedge.v1'],
        namespace: 'kubeedge',
      },
    });
    // each node went through its own remove-node execution: the joined host reset, the offline one skipped
    const nested = result.events.filter((event) => event.execution !== 'uninstall-1');
    expect(nested.filter((event) => event.type === 'ExecutionSucceeded')).toHaveLength(2);
    const removals = nested
      .filter((event) => event.type === 'StateExited' && event.state === 'Report the removal')
      .map((event) => event.output as { nodeName: string; host: { action: string } });
    expect(removals.map((r) => [r.nodeName, r.host.action]).sort()).toEqual([
      ['edge-1', 'reset'],
      ['edge-off', 'skip'],
    ]);
    expect(published.map((event) => event.detailType)).toEqual([
      'Edge Node Removed',
      'Edge Node Removed',
      'KubeEdge Uninstalled',
    ]);
    expect(published[2].detail).toEqual({ operationId: 'uninstall-1', release: 'kubeedge/kubeedge' });

    expect(await e2e.node('edge-1')).toBeUndefined();
    expect(await e2e.node('edge-off')).toBeUndefined();
    expect(await hostState(e2e, HOSTS.ubuntuAmd64)).toEqual(CLEAN_HOST);
    expect(await kubeedgeInstallation(e2e)).toEqual([]);
    const { items: releases } = await e2e.core.listSecretForAllNamespaces({
      labelSelector: 'owner=helm,name=kubeedge',
    });
    expect(releases).toEqual([]);
  });

  it('a following onboarding fails saying KubeEdge is not installed', async () => {
    const { result } = await e2e.onboard({ nodeName: 'edge-2', nodeIp: '10.20.0.12', instanceId: HOSTS.ubuntuAmd64 });
    expect(result.error?.name).toBe('KubeEdgeNotInstalledError');
    expect(result.error?.message).toContain('KubeEdge is not installed in this cluster');
    expect(await e2e.node('edge-2')).toBeUndefined();
  });

  it('a rerun has nothing to do and says so', async () => {
    const { result, published } = await removeNode(e2e, { mode: 'uninstall', force: true });
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { uninstalled: false, reason: 'KubeEdge is not installed in this cluster' },
    });
    expect(published).toEqual([]);
  });
});
