import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import {
  type FinishRequest,
  finishNode,
  type NodePort,
  nodeAsSeen,
  type PatchOp,
  planFinish,
} from '../../../functions/finish-node/core';
import { EDGE_TAINT } from '../../../functions/shared/domain';
import type { JoinSettings } from '../../../functions/shared/join-settings/schema';
import { caught } from '../../support/thrown';
import { settingsFor } from './fixtures';

/** A node as it looks right after edgecore registered it: keadm's own labels, kubelet annotations, no taints. */
function registeredNode(overrides: { taints?: V1Taint[] } = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'edge-1',
      resourceVersion: '4711',
      labels: { 'node-role.kubernetes.io/edge': '', 'kubernetes.io/hostname': 'edge-1' },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: overrides.taints ? { taints: overrides.taints } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function requestFor(settings: JoinSettings, operationId = 'op-42'): FinishRequest {
  return { nodeName: 'edge-1', instanceId: 'mi-0123456789abcdef0', operationId, settings };
}

/**
 * The API server's side of the port: applies a JSON patch to the stored node, refusing it when a `test` fails, and
 * bumps the resourceVersion on every write. `kubeletWrites` simulates status updates landing between a read and
 * the patch that follows it.
 */
class FakeNodes implements NodePort {
  patches: PatchOp[][] = [];
  constructor(
    public node: V1Node | null,
    private kubeletWrites = 0,
  ) {}

  async readNode(): Promise<V1Node | null> {
    const read = this.node && deepClone(this.node);
    if (this.kubeletWrites > 0) {
      this.kubeletWrites--;
      this.bump();
    }
    return read;
  }

  async patchNode(_name: string, patch: readonly PatchOp[]): Promise<'patched' | 'conflict'> {
    this.patches.push([...patch]);
    try {
      this.node = applyPatch(deepClone(this.node), patch as Operation[], true, false).newDocument as V1Node;
    } catch (error) {
      if ((error as { name?: string }).name === 'TEST_OPERATION_FAILED') return 'conflict';
      throw error;
    }
    this.bump();
    return 'patched';
  }

  private bump(): void {
    if (this.node?.metadata)
      this.node.metadata.resourceVersion = String(Number(this.node.metadata.resourceVersion) + 1);
  }
}

async function finished(node: V1Node, settings: JoinSettings, operationId = 'op-42'): Promise<V1Node> {
  const nodes = new FakeNodes(node);
  await finishNode(nodes, requestFor(settings, operationId));
  return nodes.node as V1Node;
}

describe('finishNode on a freshly joined node', () => {
  it('marks the node as managed and records instance, version, profile, operation and what it applied', async () => {
    // Act
    const result = await finished(registeredNode(), settingsFor('v1.6.1', { labels: { site: 'plant-7' } }));

    // Assess
    expect(result.metadata?.labels).toEqual({
      'node-role.kubernetes.io/edge': '',
      'kubernetes.io/hostname': 'edge-1',
      'edgekeeper.io/managed': 'true',
      site: 'plant-7',
    });
    expect(result.metadata?.annotations).toEqual({
      'node.alpha.kubernetes.io/ttl': '0',
      'edgekeeper.io/instance-id': 'mi-0123456789abcdef0',
      'edgekeeper.io/kubeedge-version': 'v1.6.1',
      'edgekeeper.io/keadm-profile': 'fork',
      'edgekeeper.io/operation-id': 'op-42',
      'edgekeeper.io/applied-labels': 'site',
      'edgekeeper.io/applied-taints': 'node-role.kubernetes.io/edge:NoSchedule',
    });
  });

  it('creates labels and annotations on a node that has none', async () => {
    // Prepare
    const node = registeredNode();
    delete node.metadata?.labels;
    delete node.metadata?.annotations;

    // Act
    const result = await finished(node, settingsFor('v1.6.1', { taint: false }));

    // Assess
    expect(result.metadata?.labels).toEqual({ 'edgekeeper.io/managed': 'true' });
    expect(result.metadata?.annotations).toHaveProperty(['edgekeeper.io/operation-id'], 'op-42');
  });

  it.each([
    ['fork', 'v1.5.0'],
    ['fork', 'v1.6.0'],
    ['upstream', 'v1.12.0'],
    ['upstream', 'v1.20.0'],
  ])('adds the edge taint through the API when %s keadm %s could not add it at join', async (_profile, version) => {
    // Act
    const result = await finished(registeredNode(), settingsFor(version));

    // Assess
    expect(result.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/edge', value: '', effect: 'NoSchedule' }]);
  });

  it('adds no taint when the request asked for none (--no-taint)', async () => {
    expect((await finished(registeredNode(), settingsFor('v1.6.0', { taint: false }))).spec?.taints).toBeUndefined();
  });

  it('leaves the taint keadm --with-edge-taint added alone, and keeps the node’s other taints', async () => {
    // Prepare
    const other = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    const node = registeredNode({ taints: [other, { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] });

    // Act
    const { patch, result } = planFinish(node, requestFor(settingsFor('v1.6.1')));

    // Assess
    expect(patch.map((op) => op.path)).not.toContain('/spec/taints');
    expect(result.taint).toBe('unchanged');
  });

  it('starts with a test of the resourceVersion it was computed from', () => {
    const { patch } = planFinish(registeredNode(), requestFor(settingsFor('v1.6.1')));
    expect(patch[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '4711' });
  });
});

describe('finishNode on a rerun with a changed request', () => {
  it('changes nothing when the node already is as the request asks', async () => {
    // Prepare
    const node = await finished(registeredNode(), settingsFor('v1.6.0', { labels: { site: 'plant-7' } }));
    const nodes = new FakeNodes(node);

    // Act
    const result = await finishNode(nodes, requestFor(settingsFor('v1.6.0', { labels: { site: 'plant-7' } }), 'op-43'));

    // Assess
    expect(result).toEqual({
      nodeName: 'edge-1',
      patched: false,
      labelsSet: [],
      labelsRemoved: [],
      taint: 'unchanged',
    });
    expect(nodes.patches).toEqual([]);
  });

  it('applies new labels, removes the ones it applied before that are gone, and keeps everyone else’s', async () => {
    // Prepare
    const first = await finished(registeredNode(), settingsFor('v1.6.0', { labels: { site: 'plant-7', tier: 'a' } }));
    if (first.metadata?.labels) first.metadata.labels.team = 'ops'; // set by hand later

    // Act
    const nodes = new FakeNodes(first);
    const result = await finishNode(
      nodes,
      requestFor(settingsFor('v1.6.0', { labels: { site: 'plant-9', zone: 'b' } })),
    );

    // Assess
    expect(result).toMatchObject({ patched: true, labelsSet: ['site', 'zone'], labelsRemoved: ['tier'] });
    expect(nodes.node?.metadata?.labels).toEqual({
      'node-role.kubernetes.io/edge': '',
      'kubernetes.io/hostname': 'edge-1',
      'edgekeeper.io/managed': 'true',
      site: 'plant-9',
      zone: 'b',
      team: 'ops',
    });
    expect(nodes.node?.metadata?.annotations?.['edgekeeper.io/applied-labels']).toBe('site,zone');
  });

  it('keeps the operation that joined the node when a rerun finishes it again', async () => {
    const first = await finished(registeredNode(), settingsFor('v1.6.0'), 'op-join');
    const again = await finished(first, settingsFor('v1.6.0', { labels: { site: 'x' } }), 'op-rerun');
    expect(again.metadata?.annotations?.['edgekeeper.io/operation-id']).toBe('op-join');
  });

  it('removes the edge taint it applied when the rerun asks for none, and adds it back when asked again', async () => {
    // Prepare
    const first = await finished(registeredNode(), settingsFor('v1.6.0'));
    expect(first.spec?.taints).toEqual([EDGE_TAINT]);

    // Act
    const untainted = await finished(first, settingsFor('v1.6.0', { taint: false }));
    const tainted = await finished(untainted, settingsFor('v1.6.0'));

    // Assess
    expect(untainted.spec?.taints).toEqual([]);
    expect(untainted.metadata?.annotations?.['edgekeeper.io/applied-taints']).toBe('');
    expect(tainted.spec?.taints).toEqual([EDGE_TAINT]);
  });

  it('does not remove an edge taint someone else put on a node edgekeeper did not taint', async () => {
    // Prepare: finished without the taint, then tainted by hand
    const first = await finished(registeredNode(), settingsFor('v1.6.0', { taint: false }));
    first.spec = { taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] };

    // Act
    const again = await finished(first, settingsFor('v1.6.0', { taint: false, labels: { site: 'x' } }));

    // Assess
    expect(again.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }]);
  });

  it('treats the edge taint of a managed node finished before the record existed as its own', async () => {
    // Prepare
    const legacy = registeredNode({ taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] });
    if (legacy.metadata?.labels) legacy.metadata.labels['edgekeeper.io/managed'] = 'true';

    // Act
    const result = await finished(legacy, settingsFor('v1.6.1', { taint: false }));

    // Assess
    expect(result.spec?.taints).toEqual([]);
  });
});

