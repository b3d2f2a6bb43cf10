import type { V1Node } from '@kubernetes/client-node';
import { type EdgeReport, kubeletVersion, registeredNode, withReady } from '../../../local/sandbox/edge/node-object';

const report: EdgeReport = {
  nodeName: 'edge-1',
  internalIP: '10.20.0.11',
  hostname: 'edge-1',
  architecture: 'arm64',
  osImage: 'Ubuntu 18.04.6 LTS',
  kernelVersion: '5.15.0',
  containerRuntimeVersion: 'docker://20.10.7',
  kubeedgeVersion: 'v1.6.2',
  withEdgeTaint: true,
  labels: 'site=lab,zone=a',
};
const now = new Date('2024-01-01T00:00:00Z');

describe('edge Node as the cloudcore stand-in writes it', () => {
  it('reports the kubelet version edged reports', () => {
    expect(kubeletVersion('v1.6.2')).toBe('v1.19.3-kubeedge-v1.6.2');
    expect(kubeletVersion('1.15.0')).toBe('v1.26.10-kubeedge-v1.15.0');
  });

  it('registers a new node NotReady with edge labels, --labels, the taint and both addresses', () => {
    const node = registeredNode(report, undefined, now);
    expect(node.metadata?.labels).toEqual({
      site: 'lab',
      zone: 'a',
      'node-role.kubernetes.io/edge': '',
      'node-role.kubernetes.io/agent': '',
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': 'edge-1',
    });
    expect(node.spec?.taints).toEqual([{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }]);
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.20.0.11' },
      { type: 'Hostname', address: 'edge-1' },
    ]);
    expect(node.status?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'False' })]);
  });

  it('keeps what others put on an existing node and does not duplicate the taint on a rejoin', () => {
    const existing: V1Node = {
      metadata: { name: 'edge-1', labels: { 'edgekeeper.io/managed': 'true' }, resourceVersion: '7' },
      spec: {
        taints: [
          { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' },
          { key: 'x', effect: 'NoExecute' },
        ],
      },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: new Date(0) }] },
    };
    const node = registeredNode({ ...report, labels: '' }, existing, now);
    expect(node.metadata?.resourceVersion).toBe('7');
    expect(node.metadata?.labels?.['edgekeeper.io/managed']).toBe('true');
    expect(node.spec?.taints).toHaveLength(2);
    expect(node.status?.conditions?.[0]).toMatchObject({ status: 'False', lastTransitionTime: now });
  });

  it('moves the transition time only when Ready changes', () => {
    const notReady = registeredNode(report, undefined, new Date(0));
    const ready = withReady(notReady, 'True', now);
    expect(ready.status?.conditions?.[0]).toMatchObject({
      status: 'True',
      reason: 'EdgeReady',
      lastTransitionTime: now,
    });
    const later = new Date('2024-01-02T00:00:00Z');
    expect(withReady(ready, 'True', later).status?.conditions?.[0]).toMatchObject({
      lastTransitionTime: now,
      lastHeartbeatTime: later,
    });
  });
});
