import {
  type Affinity,
  classifyDaemonSet,
  type DaemonSet,
  type DaemonSetPort,
  type JsonPatchOp,
  keepDaemonSetsOffEdge,
  reportOf,
} from '../../../functions/shared/daemonset-fence';
import { caught } from '../../support/thrown';

const EXCLUDE = { key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' };
const config = { allowlist: ['monitoring/edge-agent'] };

function ds(
  namespace: string,
  name: string,
  spec: DaemonSet['spec']['template']['spec'] = {},
  annotations?: Record<string, string>,
): DaemonSet {
  return { metadata: { namespace, name, resourceVersion: '42', annotations }, spec: { template: { spec } } };
}

function required(...terms: Record<string, unknown>[]): Affinity {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } as Affinity;
}

/** Applies the produced ops the way the API server would (test + add on object members). */
function apply(target: DaemonSet, ops: JsonPatchOp[]): DaemonSet {
  const copy = structuredClone(target) as unknown as Record<string, unknown>;
  for (const op of ops) {
    const keys = op.path.split('/').slice(1);
    const last = keys.pop() as string;
    let parent = copy as Record<string, unknown>;
    for (const key of keys) parent = parent[key] as Record<string, unknown>;
    if (op.op === 'test') {
      if (parent[last] !== op.value) throw new Error('test failed');
    } else parent[last] = structuredClone(op.value);
  }
  return copy as unknown as DaemonSet;
}

describe('classifyDaemonSet', () => {
  it('creates the required affinity when there is none, with a resourceVersion test', () => {
    const decision = classifyDaemonSet(ds('kube-system', 'kube-proxy', { containers: [] }), config);
    expect(decision).toEqual({
      action: 'patch',
      namespace: 'kube-system',
      name: 'kube-proxy',
      affinity: required({ matchExpressions: [EXCLUDE] }),
      patch: [
        { op: 'test', path: '/metadata/resourceVersion', value: '42' },
        { op: 'add', path: '/spec/template/spec/affinity', value: required({ matchExpressions: [EXCLUDE] }) },
      ],
    });
  });

  it('keeps an existing expression and adds the exclusion beside it', () => {
    const linux = { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] };
    const decision = classifyDaemonSet(
      ds('kube-system', 'calico-node', { affinity: required({ matchExpressions: [linux] }) }),
      config,
    );
    expect(decision.action === 'patch' && decision.affinity).toEqual(required({ matchExpressions: [linux, EXCLUDE] }));
  });

  it('extends both ORed terms, keeps matchFields, preferred terms and pod anti-affinity untouched', () => {
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } }];
    const podAntiAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }],
    };
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'a', operator: 'Exists' }] },
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: preferred,
      },
      podAntiAffinity,
    } as Affinity;
    const before = structuredClone(affinity);
    const decision = classifyDaemonSet(
      ds('kube-system', 'nodelocaldns', { affinity, tolerations: [{ operator: 'Exists' }] }),
      config,
    );
    expect(decision.action === 'patch' && decision.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'a', operator: 'Exists' }, EXCLUDE] },
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }], matchExpressions: [EXCLUDE] },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: preferred,
      },
      podAntiAffinity,
    });
    expect(affinity).toEqual(before);
  });

  it.each([
    [
      'node-exporter already excluding edge nodes',
      ds('kubesphere-monitoring-system', 'node-exporter', { affinity: required({ matchExpressions: [EXCLUDE] }) }),
      'already excludes edge nodes',
    ],
    [
      'a nodeSelector no edge node satisfies',
      ds('x', 'y', { nodeSelector: { 'node-role.kubernetes.io/edge': 'never' } }),
      'already excludes edge nodes',
    ],
    [
      'edgemesh-agent requiring the edge label',
      ds('edgemesh', 'edgemesh-agent', {
        affinity: required({ matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] }),
      }),
      'meant for edge nodes',
    ],
    [
      'a nodeSelector on the edge label',
      ds('iot', 'collector', { nodeSelector: { 'node-role.kubernetes.io/edge': '' } }),
      'meant for edge nodes',
    ],
    ['the kubeedge namespace', ds('kubeedge', 'mosquitto'), 'KubeEdge component (namespace kubeedge)'],
    [
      'the edge-allowed annotation',
      ds('logging', 'fluent-bit', {}, { 'edgekeeper.io/edge-allowed': 'true' }),
      'annotated edgekeeper.io/edge-allowed=true',
    ],
    ['the allowlist', ds('monitoring', 'edge-agent'), 'allowlisted'],
  ])('skips %s', (_what, daemonSet, reason) => {
    expect(classifyDaemonSet(daemonSet, config)).toMatchObject({ action: 'skip', reason });
  });

  it('patches when only one of two terms excludes edge nodes, extending the other', () => {
    const decision = classifyDaemonSet(
      ds('a', 'b', {
        affinity: required({ matchExpressions: [EXCLUDE] }, { matchExpressions: [{ key: 'z', operator: 'Exists' }] }),
      }),
      config,
    );
    expect(decision.action === 'patch' && decision.affinity).toEqual(
      required({ matchExpressions: [EXCLUDE] }, { matchExpressions: [{ key: 'z', operator: 'Exists' }, EXCLUDE] }),
    );
  });

  it('is idempotent: after applying its patch the DaemonSet is skipped as already excluding', () => {
    const original = ds('kube-system', 'calico-node', {
      affinity: required({ matchExpressions: [{ key: 'k', operator: 'Exists' }] }, {}),
    });
    const decision = classifyDaemonSet(original, config);
    if (decision.action !== 'patch') throw new Error('expected a patch');
    const patched = apply(original, decision.patch);
    expect(classifyDaemonSet(patched, config)).toMatchObject({ action: 'skip', reason: 'already excludes edge nodes' });
  });

  it('reports patched and skipped DaemonSets', () => {
    const decisions = [ds('kube-system', 'kube-proxy'), ds('kubeedge', 'edgemesh')].map((d) =>
      classifyDaemonSet(d, config),
    );
    expect(reportOf(decisions)).toEqual({
      patched: [{ namespace: 'kube-system', name: 'kube-proxy' }],
      skipped: [{ namespace: 'kubeedge', name: 'edgemesh', reason: 'KubeEdge component (namespace kubeedge)' }],
    });
  });
});

