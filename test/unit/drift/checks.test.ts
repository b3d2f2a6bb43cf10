import {
  checkCluster,
  checkDaemonSets,
  checkEdgeNodes,
  checkEdgePods,
  checkEdgeWatcherConfig,
  checkLocks,
  checkMetricsServer,
  parseVersion,
  skewProblem,
  type Version,
} from '../../../functions/drift-check-cluster/core';
import { checkHosts, type HostCheckPort } from '../../../functions/drift-check-hosts/core';
import {
  cloudNode,
  clusterPort,
  collector,
  daemonSet,
  deployment,
  edgeNode,
  FENCED,
  lease,
  lockPorts,
  paged,
  pod,
} from './fakes';

const NOW = new Date('2026-12-02T08:00:00Z');
const HOLDER = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-onboard-node:${name}`;

describe('drift check of DaemonSets', () => {
  it('reports exactly the DaemonSets onboarding would fence, over every page', async () => {
    // Prepare
    const port = clusterPort({
      daemonSets: [
        daemonSet('kube-system', 'calico-node'),
        daemonSet('kube-system', 'kube-proxy', FENCED),
        daemonSet('kubeedge', 'edgemesh-agent'),
        daemonSet('monitoring', 'edge-exporter', { nodeSelector: { 'node-role.kubernetes.io/edge': '' } }),
        daemonSet('team', 'allowed'),
        daemonSet('team', 'tolerate-all', { tolerations: [{ operator: 'Exists' }] }),
      ],
    });
    const { collector: found } = collector();

    // Act
    await checkDaemonSets(port, { allowlist: ['team/allowed'] }, found);
    const result = await found.result();

    // Assess
    expect(result.sample.map((item) => item.object)).toEqual([
      'daemonset/kube-system/calico-node',
      'daemonset/team/tolerate-all',
    ]);
    expect(result.sample[0]).toMatchObject({ type: 'daemonset-unfenced', severity: 'high', fix: 'automatic' });
  });
});

describe('drift check of edge nodes', () => {
  it('reports a node not Ready with its status and since when', async () => {
    // Prepare
    const port = clusterPort({
      nodes: [edgeNode('edge-1'), edgeNode('edge-2', { ready: 'Unknown', since: '2026-12-02T05:00:00Z' })],
      deployments: { 'kubeedge/cloudcore': deployment('kubesphere/cloudcore:v1.7.2') },
    });
    const { collector: found } = collector();

    // Act
    await checkEdgeNodes(port, found, NOW);
    const result = await found.result();

    // Assess
    expect(result.sample).toEqual([
      expect.objectContaining({
        type: 'node-not-ready',
        object: 'node/edge-2',
        seen: 'Ready=Unknown (EdgeNotReady) since 2026-12-02T05:00:00.000Z (3h 0m)',
        fix: 'manual',
      }),
    ]);
  });

  it('reports KubeEdge versions newer than cloudcore or more than two minors behind, and nothing within', async () => {
    // Prepare
    const port = clusterPort({
      nodes: [
        edgeNode('ok-older', { kubeedge: 'v1.5.0' }),
        edgeNode('ok-same', { kubeedge: 'v1.7.0' }),
        edgeNode('too-old', { kubeedge: 'v1.4.0' }),
        edgeNode('too-new', { kubeedge: 'v1.9.2' }),
      ],
      deployments: { 'kubeedge/cloudcore': deployment('kubesphere/cloudcore:v1.7.2') },
    });
    const { collector: found } = collector();

    // Act
    await checkEdgeNodes(port, found, NOW);
    const result = await found.result();

    // Assess
    expect(result.sample.map((item) => [item.type, item.object, item.seen])).toEqual([
      ['version-skew', 'node/too-old', 'KubeEdge v1.4.0 with cloudcore v1.7.2: 3 minor versions behind (at most 2)'],
      ['version-skew', 'node/too-new', 'KubeEdge v1.9.2 with cloudcore v1.7.2: the edge is newer than cloudcore'],
    ]);
  });

  it('notes that skew was not checked when cloudcore’s Deployment is missing', async () => {
    // Prepare
    const port = clusterPort({ nodes: [edgeNode('edge-1', { kubeedge: 'v1.1.0' })] });
    const { collector: found } = collector();

    // Act
    await checkEdgeNodes(port, found, NOW);
    const result = await found.result();

    // Assess
    expect(result.sample).toEqual([]);
    expect(result.notes).toEqual([expect.stringContaining('cloudcore version unknown')]);
  });

  it('reads versions in every spelling KubeEdge uses and judges the skew', () => {
    const v = (text: string) => parseVersion(text) as Version;
    expect(parseVersion('v1.6.1-kubesphere')).toMatchObject({ major: 1, minor: 6, patch: 1 });
    expect(parseVersion('latest')).toBeUndefined();
    expect(skewProblem(v('1.6.2'), v('v1.7.2'))).toBeUndefined();
    expect(skewProblem(v('v2.0.0'), v('v1.7.2'))).toBe('another major version');
  });
});

describe('drift check of pods on edge nodes', () => {
  it('reports Pending and crash-looping pods on edge nodes only, knowing edge nodes from their list alone', async () => {
    // Prepare
    const port = clusterPort({
      nodes: [edgeNode('edge-1'), cloudNode('worker')],
      pods: [
        pod('kube-system', 'calico-abc', 'edge-1', { phase: 'Pending' }),
        pod('kube-system', 'calico-def', 'worker', { phase: 'Pending' }),
        pod('app', 'web', 'edge-1', {
          phase: 'Running',
          containerStatuses: [
            {
              name: 'web',
              image: 'web',
              imageID: '',
              ready: false,
              restartCount: 7,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ],
        }),
        pod('app', 'fine', 'edge-1', { phase: 'Running' }),
      ],
    });
    const { collector: found } = collector();

    // Act
    await checkEdgePods(port, found);
    const result = await found.result();

    // Assess
    expect(result.sample.map((item) => [item.type, item.object, item.seen])).toEqual([
      ['pod-pending', 'pod/kube-system/calico-abc', 'Pending on edge node edge-1'],
      ['pod-crash-looping', 'pod/app/web', 'container web in CrashLoopBackOff on edge node edge-1 (7 restarts)'],
    ]);
    expect(port.edgeNodeListings).toBe(1);
  });

  it('takes the edge nodes the node check listed, and lists nothing more', async () => {
    // Prepare
    const port = clusterPort({
      nodes: [edgeNode('edge-1'), cloudNode('worker')],
      pods: [pod('kube-system', 'calico-abc', 'edge-2', { phase: 'Pending' })],
    });
    const { collector: found } = collector();

    // Act
    await checkEdgePods(port, found, new Set(['edge-2']));

    // Assess
    expect((await found.result()).sample.map((item) => item.object)).toEqual(['pod/kube-system/calico-abc']);
    expect(port.edgeNodeListings).toBe(0);
  });
});

describe('drift check of Metrics Server and edge-watcher-config', () => {
  it.each([
    ['kubesphere/metrics-server:v0.3.7', ['version v0.3.7']],
    ['kubesphere/metrics-server:v0.4.1', []],
    ['registry.k8s.io/metrics-server/metrics-server:v0.6.4', []],
  ])('judges Metrics Server %s', async (image, seen) => {
    // Prepare
    const port = clusterPort({ deployments: { 'kube-system/metrics-server': deployment(image) } });
    const { collector: found } = collector();

    // Act
    await checkMetricsServer(port, found);

    // Assess
    expect((await found.result()).sample.map((item) => item.seen)).toEqual(seen);
  });

  it('reports a missing Metrics Server', async () => {
    const { collector: found } = collector();
    await checkMetricsServer(clusterPort({}), found);
    expect((await found.result()).sample).toEqual([
      expect.objectContaining({ type: 'metrics-server-outdated', seen: 'not installed' }),
    ]);
  });

  it('reports an edge-watcher-config KubeSphere would refuse, and not a missing one (KubeSphere’s default)', async () => {
    // Prepare
    const bad = clusterPort({ configMaps: { 'kubeedge/edge-watcher-config': { version: 'v1.4.0', region: 'us' } } });
    const good = clusterPort({ configMaps: { 'kubeedge/edge-watcher-config': { version: 'v1.6.2', region: 'en' } } });
    const results = [];

    // Act
    for (const port of [bad, good, clusterPort({})]) {
      const { collector: found } = collector();
      await checkEdgeWatcherConfig(port, found);
      results.push((await found.result()).sample);
    }

    // Assess
    expect(results[0]).toEqual([
      expect.objectContaining({
        type: 'edge-watcher-config-invalid',
        object: 'configmap/kubeedge/edge-watcher-config',
        seen: 'version "v1.4.0" is not supported; region "us" is not zh or en',
      }),
    ]);
    expect(results.slice(1)).toEqual([[], []]);
  });
});

describe('drift check of locks', () => {
  it('reports Leases whose holder ended or, unknown, expired; never one whose holder runs', async () => {
    // Prepare
    const locks = lockPorts(
      [
        lease('edgekeeper-node-a', HOLDER('dead'), { node: 'a' }),
        lease('edgekeeper-node-b', HOLDER('alive'), { node: 'b' }),
        lease('edgekeeper-node-c', HOLDER('lost'), { node: 'c', renewed: '2026-12-02T07:00:00Z' }),
        lease('edgekeeper-node-d', HOLDER('lost-recent'), { node: 'd', renewed: '2026-12-02T07:59:00Z' }),
      ],
      { [HOLDER('dead')]: 'ended', [HOLDER('alive')]: 'running' },
    );
    const { collector: found } = collector();

    // Act
    await checkLocks(locks, found, NOW);

    // Assess
    expect((await found.result()).sample.map((item) => item.object)).toEqual([
      'lease/kube-system/edgekeeper-node-a',
      'lease/kube-system/edgekeeper-node-c',
    ]);
    expect(locks.deleted).toEqual([]);
  });
});

describe('the whole cluster check', () => {
  it('asks for every page of every list, with the continue token of the page before', async () => {
    // Prepare
    const asked: (string | undefined)[] = [];
    const nodes = Array.from({ length: 5 }, (_, i) => edgeNode(`edge-${i}`, { ready: 'False' }));
    const port = { ...clusterPort({ nodes }), listEdgeNodes: paged(nodes, 2, asked) };
    const { collector: found, stored } = collector('cluster', 1, 2);

    // Act
    await checkCluster(port, lockPorts([], {}), { allowlist: [] }, found, NOW);
    const result = await found.result();

    // Assess
    expect(asked).toEqual([undefined, '2', '4']);
    expect(result.counts).toEqual({ 'node-not-ready': 5, 'metrics-server-outdated': 1 });
    expect(result.sample).toHaveLength(2);
    expect(stored.flat()).toHaveLength(6);
    expect(stored.every((page) => page.length <= 2)).toBe(true);
  });
});

describe('drift check of hosts', () => {
  it('reports managed nodes whose instance is gone or offline, and tagged instances with no node', async () => {
    // Prepare
    const port: HostCheckPort = {
      listManagedNodes: paged(
        [
          { name: 'edge-1', instanceId: 'mi-00000000000000001' },
          { name: 'edge-2', instanceId: 'mi-00000000000000002' },
          { name: 'edge-3', instanceId: 'mi-00000000000000003' },
        ],
        2,
      ),
      describeInstances: async (ids) =>
        new Map(
          ids
            .filter((id) => id !== 'mi-00000000000000002')
            .map((id) => [id, { pingStatus: id.endsWith('3') ? 'ConnectionLost' : 'Online' }]),
        ),
      listTaggedInstances: async (token) =>
        token
          ? { instanceIds: ['mi-00000000000000009'] }
          : { instanceIds: ['mi-00000000000000001'], nextToken: 'next' },
    };
    const { collector: found } = collector();

    // Act
    await checkHosts(port, 'edgekeeper:role=edge', found);

    // Assess
    expect((await found.result()).sample.map((item) => [item.type, item.object, item.seen])).toEqual([
      ['host-gone', 'node/edge-2', 'its SSM managed instance mi-00000000000000002 is not registered'],
      ['host-offline', 'node/edge-3', 'its SSM managed instance mi-00000000000000003 is ConnectionLost'],
      ['host-without-node', 'instance/mi-00000000000000009', 'tagged edgekeeper:role=edge but no edge node records it'],
    ]);
  });
});
