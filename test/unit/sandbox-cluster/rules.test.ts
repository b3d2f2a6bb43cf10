import { mergePatch, strategicMerge } from '../../../local/sandbox/cluster/patch';
import { R, RESOURCE_TYPES } from '../../../local/sandbox/cluster/resources';
import { podFitsNode, tolerates } from '../../../local/sandbox/cluster/scheduling';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../local/sandbox/cluster/selectors';
import type { Json, KubeObject } from '../../../local/sandbox/cluster/types';
import { decodeProblem, validate } from '../../../local/sandbox/cluster/validation';

const node = (labels: Record<string, string>, taints: object[] = []): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels },
  spec: { taints },
});

const required = (matchExpressions: Json[]): { [key: string]: Json } => ({
  affinity: {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } },
  },
});

describe('strategic merge patch', () => {
  it('merges containers by name and replaces tolerations whole', () => {
    const target = {
      containers: [
        { name: 'a', image: 'a:1', args: ['x'] },
        { name: 'b', image: 'b:1' },
      ],
      tolerations: [{ operator: 'Exists' }],
    } as Json;
    const patched = strategicMerge(target, {
      containers: [{ name: 'a', image: 'a:2' }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    });
    expect(patched).toEqual({
      containers: [
        { name: 'a', image: 'a:2', args: ['x'] },
        { name: 'b', image: 'b:1' },
      ],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    });
  });

  it('honours $patch: delete on list items and null on fields', () => {
    const patched = strategicMerge(
      { containers: [{ name: 'a' }, { name: 'b' }], x: 1 },
      { containers: [{ name: 'a', $patch: 'delete' }], x: null },
    );
    expect(patched).toEqual({ containers: [{ name: 'b' }] });
  });

  it('replaces nodeSelectorTerms instead of merging them', () => {
    const patched = strategicMerge(
      required([{ key: 'a', operator: 'Exists' }]),
      required([{ key: 'b', operator: 'Exists' }]),
    );
    expect(patched).toEqual(required([{ key: 'b', operator: 'Exists' }]));
  });

  it('merge patch replaces lists and deletes on null', () => {
    expect(mergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });
});

describe('selectors', () => {
  it('parses every label selector operator', () => {
    const requirements = parseLabelSelector('a=1,b!=2,c in (x, y),d notin (z),e,!f');
    expect(requirements.map((r) => r.operator)).toEqual(['In', 'NotIn', 'In', 'NotIn', 'Exists', 'DoesNotExist']);
    expect(matchesLabels(requirements, { a: '1', c: 'y', e: '' })).toBe(true);
    expect(matchesLabels(requirements, { a: '1', c: 'y', e: '', f: '' })).toBe(false);
  });

  it('parses field selectors in any term order', () => {
    expect(parseFieldSelector('involvedObject.uid=u,involvedObject.name=p')).toEqual([
      { path: 'involvedObject.uid', equal: true, value: 'u' },
      { path: 'involvedObject.name', equal: true, value: 'p' },
    ]);
  });
});

describe('scheduling rules', () => {
  it('lets an empty-key Exists toleration tolerate every taint', () => {
    expect(tolerates({ operator: 'Exists' }, { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' })).toBe(true);
    expect(
      tolerates({ key: 'other', operator: 'Exists' }, { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }),
    ).toBe(false);
  });

  it('keeps pods with edge DoesNotExist off edge nodes', () => {
    const spec = required([{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }]);
    expect(podFitsNode(spec, node({ 'node-role.kubernetes.io/edge': '' }))).toBe(false);
    expect(podFitsNode(spec, node({}))).toBe(true);
  });

  it('keeps a running pod on a node tainted NoSchedule after it started', () => {
    const tainted = node({}, [{ key: 'k', effect: 'NoSchedule' }]);
    expect(podFitsNode({}, tainted)).toBe(false);
    expect(podFitsNode({}, tainted, [], true)).toBe(true);
  });
});

describe('validation', () => {
  const ds = (podSpec: object, name = 'ds'): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: {}, template: { spec: podSpec } },
  });

  it('fails on values given to DoesNotExist, naming the field path', () => {
    const causes = validate(
      R.daemonsets,
      ds(required([{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist', values: ['x'] }])),
    );
    expect(causes.map((c) => c.field)).toEqual([
      'spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values',
    ]);
  });

  it('fails on an unknown operator and on In without values', () => {
    const causes = validate(
      R.daemonsets,
      ds(
        required([
          { key: 'a', operator: 'Maybe' },
          { key: 'b', operator: 'In' },
        ]),
      ),
    );
    expect(causes.map((c) => c.reason)).toEqual(['FieldValueNotSupported', 'FieldValueRequired']);
  });

  it('fails on a name that is not DNS-1123 and on a bad label value', () => {
    const causes = validate(R.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'Edge_1', labels: { a: 'not ok' } },
    });
    expect(causes.map((c) => c.field)).toEqual(['metadata.name', 'metadata.labels']);
  });

  it('accepts the shapes the workflow writes', () => {
    expect(
      validate(R.daemonsets, ds(required([{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }]))),
    ).toEqual([]);
  });
});

describe('decoding', () => {
  const LEASES = RESOURCE_TYPES.find((type) => type.kind === 'Lease') as (typeof RESOURCE_TYPES)[number];
  const lease = (spec: Record<string, Json>): KubeObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'edgekeeper-node-edge-1' },
    spec,
  });

  it('refuses a Lease time with other than six fraction digits, as a real API server does', () => {
    // JavaScript's toISOString() writes three; Go's RFC3339Micro layout reads exactly six
    expect(decodeProblem(LEASES, lease({ renewTime: '2026-12-02T10:05:00.456Z' }))).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-02T10:05:00.456Z" as ' +
        '"2006-01-02T15:04:05.000000Z07:00": cannot parse ".456Z" as ".000000"',
    );
    expect(decodeProblem(LEASES, lease({ acquireTime: '2026-12-02T10:05:00Z' }))).toContain('cannot parse "Z"');
  });

  it('reads Lease times with six fraction digits, and objects without MicroTimes', () => {
    const times = { acquireTime: '2026-12-02T10:05:00.456000Z', renewTime: '2026-12-02T11:05:00.000001+01:00' };
    expect(decodeProblem(LEASES, lease(times))).toBeUndefined();
    expect(decodeProblem(LEASES, lease({ holderIdentity: 'x' }))).toBeUndefined();
    expect(decodeProblem(R.nodes, node({}))).toBeUndefined();
  });
});