/**
 * DaemonSets as the API server keeps them: a patch whose `test` fails is a conflict, every write bumps the
 * resourceVersion, and `racing` names DaemonSets a controller rewrites right after each read.
 */
class FakeDaemonSets implements DaemonSetPort {
  patchCalls = 0;
  constructor(
    readonly items: Map<string, DaemonSet>,
    private readonly racing: Map<string, number> = new Map(),
  ) {}

  async listDaemonSets() {
    return [...this.items.values()].map((item) => this.read(item));
  }

  async readDaemonSet(namespace: string, name: string) {
    const item = this.items.get(`${namespace}/${name}`);
    return item ? this.read(item) : null;
  }

  async patchDaemonSet(namespace: string, name: string, patch: readonly JsonPatchOp[]) {
    this.patchCalls++;
    const key = `${namespace}/${name}`;
    const item = this.items.get(key);
    if (!item) return 'gone' as const;
    let patched: DaemonSet;
    try {
      patched = apply(item, [...patch]);
    } catch {
      return 'conflict' as const;
    }
    patched.metadata.resourceVersion = String(Number(item.metadata.resourceVersion) + 1);
    this.items.set(key, patched);
    return 'patched' as const;
  }

  /** A copy of what is stored now; a racing controller then writes the stored one behind the reader's back. */
  private read(item: DaemonSet): DaemonSet {
    const copy = structuredClone(item);
    const key = `${item.metadata.namespace}/${item.metadata.name}`;
    const races = this.racing.get(key) ?? 0;
    if (races > 0) {
      this.racing.set(key, races - 1);
      item.metadata.resourceVersion = String(Number(item.metadata.resourceVersion) + 1);
    }
    return copy;
  }
}

function store(...items: DaemonSet[]): Map<string, DaemonSet> {
  return new Map(items.map((item) => [`${item.metadata.namespace}/${item.metadata.name}`, item]));
}

