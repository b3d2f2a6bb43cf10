import type { ObjectRef, SecretLike } from '../../../functions/shared/helm-release';
import { HelmReleaseNotFoundError } from '../../../functions/shared/helm-release';
import { parseRecord, UninstallRecordCorruptError } from '../../../functions/shared/uninstall-cluster';
import {
  checkNamespaceGone,
  type DeleteOutcome,
  deleteRelease,
  EdgeNodesExistError,
  formatObjectRef,
  NamespaceStuckError,
  planOrResumeUninstall,
  planUninstall,
  type UninstallPlan,
  uninstallReport,
} from '../../../functions/shared/uninstall-plan';
import { fixtureReleases, kubeedgeRelease, releaseSecret } from '../../fixtures/helm/generate';

const secrets = (): SecretLike[] => fixtureReleases().map((r) => releaseSecret(r) as SecretLike);

describe('planUninstall', () => {
  it('refuses while edge nodes exist, listing them', () => {
    const input = { edgeNodes: ['edge-2', 'edge-1'], releaseSecrets: secrets(), force: false, releaseName: 'kubeedge' };
    expect(() => planUninstall(input)).toThrow(new EdgeNodesExistError(['edge-1', 'edge-2']));
    expect(() => planUninstall(input)).toThrow(
      '2 edge nodes exist: edge-1, edge-2; remove them first or pass force to remove them as part of the uninstall',
    );
  });

  it('with force, removes the edge nodes first', () => {
    const plan = planUninstall({
      edgeNodes: ['edge-1'],
      releaseSecrets: secrets(),
      force: true,
      releaseName: 'kubeedge',
    });
    expect(plan.nodesToRemoveFirst).toEqual(['edge-1']);
  });

  it('plans every object of the deployed revision in deletion order, all release secrets, then the namespace', () => {
    const plan = planUninstall({ edgeNodes: [], releaseSecrets: secrets(), force: false, releaseName: 'kubeedge' });
    expect(plan.release).toEqual({
      name: 'kubeedge',
      namespace: 'kubeedge',
      revision: 2,
      status: 'deployed',
      chart: 'kubeedge-0.1.0',
    });
    expect(plan.objects.map(formatObjectRef)).toEqual([
      'ValidatingWebhookConfiguration/kubeedge-admission-webhook',
      'kubeedge/Service/cloudcore',
      'kubeedge/Job/kubeedge-pre-delete-cleanup',
      'kubeedge/Deployment/cloudcore',
      'kubeedge/Deployment/edge-watcher',
      'ClusterRoleBinding/cloudcore',
      'ClusterRole/cloudcore',
      'kubeedge/ConfigMap/cloudcore',
      'kubeedge/ConfigMap/edge-watcher-config',
      'kubeedge/ServiceAccount/cloudcore',
      'CustomResourceDefinition/clusterobjectsyncs.reliablesyncs.kubeedge.io',
      'CustomResourceDefinition/devices.devices.kubeedge.io',
    ]);
    expect(plan.releaseSecrets).toEqual({
      namespace: 'kubeedge',
      names: ['sh.helm.release.v1.kubeedge.v1', 'sh.helm.release.v1.kubeedge.v2'],
    });
    expect(plan.namespace).toBe('kubeedge');
  });

  it('leaves the kubeedge Namespace object to the final namespace step', () => {
    const release = kubeedgeRelease(1, 'deployed');
    release.manifest = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubeedge\n';
    const plan = planUninstall({
      edgeNodes: [],
      releaseSecrets: [releaseSecret(release) as SecretLike],
      force: false,
      releaseName: 'kubeedge',
    });
    expect(plan.objects.map(formatObjectRef)).toEqual(['kubeedge/Job/kubeedge-pre-delete-cleanup']);
  });

  it('fails when the release name is wrong, naming the ones that exist (KubeSphere 3.3 uses cloudcore)', () => {
    expect(() =>
      planUninstall({ edgeNodes: [], releaseSecrets: secrets(), force: false, releaseName: 'cloudcore' }),
    ).toThrow(HelmReleaseNotFoundError);
  });
});

