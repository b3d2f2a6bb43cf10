import type { RemoveRequest } from '../../../functions/shared/remove-input';
import {
  InstanceIdMismatchError,
  type NodeLike,
  NotAnEdgeNodeError,
  resolveRemoveTarget,
} from '../../../functions/shared/remove-target';

const request = (extra: Partial<RemoveRequest> = {}): RemoveRequest => ({
  mode: 'remove',
  nodeName: 'edge-1',
  drain: false,
  force: false,
  hostChanged: true,
  ...extra,
});
const edgeNode = (annotations: Record<string, string> = {}): NodeLike => ({
  metadata: { name: 'edge-1', labels: { 'node-role.kubernetes.io/edge': '' }, annotations },
});

describe('resolveRemoveTarget', () => {
  it('takes the instance id from the node annotation when the request has none', () => {
    const node = edgeNode({ 'edgekeeper.io/instance-id': 'mi-0123456789abcdef0' });
    expect(resolveRemoveTarget(request(), node)).toEqual({
      nodeName: 'edge-1',
      nodeExists: true,
      instanceId: 'mi-0123456789abcdef0',
    });
  });

  it('takes the request instance id for a node joined by hand (no annotation)', () => {
    expect(resolveRemoveTarget(request({ instanceId: 'i-0123456789abcdef0' }), edgeNode()).instanceId).toBe(
      'i-0123456789abcdef0',
    );
    expect(resolveRemoveTarget(request(), edgeNode())).toEqual({ nodeName: 'edge-1', nodeExists: true });
  });

  it('refuses an instance id that contradicts the annotation', () => {
    const node = edgeNode({ 'edgekeeper.io/instance-id': 'mi-0123456789abcdef0' });
    expect(() => resolveRemoveTarget(request({ instanceId: 'mi-0000000000000000f' }), node)).toThrow(
      new InstanceIdMismatchError('edge-1', 'mi-0000000000000000f', 'mi-0123456789abcdef0'),
    );
  });

  it('accepts a missing node in both modes: what edgekeeper left for it is still cleaned', () => {
    expect(resolveRemoveTarget(request(), undefined)).toEqual({ nodeName: 'edge-1', nodeExists: false });
    expect(resolveRemoveTarget(request({ mode: 'rollback', instanceId: 'mi-0123456789abcdef0' }), undefined)).toEqual({
      nodeName: 'edge-1',
      nodeExists: false,
      instanceId: 'mi-0123456789abcdef0',
    });
  });

  it('never removes a cloud node, in either mode', () => {
    const cloud: NodeLike = { metadata: { name: 'edge-1', labels: { 'node-role.kubernetes.io/worker': '' } } };
    expect(() => resolveRemoveTarget(request(), cloud)).toThrow(
      'nodeName edge-1 is not an edge node (no node-role.kubernetes.io/edge label): refusing to remove a cloud node',
    );
    expect(() => resolveRemoveTarget(request({ mode: 'rollback' }), cloud)).toThrow(NotAnEdgeNodeError);
  });
});
