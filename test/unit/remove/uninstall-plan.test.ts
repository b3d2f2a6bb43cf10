import type { SecretLike } from '../../../functions/shared/helm-release';
import { HelmReleaseNotFoundError } from '../../../functions/shared/helm-release';
import {
  type DeleteOutcome,
  EdgeNodesExistError,
  formatObjectRef,
  planUninstall,
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
