import {
  assertRemovable,
  classifyPods,
  type DrainPorts,
  DrainTimeoutError,
  drainProgress,
  drainTurn,
  EvictionFailedError,
  evictionOutcome,
  type PodLike,
  planDrain,
  WorkloadPodsPresentError,
} from '../../../functions/drain-node/core';

const owned = (
  namespace: string,
  name: string,
  kind: string,
  owner: string,
  extra: Partial<PodLike> = {},
): PodLike => ({
  metadata: { namespace, name, ownerReferences: [{ kind, name: owner, controller: true }] },
  status: { phase: 'Running' },
  ...extra,
});

const PODS: PodLike[] = [
  owned('kube-system', 'calico-node-x', 'DaemonSet', 'calico-node'),
  owned('default', 'web-1', 'ReplicaSet', 'web'),
  owned('default', 'db-0', 'StatefulSet', 'db'),
  owned('default', 'job-x', 'Job', 'job', { status: { phase: 'Succeeded' } }),
  owned('default', 'crash', 'ReplicaSet', 'crash', { status: { phase: 'Failed' } }),
  {
    metadata: {
      namespace: 'kube-system',
      name: 'static-edge-1',
      annotations: { 'kubernetes.io/config.mirror': 'abc' },
    },
  },
  { metadata: { namespace: 'default', name: 'debug' }, status: { phase: 'Running' } },
  {
    metadata: {
      namespace: 'default',
      name: 'old',
      deletionTimestamp: '2024-01-01T00:00:00Z',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'old', controller: true }],
    },
  },
  // an owner reference that is not the controller does not make a DaemonSet pod
  { metadata: { namespace: 'default', name: 'adopted', ownerReferences: [{ kind: 'DaemonSet', name: 'x' }] } },
];

describe('classifyPods', () => {
  it('sorts pods into DaemonSet, mirror, completed, terminating and workload pods', () => {
    const pods = classifyPods(PODS);
    expect(pods.daemonSet.map((p) => p.name)).toEqual(['calico-node-x']);
    expect(pods.mirror.map((p) => p.name)).toEqual(['static-edge-1']);
    expect(pods.completed.map((p) => p.name)).toEqual(['crash', 'job-x']);
    expect(pods.terminating.map((p) => p.name)).toEqual(['old']);
    expect(pods.workload).toEqual([
      { namespace: 'default', name: 'adopted' },
      { namespace: 'default', name: 'db-0', owner: 'StatefulSet/db' },
      { namespace: 'default', name: 'debug' },
      { namespace: 'default', name: 'web-1', owner: 'ReplicaSet/web' },
    ]);
  });
});

describe('assertRemovable', () => {
  it('refuses workload pods without drain, listing them', () => {
    const pods = classifyPods([
      owned('default', 'web-1', 'ReplicaSet', 'web'),
      owned('default', 'web-2', 'ReplicaSet', 'web'),
    ]);
    expect(() => assertRemovable('edge-1', pods, false)).toThrow(new WorkloadPodsPresentError('edge-1', pods.workload));
    expect(() => assertRemovable('edge-1', pods, false)).toThrow(
      'node edge-1 runs 2 workload pods: default/web-1 (ReplicaSet/web), default/web-2 (ReplicaSet/web); pass drain to evict them',
    );
  });

  it('names a bare pod as having no controller, in the singular', () => {
    const pods = classifyPods([{ metadata: { namespace: 'default', name: 'debug' } }]);
    expect(() => assertRemovable('edge-1', pods, false)).toThrow(
      'node edge-1 runs 1 workload pod: default/debug (no controller); pass drain to evict them',
    );
  });

  it('lets DaemonSet-only nodes and drains through', () => {
    expect(() => assertRemovable('edge-1', classifyPods([PODS[0] as PodLike]), false)).not.toThrow();
    expect(() => assertRemovable('edge-1', classifyPods(PODS), true)).not.toThrow();
  });
});

describe('planDrain', () => {
  it('cordons, then evicts each workload pod through the Eviction API', () => {
    const plan = planDrain('edge-1', classifyPods(PODS), 120);
    expect(plan.cordonPatch).toEqual({ spec: { unschedulable: true } });
    expect(plan.timeoutSeconds).toBe(120);
    expect(plan.evictions.map((e) => e.body)).toContainEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-1', namespace: 'default' },
    });
    expect(plan.evictions).toHaveLength(4);
  });
});

describe('evictionOutcome', () => {
  const pod = { namespace: 'default', name: 'web-1', owner: 'ReplicaSet/web' };

  it('reads 201 as evicted, 404 as gone and 429 (PDB) as retry', () => {
    expect(evictionOutcome(pod, 201)).toBe('evicted');
    expect(evictionOutcome(pod, 404)).toBe('gone');
    expect(evictionOutcome(pod, 429)).toBe('retry');
  });

  it('fails on anything else', () => {
    expect(() => evictionOutcome(pod, 500, 'This pod has more than one PodDisruptionBudget')).toThrow(
      new EvictionFailedError(pod, 500, 'This pod has more than one PodDisruptionBudget'),
    );
    expect(() => evictionOutcome(pod, 403)).toThrow(
      'eviction of default/web-1 (ReplicaSet/web) failed with HTTP 403: unexpected status',
    );
  });
});

