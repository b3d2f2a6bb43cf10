import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import { EDGE_TAINT, finishNodePatch } from '../../../functions/finish-node/core';
import { joinPlanFor } from '../../../functions/shared/keadm/profiles';
import type { JoinSettings } from '../../../functions/shared/schemas';
import { settingsFor } from './fixtures';

/** A node as it looks right after edgecore registered it: keadm's own labels, kubelet annotations, no taints. */
function registeredNode(overrides: { taints?: V1Taint[] } = {}): V1Node {
  const node: V1Node = {
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
  return node;
}

/** Applies the patch as the API server would, refusing it when a `test` fails. */
function finished(node: V1Node, settings: JoinSettings): V1Node {
  const patch = finishNodePatch(node, settings, 'mi-0123456789abcdef0', 'op-42') as Operation[];
  return applyPatch(deepClone(node), patch, true, false).newDocument as V1Node;
}

describe('finishNodePatch', () => {
  it('marks the node as managed and records instance, version, profile and operation, keeping what it had', () => {
    // Prepare
    const node = registeredNode();

    // Act
    const result = finished(node, settingsFor('v1.6.1'));

    // Assess
    expect(result.metadata?.labels).toEqual({
      'node-role.kubernetes.io/edge': '',
      'kubernetes.io/hostname': 'edge-1',
      'edgekeeper.io/managed': 'true',
    });
    expect(result.metadata?.annotations).toEqual({
      'node.alpha.kubernetes.io/ttl': '0',
      'edgekeeper.io/instance-id': 'mi-0123456789abcdef0',
      'edgekeeper.io/kubeedge-version': 'v1.6.1',
      'edgekeeper.io/keadm-profile': 'fork',
      'edgekeeper.io/operation-id': 'op-42',
    });
  });

  it('creates labels and annotations on a node that has none', () => {
    // Prepare
    const node = registeredNode();
    delete node.metadata?.labels;
    delete node.metadata?.annotations;

    // Act
    const result = finished(node, settingsFor('v1.6.1'));

    // Assess
    expect(result.metadata?.labels).toEqual({ 'edgekeeper.io/managed': 'true' });
    expect(result.metadata?.annotations).toHaveProperty(['edgekeeper.io/operation-id'], 'op-42');
  });

  it('adds the requested labels a keadm without --labels could not set (fork v1.6.1)', () => {
    // Prepare
    const settings = settingsFor('v1.6.1', { labels: { site: 'plant-7', tier: 'edge' } });

    // Act
    const result = finished(registeredNode(), settings);

    // Assess
    expect(result.metadata?.labels).toMatchObject({ site: 'plant-7', tier: 'edge', 'edgekeeper.io/managed': 'true' });
  });

  it('leaves the requested labels to keadm when it sets them at join (fork v1.9.2)', () => {
    // Prepare
    const settings = settingsFor('v1.9.2', { labels: { site: 'plant-7' } });
    expect(joinPlanFor(settings).applyViaApi.labels).toEqual({});

    // Act
    const result = finished(registeredNode(), settings);

    // Assess
    expect(result.metadata?.labels).not.toHaveProperty('site');
  });

  it.each([
    ['fork', 'v1.5.0'],
    ['fork', 'v1.6.0'],
    ['upstream', 'v1.12.0'],
    ['upstream', 'v1.20.0'],
  ])('adds the edge taint through the API when %s keadm %s cannot add it at join', (_profile, version) => {
    // Prepare
    const settings = settingsFor(version);
    expect(joinPlanFor(settings).applyViaApi.taint).toBe(true);

    // Act
    const result = finished(registeredNode(), settings);

    // Assess
    expect(result.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/edge', value: '', effect: 'NoSchedule' }]);
  });

  it.each(['v1.6.1', 'v1.6.2', 'v1.9.2'])('leaves the taint to keadm --with-edge-taint on fork %s', (version) => {
    // Prepare
    const settings = settingsFor(version);
    expect(joinPlanFor(settings).applyViaApi.taint).toBe(false);

    // Act
    const patch = finishNodePatch(registeredNode(), settings, 'mi-0123456789abcdef0', 'op-42');

    // Assess
    expect(patch.map((op) => op.path)).not.toContain('/spec/taints');
  });

  it('adds no taint when the request asked for none (--no-taint)', () => {
    // Prepare
    const settings = settingsFor('v1.6.0', { taint: false });

    // Act
    const result = finished(registeredNode(), settings);

    // Assess
    expect(result.spec?.taints).toBeUndefined();
  });

  it('does not add the edge taint twice when the node already carries it', () => {
    // Prepare
    const node = registeredNode({ taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] });

    // Act
    const patch = finishNodePatch(node, settingsFor('v1.6.0'), 'mi-0123456789abcdef0', 'op-42');

    // Assess
    expect(patch.map((op) => op.path)).not.toContain('/spec/taints');
    expect(finished(node, settingsFor('v1.6.0')).spec?.taints).toEqual([
      { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' },
    ]);
  });

  it('keeps the taints the node already has when it adds the edge taint', () => {
    // Prepare
    const other = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    const node = registeredNode({ taints: [other] });

    // Act
    const result = finished(node, settingsFor('v1.6.0'));

    // Assess
    expect(result.spec?.taints).toEqual([other, EDGE_TAINT]);
  });

  it('starts with a test of the resourceVersion it was computed from', () => {
    // Prepare
    const node = registeredNode();

    // Act
    const patch = finishNodePatch(node, settingsFor('v1.6.1'), 'mi-0123456789abcdef0', 'op-42');

    // Assess
    expect(patch[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '4711' });
  });

  it('is refused when the node changed since it was read (a kubelet update in between)', () => {
    // Prepare
    const read = registeredNode();
    const patch = finishNodePatch(read, settingsFor('v1.6.0'), 'mi-0123456789abcdef0', 'op-42') as Operation[];
    const current = deepClone(read) as V1Node;
    if (current.metadata) current.metadata.resourceVersion = '4712';

    // Act
    const act = () => applyPatch(current, patch, true, false);

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: 'TEST_OPERATION_FAILED' }));
    expect(current.metadata?.labels).not.toHaveProperty(['edgekeeper.io/managed']);
  });
});
