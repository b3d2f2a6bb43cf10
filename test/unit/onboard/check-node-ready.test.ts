import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import {
  checkReadiness,
  decidePoll,
  evaluateReadiness,
  NodeNotReadyError,
  type NodeSource,
  type NodeView,
  WATCH_SECONDS,
} from '../../../functions/check-node-ready/core';
import { clusterNodeSource, remembering, WATCH_GRACE_SECONDS } from '../../../functions/check-node-ready/node-source';
import { STEPS } from '../../../functions/registry';
import { nextPollDelay } from '../../../functions/shared/backoff';
import { ClusterAccessDeniedError, TransientServiceError } from '../../../functions/shared/errors';
import { type KubeClients, makeClients } from '../../../functions/shared/k8s';
import { TIMEOUT_BOUNDS } from '../../../functions/shared/settings';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import { EDGEKEEPER_USER } from '../../../local/sandbox/cluster/rbac';
import { caught } from '../../support/thrown';

const expected = {
  nodeName: 'edge-1',
  nodeIp: '192.168.10.21',
  taint: true,
  profile: 'fork',
  version: 'v1.6.1',
} as const;

function readyNode(overrides: Partial<NodeView> = {}): NodeView {
  return {
    metadata: { name: 'edge-1', labels: { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' } },
    spec: { taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '192.168.10.21' },
        { type: 'Hostname', address: 'edge-1' },
      ],
    },
    ...overrides,
  };
}

describe('evaluateReadiness', () => {
  it('is ready when every condition holds', () => {
    expect(evaluateReadiness(readyNode(), expected)).toEqual({ ready: true, missing: [] });
  });

  it('reports a missing node', () => {
    expect(evaluateReadiness(null, expected)).toEqual({ ready: false, missing: ['node edge-1 does not exist'] });
  });

  it('lists everything missing', () => {
    const node = readyNode({
      metadata: { name: 'edge-1', labels: {} },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: 'Unknown' }],
        addresses: [{ type: 'InternalIP', address: '10.9.9.9' }],
      },
    });
    expect(evaluateReadiness(node, expected).missing).toEqual([
      'condition Ready=True (is Unknown)',
      'label node-role.kubernetes.io/edge',
      'label node-role.kubernetes.io/agent',
      'InternalIP 192.168.10.21 (has 10.9.9.9)',
      'taint node-role.kubernetes.io/edge:NoSchedule',
    ]);
  });

  it('does not wait for a taint that the API applies later (upstream, fork v1.5.0/v1.6.0) or that was not asked', () => {
    const untainted = readyNode({ spec: {} });
    expect(evaluateReadiness(untainted, { ...expected, profile: 'upstream', version: 'v1.15.0' }).ready).toBe(true);
    expect(evaluateReadiness(untainted, { ...expected, version: 'v1.6.0' }).ready).toBe(true);
    expect(evaluateReadiness(untainted, { ...expected, taint: false }).ready).toBe(true);
  });
});

describe('polling', () => {
  it('backs off 2, 4, 8, 16 then caps at 30 seconds', () => {
    expect([0, 1, 2, 3, 4, 5, 50, 10_000].map(nextPollDelay)).toEqual([2, 4, 8, 16, 30, 30, 30, 30]);
  });

  it('stops waiting when ready, shortens the last wait to the deadline, fails after it', () => {
    expect(decidePoll(readyNode(), expected, 3, 0, 1000)).toEqual({ done: true });
    expect(decidePoll(null, expected, 4, 0, 10_000)).toEqual({
      done: false,
      waitSeconds: 10,
      missing: ['node edge-1 does not exist'],
    });
    expect(() => decidePoll(null, expected, 9, 600_000, 600_000)).toThrow(NodeNotReadyError);
    expect(() => decidePoll(null, expected, 9, 600_000, 600_000)).toThrow(
      'node edge-1 is not ready after the deadline: missing node edge-1 does not exist',
    );
  });
});