describe('keepDaemonSetsOffEdge', () => {
  it('patches every cloud DaemonSet once and reports what it patched and skipped', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy'), ds('kubeedge', 'edgemesh-agent')));

    // Act
    const report = await keepDaemonSetsOffEdge(port, config, false);

    // Assess
    expect(report).toEqual({
      patched: [{ namespace: 'kube-system', name: 'kube-proxy' }],
      skipped: [{ namespace: 'kubeedge', name: 'edgemesh-agent', reason: 'KubeEdge component (namespace kubeedge)' }],
    });
    const proxy = port.items.get('kube-system/kube-proxy');
    expect(proxy?.spec.template.spec?.affinity).toEqual(required({ matchExpressions: [EXCLUDE] }));
  });

  it('changes nothing on a dry run', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy')));

    // Act
    const report = await keepDaemonSetsOffEdge(port, config, true);

    // Assess
    expect(report.patched).toEqual([{ namespace: 'kube-system', name: 'kube-proxy' }]);
    expect(port.patchCalls).toBe(0);
  });

  it('is idempotent: a second run finds nothing to patch', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy')));
    await keepDaemonSetsOffEdge(port, config, false);

    // Act
    const again = await keepDaemonSetsOffEdge(port, config, false);

    // Assess
    expect(again.patched).toEqual([]);
    expect(again.skipped).toEqual([
      { namespace: 'kube-system', name: 'kube-proxy', reason: 'already excludes edge nodes' },
    ]);
  });

  it('reads and decides again when the DaemonSet changed since it was read', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy')), new Map([['kube-system/kube-proxy', 2]]));

    // Act
    const report = await keepDaemonSetsOffEdge(port, config, false);

    // Assess
    expect(report.patched).toEqual([{ namespace: 'kube-system', name: 'kube-proxy' }]);
    expect(port.patchCalls).toBe(3);
  });

  it('skips a DaemonSet deleted while it was being patched', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy')));
    const original = port.patchDaemonSet.bind(port);
    port.patchDaemonSet = async (namespace, name, patch) => {
      port.items.delete(`${namespace}/${name}`);
      return original(namespace, name, patch);
    };

    // Act
    const report = await keepDaemonSetsOffEdge(port, config, false);

    // Assess
    expect(report.skipped).toEqual([
      { namespace: 'kube-system', name: 'kube-proxy', reason: 'deleted while being patched' },
    ]);
  });

  it('fails with DaemonSetPatchError naming the DaemonSet after five raced attempts', async () => {
    // Prepare
    const port = new FakeDaemonSets(store(ds('kube-system', 'kube-proxy')), new Map([['kube-system/kube-proxy', 9]]));

    // Act
    const error = await caught(keepDaemonSetsOffEdge(port, config, false));

    // Assess
    expect(error.name).toBe('DaemonSetPatchError');
    expect(error.message).toBe('DaemonSet kube-system/kube-proxy kept changing; gave up after 5 attempts');
    expect(port.patchCalls).toBe(5);
  });

  it('patches several DaemonSets at once and reports them in the order they were listed', async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);
    const port = new FakeDaemonSets(store(...names.map((name) => ds('kube-system', name))));
    const patch = port.patchDaemonSet.bind(port);
    let inFlight = 0;
    let most = 0;
    port.patchDaemonSet = async (namespace, name, ops) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // the later the DaemonSet, the sooner its answer: the report's order must not follow the answers'
      await new Promise((resolve) => setTimeout(resolve, 24 - names.indexOf(name)));
      inFlight--;
      return patch(namespace, name, ops);
    };

    // Act
    const report = await keepDaemonSetsOffEdge(port, config, false);

    // Assess
    expect(report.patched.map((item) => item.name)).toEqual(names);
    expect(most).toBe(8);
  });

  it('starts no further patch once one DaemonSet failed, and lets those under way finish', async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);
    const port = new FakeDaemonSets(
      store(...names.map((name) => ds('kube-system', name))),
      new Map([['kube-system/agent-00', 9]]),
    );
    const patch = port.patchDaemonSet.bind(port);
    port.patchDaemonSet = async (namespace, name, ops) => {
      // agent-00 races and fails at once; the others take a while, so they are under way when it does
      if (name !== 'agent-00') await new Promise((resolve) => setTimeout(resolve, 10));
      return patch(namespace, name, ops);
    };

    // Act
    const error = await caught(keepDaemonSetsOffEdge(port, config, false));

    // Assess
    expect(error.name).toBe('DaemonSetPatchError');
    const patched = names.filter((name) => port.items.get(`kube-system/${name}`)?.spec.template.spec?.affinity);
    expect(patched).toEqual(names.slice(1, 8));
  });
});
