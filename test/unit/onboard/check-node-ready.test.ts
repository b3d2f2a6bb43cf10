import {
  decidePoll,
  evaluateReadiness,
  NodeNotReadyError,
  type NodeView,
} from '../../../functions/check-node-ready/core';
import { nextPollDelay } from '../../../functions/shared/backoff';

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