describe('finishNode races', () => {
  it('reads the node again and retries when a kubelet update lands between read and patch', async () => {
    // Prepare
    const nodes = new FakeNodes(registeredNode(), 2);

    // Act
    const result = await finishNode(nodes, requestFor(settingsFor('v1.6.0')));

    // Assess
    expect(result.patched).toBe(true);
    expect(nodes.patches).toHaveLength(3);
    expect(nodes.node?.metadata?.labels).toHaveProperty(['edgekeeper.io/managed'], 'true');
  });

  it('fails with NodeKeptChangingError after five raced attempts, having changed nothing', async () => {
    // Prepare
    const nodes = new FakeNodes(registeredNode(), 5);

    // Act
    const error = await caught(finishNode(nodes, requestFor(settingsFor('v1.6.0'))));

    // Assess
    expect(error.name).toBe('NodeKeptChangingError');
    expect(error.message).toBe(
      'node edge-1 kept changing while it was being marked as managed; gave up after 5 attempts',
    );
    expect(nodes.node?.metadata?.labels).not.toHaveProperty(['edgekeeper.io/managed']);
  });

  it('fails with NodeVanishedError when the node is gone', async () => {
    const error = await caught(finishNode(new FakeNodes(null), requestFor(settingsFor('v1.6.0'))));
    expect(error.name).toBe('NodeVanishedError');
    expect(error.message).toBe('node edge-1 disappeared before it could be marked as managed');
  });
});