describe('uninstallReport', () => {
  it('splits deleted objects from ones already gone', () => {
    const plan = planUninstall({
      edgeNodes: ['edge-1'],
      releaseSecrets: secrets(),
      force: true,
      releaseName: 'kubeedge',
    });
    const outcomes = plan.objects.map((_, i): DeleteOutcome => (i === 2 ? 'absent' : 'deleted'));
    const report = uninstallReport(plan, outcomes);
    expect(report.release).toBe('kubeedge/kubeedge');
    expect(report.removedNodes).toEqual(['edge-1']);
    expect(report.alreadyGone).toEqual(['kubeedge/Job/kubeedge-pre-delete-cleanup']);
    expect(report.deleted).toHaveLength(plan.objects.length - 1);
    expect(report.releaseSecrets).toEqual(plan.releaseSecrets.names);
    expect(report.namespace).toBe('kubeedge');
  });
});

/** An in-memory cluster holding a KubeEdge release, its namespace and the uninstall record, for the cores' ports. */
function fakeCluster(options: { edgeNodes?: string[] } = {}) {
  const calls: string[] = [];
  const state = {
    secrets: secrets(),
    namespace: true,
    record: null as UninstallPlan | null,
    objects: new Set<string>(),
  };
  const ports = {
    edgeNodes: async () => options.edgeNodes ?? [],
    releaseSecrets: async () => state.secrets,
    namespaceExists: async () => state.namespace,
    readRecord: async () => state.record,
    writeRecord: async (plan: UninstallPlan) => {
      calls.push('record the plan');
      state.record = structuredClone(plan);
    },
    forgetRecord: async () => {
      calls.push('forget the plan');
      state.record = null;
    },
    deleteObject: async (ref: ObjectRef): Promise<DeleteOutcome> => {
      calls.push(`delete ${formatObjectRef(ref)}`);
      if (state.objects.has(formatObjectRef(ref))) return 'absent';
      state.objects.add(formatObjectRef(ref));
      return 'deleted';
    },
    deleteSecret: async (_namespace: string, name: string): Promise<DeleteOutcome> => {
      calls.push(`delete Secret ${name}`);
      const before = state.secrets.length;
      state.secrets = state.secrets.filter((secret) => secret.metadata?.name !== name);
      return state.secrets.length < before ? 'deleted' : 'absent';
    },
    deleteNamespace: async (name: string): Promise<DeleteOutcome> => {
      calls.push(`delete namespace ${name}`);
      const was = state.namespace;
      state.namespace = false;
      return was ? 'deleted' : 'absent';
    },
  };
  return { ports, calls, state };
}