describe('drainProgress', () => {
  const plan = planDrain('edge-1', classifyPods(PODS), 60);

  it('is done when only ignored pods remain, waits before the deadline, fails after it', () => {
    expect(drainProgress(plan, [PODS[0] as PodLike], 10)).toBe('done');
    expect(drainProgress(plan, [PODS[1] as PodLike], 59)).toBe('wait');
    expect(() => drainProgress(plan, [PODS[1] as PodLike], 60)).toThrow(
      new DrainTimeoutError('edge-1', [{ namespace: 'default', name: 'web-1', owner: 'ReplicaSet/web' }], 60),
    );
    expect(() => drainProgress(plan, [PODS[1] as PodLike], 60)).toThrow(
      'node edge-1 still runs 1 pod after 60s of draining: default/web-1 (ReplicaSet/web)',
    );
  });
});

/**
 * A node with pods, as the Eviction API treats them: an evicted pod leaves at once unless a budget holds it
 * (429 while `budget` pods of its app would be left below the minimum).
 */
function fakeCluster(pods: PodLike[], options: { node?: boolean; minAvailable?: number; refuse?: number } = {}) {
  const calls: string[] = [];
  let onNode = [...pods];
  const ports: DrainPorts = {
    nodeExists: async () => options.node ?? true,
    podsOn: async () => onNode,
    cordon: async (nodeName, patch) => {
      calls.push(`cordon ${nodeName} ${JSON.stringify(patch)}`);
    },
    evict: async ({ pod }) => {
      calls.push(`evict ${pod.namespace}/${pod.name}`);
      if (options.refuse) return { statusCode: options.refuse, detail: 'HTTP 403: forbidden' };
      const alive = onNode.filter((p) => p.metadata?.name !== pod.name && p.metadata?.name?.startsWith('web'));
      if (pod.name.startsWith('web') && alive.length < (options.minAvailable ?? 0)) {
        return { statusCode: 429, detail: 'HTTP 429: Cannot evict pod as it would violate the pod disruption budget' };
      }
      onNode = onNode.filter((p) => p.metadata?.name !== pod.name);
      return { statusCode: 201, detail: '' };
    },
  };
  return { ports, calls, left: () => onNode };
}

describe('drainTurn', () => {
  const NOW = new Date('2026-01-01T00:00:00Z');
  const turn = (extra: Partial<Parameters<typeof drainTurn>[1]> = {}) => ({
    nodeName: 'edge-1',
    drain: true,
    startedAt: null,
    attempt: 0,
    timeoutSeconds: 300,
    now: NOW,
    ...extra,
  });
  const web = (name: string) => owned('default', name, 'ReplicaSet', 'web');

  it('has nothing to do for a node that is gone', async () => {
    // Prepare
    const { ports, calls } = fakeCluster([], { node: false });

    // Act
    const result = await drainTurn(ports, turn());

    // Assess
    expect(result).toEqual({
      startedAt: NOW.toISOString(),
      attempt: 1,
      done: true,
      waitSeconds: 0,
      outcome: { step: 'drain', result: 'nothing-to-do', detail: 'no node' },
    });
    expect(calls).toEqual([]);
  });

  it('leaves a node with only DaemonSet pods uncordoned', async () => {
    // Prepare
    const { ports, calls } = fakeCluster([PODS[0] as PodLike]);

    // Act
    const result = await drainTurn(ports, turn({ drain: false }));

    // Assess
    expect(result).toMatchObject({ done: true, outcome: { result: 'nothing-to-do' } });
    expect(calls).toEqual([]);
  });

  it('refuses workload pods without drain before cordoning anything', async () => {
    // Prepare
    const { ports, calls } = fakeCluster([web('web-1')]);

    // Act & Assess
    await expect(drainTurn(ports, turn({ drain: false }))).rejects.toThrow(WorkloadPodsPresentError);
    expect(calls).toEqual([]);
  });

  it('cordons, evicts every workload pod and is done when they left', async () => {
    // Prepare
    const { ports, calls, left } = fakeCluster([PODS[0] as PodLike, web('web-1'), web('web-2')]);

    // Act
    const result = await drainTurn(ports, turn());

    // Assess
    expect(calls).toEqual([
      'cordon edge-1 {"spec":{"unschedulable":true}}',
      'evict default/web-1',
      'evict default/web-2',
    ]);
    expect(result).toMatchObject({
      done: true,
      waitSeconds: 0,
      outcome: { result: 'done', detail: 'cordoned and evicted default/web-1, default/web-2' },
    });
    expect(left()).toEqual([PODS[0]]);
  });

  it('waits with the polling backoff while a budget holds a pod, then fails at the drain timeout naming it', async () => {
    // Prepare: one web pod must stay
    const { ports } = fakeCluster([web('web-1'), web('web-2')], { minAvailable: 1 });

    // Act
    const first = await drainTurn(ports, turn());
    const third = await drainTurn(
      ports,
      turn({ startedAt: first.startedAt, attempt: 2, now: new Date(NOW.getTime() + 20_000) }),
    );
    const late = drainTurn(
      ports,
      turn({ startedAt: first.startedAt, attempt: 3, now: new Date(NOW.getTime() + 300_000) }),
    );

    // Assess
    expect(first).toMatchObject({ done: false, waitSeconds: 2, attempt: 1, startedAt: NOW.toISOString() });
    expect(third).toMatchObject({ done: false, waitSeconds: 8, attempt: 3 });
    await expect(late).rejects.toThrow(
      'node edge-1 still runs 1 pod after 300s of draining: default/web-2 (ReplicaSet/web)',
    );
  });

  it('fails on an eviction the API refuses for another reason', async () => {
    // Prepare
    const { ports } = fakeCluster([web('web-1')], { refuse: 403 });

    // Act & Assess
    await expect(drainTurn(ports, turn())).rejects.toThrow(
      'eviction of default/web-1 (ReplicaSet/web) failed with HTTP 403: HTTP 403: forbidden',
    );
  });
});