describe('finishNode from the node the readiness check saw', () => {
  const seenOf = (node: V1Node) =>
    nodeAsSeen({
      resourceVersion: node.metadata?.resourceVersion ?? '',
      labels: node.metadata?.labels ?? {},
      annotations: node.metadata?.annotations ?? {},
      taints: node.spec?.taints ?? [],
    });

  it('patches without reading the node when it is still as seen, with the same result as after a read', async () => {
    // Prepare
    const nodes = new FakeNodes(registeredNode());
    const read = jest.spyOn(nodes, 'readNode');

    // Act
    const result = await finishNode(nodes, requestFor(settingsFor('v1.6.0')), seenOf(registeredNode()));

    // Assess
    expect(read).not.toHaveBeenCalled();
    expect(result).toEqual(await finishNode(new FakeNodes(registeredNode()), requestFor(settingsFor('v1.6.0'))));
    expect(nodes.node).toEqual(await finished(registeredNode(), settingsFor('v1.6.0')));
  });

  it('reads the node and patches again when it changed since it was seen: the stale view only fails the test', async () => {
    // Prepare: a kubelet status update after the check saw the node
    const nodes = new FakeNodes(registeredNode());
    const seen = seenOf(registeredNode());
    (nodes.node as V1Node).metadata = { ...nodes.node?.metadata, resourceVersion: '4712' };

    // Act
    const result = await finishNode(nodes, requestFor(settingsFor('v1.6.0')), seen);

    // Assess
    expect(result.patched).toBe(true);
    expect(nodes.patches).toHaveLength(2);
    expect(nodes.node?.metadata?.labels).toHaveProperty(['edgekeeper.io/managed'], 'true');
  });
});