/** A source whose watch replays `seen` (node states, in order) and records what it was asked. */
function fakeSource(seen: (NodeView | null)[], current: NodeView | null = null) {
  const asked: { read: number; watchSeconds: number[] } = { read: 0, watchSeconds: [] };
  const source: NodeSource = {
    read: async () => {
      asked.read += 1;
      return current;
    },
    watch: async (seconds, done) => {
      asked.watchSeconds.push(seconds);
      let last: NodeView | null = null;
      for (const node of seen) {
        last = node;
        if (done(node)) break;
      }
      return last;
    },
  };
  return { source, asked };
}

describe('one readiness check', () => {
  const notReady = readyNode({
    status: { ...readyNode().status, conditions: [{ type: 'Ready', status: 'False' }] },
  });

  it('after an SSM join, watches the node and is done as soon as it turns Ready', async () => {
    const { source, asked } = fakeSource([null, notReady, readyNode(), notReady]);

    const decision = await checkReadiness(source, expected, { attempt: 0, deadlineMs: 600_000, watch: true }, () => 0);

    expect(decision).toEqual({ done: true });
    expect(asked).toEqual({ read: 0, watchSeconds: [WATCH_SECONDS] });
  });

  it('never watches past the ready timeout', async () => {
    const { source, asked } = fakeSource([readyNode()]);

    await checkReadiness(source, expected, { attempt: 0, deadlineMs: 12_500, watch: true }, () => 0);

    expect(asked.watchSeconds).toEqual([12]);
  });

  it('when the watch ends before the node is ready, backs off before the next check', async () => {
    const { source } = fakeSource([notReady]);
    let now = 0;
    const clock = () => {
      now += 30_000; // the watch took its time
      return now;
    };

    const decision = await checkReadiness(source, expected, { attempt: 1, deadlineMs: 600_000, watch: true }, clock);

    expect(decision).toEqual({
      done: false,
      waitSeconds: nextPollDelay(1),
      missing: ['condition Ready=True (is False)'],
    });
  });

  it('fails with NodeNotReadyError, naming what is missing, when the watch reaches the ready timeout', async () => {
    const { source } = fakeSource([]);
    let now = 0;
    const clock = () => {
      const at = now;
      now = 600_000;
      return at;
    };

    const error = await caught(
      checkReadiness(source, expected, { attempt: 3, deadlineMs: 600_000, watch: true }, clock),
    );

    expect(error).toBeInstanceOf(NodeNotReadyError);
    expect(error.message).toBe('node edge-1 is not ready after the deadline: missing node edge-1 does not exist');
  });

  it('while a person runs the manual join, reads the node once per check and never watches', async () => {
    const { source, asked } = fakeSource([readyNode()], null);

    const decision = await checkReadiness(
      source,
      expected,
      { attempt: 0, deadlineMs: 1_800_000, watch: false },
      () => 0,
    );

    expect(decision).toEqual({ done: false, waitSeconds: nextPollDelay(0), missing: ['node edge-1 does not exist'] });
    expect(asked).toEqual({ read: 1, watchSeconds: [] });
  });

  it('gives the Lambda room for the kubeconfig read, the watch, its connect and its grace', () => {
    const requestTimeout = TIMEOUT_BOUNDS.requestTimeoutSeconds.max;
    expect(STEPS.CheckNodeReady.timeoutSeconds).toBeGreaterThan(
      WATCH_SECONDS + WATCH_GRACE_SECONDS + 2 * requestTimeout,
    );
  });
});