describe('the uninstall as resumable steps', () => {
  const request = { force: false, releaseName: 'kubeedge' };

  it('records the plan before deleting anything, then deletes objects, Secrets and the namespace', async () => {
    // Prepare
    const { ports, calls, state } = fakeCluster();
    const { plan } = await planOrResumeUninstall(ports, request);
    if (!plan) throw new Error('expected a plan');

    // Act
    const report = await deleteRelease(ports, plan, []);

    // Assess
    expect(calls[0]).toBe('record the plan');
    expect(calls.indexOf('delete Secret sh.helm.release.v1.kubeedge.v1')).toBeGreaterThan(0);
    expect(calls.at(-1)).toBe('delete namespace kubeedge');
    expect(state.record).toEqual(plan);
    expect(report.alreadyGone).toEqual([]);
  });

  it('finishes an uninstall that crashed between the Secrets and the namespace, instead of HelmReleaseNotFoundError', async () => {
    // Prepare: the first run recorded the plan and deleted objects and Secrets, then died
    const { ports, state } = fakeCluster();
    const first = await planOrResumeUninstall(ports, request);
    if (!first.plan) throw new Error('expected a plan');
    await ports.writeRecord(first.plan);
    for (const ref of first.plan.objects) await ports.deleteObject(ref);
    for (const name of first.plan.releaseSecrets.names) await ports.deleteSecret('kubeedge', name);
    expect(state.namespace).toBe(true);

    // Act
    const rerun = await planOrResumeUninstall(ports, request);
    if (!rerun.plan) throw new Error('expected the recorded plan');
    const report = await deleteRelease(ports, rerun.plan, []);
    const check = await checkNamespaceGone(ports, {
      namespace: 'kubeedge',
      startedAt: null,
      attempt: 0,
      timeoutSeconds: 300,
      now: new Date(),
    });

    // Assess
    expect(rerun).toMatchObject({ installed: true, resumed: true });
    expect(rerun.plan.objects).toEqual(first.plan.objects);
    expect(report.deleted).toEqual([]);
    expect(report.alreadyGone).toHaveLength(first.plan.objects.length);
    expect(state.namespace).toBe(false);
    expect(check).toMatchObject({ gone: true, waitSeconds: 0 });
    expect(state.record).toBeNull();
    // and a third run finds nothing to uninstall
    expect(await planOrResumeUninstall(ports, request)).toEqual({ installed: false, plan: null });
  });

  it('without a record, a namespace without release Secrets still names the missing release', async () => {
    // Prepare
    const { ports, state } = fakeCluster();
    state.secrets = [];

    // Act & Assess
    await expect(planOrResumeUninstall(ports, request)).rejects.toThrow(HelmReleaseNotFoundError);
  });

  it('ignores a record of another release, and still refuses edge nodes when resuming without force', async () => {
    // Prepare
    const { ports, state } = fakeCluster({ edgeNodes: ['edge-1'] });
    const plan = planUninstall({ edgeNodes: [], releaseSecrets: secrets(), force: false, releaseName: 'kubeedge' });
    state.record = { ...plan, release: { ...plan.release, name: 'cloudcore' } };

    // Act & Assess
    await expect(planOrResumeUninstall(ports, request)).rejects.toThrow(EdgeNodesExistError);
    state.record = plan;
    await expect(planOrResumeUninstall(ports, request)).rejects.toThrow(EdgeNodesExistError);
    expect(await planOrResumeUninstall(ports, { ...request, force: true })).toMatchObject({
      resumed: true,
      plan: { nodesToRemoveFirst: ['edge-1'] },
    });
  });

  it('waits for a terminating namespace with backoff, keeping the record, and fails past the deadline', async () => {
    // Prepare
    const { ports, calls } = fakeCluster();
    const startedAt = '2026-01-01T00:00:00.000Z';
    const at = (seconds: number) => new Date(Date.parse(startedAt) + seconds * 1000);

    // Act
    const waiting = await checkNamespaceGone(ports, {
      namespace: 'kubeedge',
      startedAt,
      attempt: 1,
      timeoutSeconds: 300,
      now: at(10),
    });
    const stuck = checkNamespaceGone(ports, {
      namespace: 'kubeedge',
      startedAt,
      attempt: 9,
      timeoutSeconds: 300,
      now: at(301),
    });

    // Assess
    expect(waiting).toEqual({ gone: false, waitSeconds: 4, startedAt, attempt: 2 });
    await expect(stuck).rejects.toThrow(
      new NamespaceStuckError('namespace kubeedge is still terminating after 300 s; check its finalizers'),
    );
    expect(calls).not.toContain('forget the plan');
  });
});

describe('parseRecord', () => {
  it('reads back a recorded plan and refuses anything else, naming the record', () => {
    const plan = planUninstall({ edgeNodes: [], releaseSecrets: secrets(), force: false, releaseName: 'kubeedge' });
    expect(parseRecord(JSON.stringify(plan))).toEqual(plan);
    expect(() => parseRecord('{')).toThrow(UninstallRecordCorruptError);
    expect(() => parseRecord('{"objects":3}')).toThrow(/^edgekeeper-uninstall-plan holds no uninstall plan: /);
  });
});