describe('watching the node on the API server', () => {
  let dir: string;
  let cluster: SandboxCluster;
  let admin: CoreV1Api;
  let kube: KubeClients;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-node-watch-'));
    cluster = await startCluster({ dir });
    const adminConfig = new KubeConfig();
    adminConfig.loadFromFile(cluster.kubeconfigPath);
    admin = adminConfig.makeApiClient(CoreV1Api);
    kube = stepClients(cluster.edgekeeperKubeconfigPath);
  });

  afterAll(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => cluster.requestLog.reset());

  function stepClients(kubeconfigPath: string): KubeClients {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    return makeClients(config, 5);
  }

  function node(name: string, ready: boolean): V1Node {
    const { metadata, spec, status } = readyNode();
    return {
      metadata: { ...metadata, name },
      spec,
      status: {
        ...status,
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      },
    } as V1Node;
  }

  const isReady = (seen: NodeView | null) => evaluateReadiness(seen, { ...expected, nodeName: 'edge-w' }).ready;

  it('sees the node turn Ready while watching, in one request, and no other node', async () => {
    await admin.createNode({ body: node('edge-w', false) });
    const seen: (string | null)[] = [];
    const watching = clusterNodeSource(kube, 'edge-w').watch(20, (current) => {
      seen.push(current?.metadata.name ?? null);
      return isReady(current);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await admin.createNode({ body: node('edge-other', true) });
    await admin.replaceNodeStatus({ name: 'edge-w', body: node('edge-w', true) });

    const found = await watching;

    expect(isReady(found)).toBe(true);
    expect(seen).toEqual(['edge-w', 'edge-w']);
    expect(cluster.requestLog.counts(EDGEKEEPER_USER)).toEqual({ 'watch nodes': 1 });
  });

  it('ends with nothing when the node never registers within the watch', async () => {
    const found = await clusterNodeSource(kube, 'edge-never').watch(1, isReady);

    expect(found).toBeNull();
  });

  it('fails with TransientServiceError (the workflow retries it) when the API server never answers the watch', async () => {
    const frozen = createServer(() => undefined);
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    try {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [
          { name: 'frozen', server: `http://127.0.0.1:${(frozen.address() as AddressInfo).port}`, skipTLSVerify: true },
        ],
        users: [{ name: 'steps', token: 'x' }],
        contexts: [{ name: 'frozen', cluster: 'frozen', user: 'steps' }],
        currentContext: 'frozen',
      });

      const error = await caught(clusterNodeSource(makeClients(config, 1), 'edge-w').watch(30, isReady));

      expect(error).toBeInstanceOf(TransientServiceError);
      expect(error.message).toBe('watching node edge-w: the Kubernetes API did not answer within the request timeout');
    } finally {
      frozen.closeAllConnections();
      frozen.close();
    }
  });

  it('fails with ClusterAccessDeniedError, naming the manifest, on a cluster whose RBAC predates the watch', async () => {
    const manifest = join(dir, 'rbac-without-watch.yaml');
    writeFileSync(
      manifest,
      readFileSync(join(__dirname, '../../../deploy/rbac.yaml'), 'utf8').replace('[get, list, watch]', '[get, list]'),
    );
    const old = await startCluster({ dir: join(dir, 'old'), rbacManifest: manifest });
    try {
      const error = await caught(
        clusterNodeSource(stepClients(old.edgekeeperKubeconfigPath), 'edge-w').watch(1, isReady),
      );

      expect(error).toBeInstanceOf(ClusterAccessDeniedError);
      expect(error.message).toMatch(/^watching node edge-w: HTTP 403: .*deploy\/rbac\.yaml/);
    } finally {
      await old.stop();
    }
  });
});

describe('the node a check hands to finishing', () => {
  const node = {
    metadata: {
      name: 'edge-1',
      resourceVersion: '42',
      labels: { 'node-role.kubernetes.io/edge': '' },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };

  it('is the node as the watch last saw it: its resourceVersion, labels, annotations and taints only', async () => {
    const { source, seen } = remembering({ read: async () => null, watch: async () => node });
    await source.watch(1, () => true);
    expect(seen()).toEqual({
      resourceVersion: '42',
      labels: { 'node-role.kubernetes.io/edge': '' },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }],
    });
  });

  it('is null when the node was not seen', async () => {
    const { source, seen } = remembering({ read: async () => null, watch: async () => node });
    expect(seen()).toBeNull();
    await source.read();
    expect(seen()).toBeNull();
  });
});
