import { gzipSync } from 'node:zlib';
import {
  decodeHelmRelease,
  deletionOrder,
  type HelmRelease,
  HelmReleaseCorruptError,
  HelmReleaseNotFoundError,
  latestRelease,
  manifestObjects,
  type ObjectRef,
  releaseNames,
  releaseSecretNames,
  type SecretLike,
} from '../../../functions/shared/helm-release';
import { fixtureReleases, kubeedgeRelease, releaseSecret } from '../../fixtures/helm/generate';

const secrets = (): SecretLike[] => fixtureReleases().map((r) => releaseSecret(r) as SecretLike);
const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64');

function kind(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

describe('decodeHelmRelease', () => {
  it('decodes a Secret value twice, gunzips and parses it', () => {
    const secret = secrets()[1];
    const release = decodeHelmRelease(secret?.data?.release ?? '', 'sh.helm.release.v1.kubeedge.v2');
    expect(release.name).toBe('kubeedge');
    expect(release.version).toBe(2);
    expect(release.info.status).toBe('deployed');
    expect(release.manifest).toContain('kind: Deployment');
    expect(release.hooks?.[0]?.kind).toBe('Job');
  });

  it('accepts an ungzipped payload, as Helm does', () => {
    const json = JSON.stringify(kubeedgeRelease(1, 'deployed'));
    expect(decodeHelmRelease(b64(b64(json))).version).toBe(1);
  });

  it('fails naming the secret when the value is not base64', () => {
    expect(() => decodeHelmRelease('%%%not base64%%%', 'sh.helm.release.v1.kubeedge.v3')).toThrow(
      new HelmReleaseCorruptError('sh.helm.release.v1.kubeedge.v3', 'data.release is not base64'),
    );
  });

  it('fails when the value was base64-encoded only once (Helm payload taken for the Secret value)', () => {
    const once = gzipSync(JSON.stringify(kubeedgeRelease(1, 'deployed'))).toString('base64');
    expect(() => decodeHelmRelease(once, 's1')).toThrow(HelmReleaseCorruptError);
  });

  it('fails with the gunzip error on a truncated gzip stream', () => {
    const gz = gzipSync(JSON.stringify(kubeedgeRelease(1, 'deployed')));
    const error = catchError(() => decodeHelmRelease(b64(b64(gz.subarray(0, 40))), 'sh.helm.release.v1.kubeedge.v1'));
    expect(error).toBeInstanceOf(HelmReleaseCorruptError);
    expect(error.name).toBe('HelmReleaseCorruptError');
    expect(error.message).toMatch(/^helm release secret sh\.helm\.release\.v1\.kubeedge\.v1 is corrupt: gunzip failed/);
  });

  it('fails when the JSON is not a release', () => {
    const gz = gzipSync(JSON.stringify({ hello: 'world' }));
    expect(() => decodeHelmRelease(b64(b64(gz)), 'x')).toThrow(
      'helm release secret x is corrupt: release JSON lacks name, namespace or version',
    );
    expect(() => decodeHelmRelease(b64(b64(gzipSync('{"name":'))), 'x')).toThrow(/release is not JSON/);
  });
});

describe('latestRelease', () => {
  it('picks the highest deployed revision (v2 over superseded v1), whatever the list order', () => {
    const revision = latestRelease([...secrets()].reverse(), 'kubeedge');
    expect(revision).toMatchObject({ secretName: 'sh.helm.release.v1.kubeedge.v2', version: 2, status: 'deployed' });
  });

  it('prefers a deployed revision over a newer failed upgrade', () => {
    const failed = releaseSecret(kubeedgeRelease(3, 'failed')) as SecretLike;
    expect(latestRelease([...secrets(), failed], 'kubeedge').version).toBe(2);
  });

  it('falls back to the newest revision when none is deployed (a failed first install)', () => {
    const failed = releaseSecret(kubeedgeRelease(1, 'failed')) as SecretLike;
    expect(latestRelease([failed], 'kubeedge')).toMatchObject({ version: 1, status: 'failed' });
  });

  it('orders revisions numerically (v10 after v9)', () => {
    const nine = releaseSecret(kubeedgeRelease(9, 'deployed')) as SecretLike;
    const ten = releaseSecret(kubeedgeRelease(10, 'deployed')) as SecretLike;
    expect(latestRelease([ten, nine], 'kubeedge').version).toBe(10);
    expect(releaseSecretNames([ten, nine], 'kubeedge')).toEqual([
      'sh.helm.release.v1.kubeedge.v9',
      'sh.helm.release.v1.kubeedge.v10',
    ]);
  });

  it('does not decode old revisions, so a corrupt superseded one does not block', () => {
    const [v1, v2] = secrets();
    const corruptV1 = { ...v1, data: { release: 'garbage!' } };
    expect(latestRelease([corruptV1, v2 as SecretLike], 'kubeedge').version).toBe(2);
  });

  it('fails naming the secret when the chosen revision is corrupt', () => {
    const [, v2] = secrets();
    const corrupt = { ...v2, data: { release: b64('bm90IGd6aXA=') } };
    expect(() => latestRelease([corrupt], 'kubeedge')).toThrow(
      /^helm release secret sh\.helm\.release\.v1\.kubeedge\.v2 is corrupt: /,
    );
    expect(() => latestRelease([{ ...v2, data: {} }], 'kubeedge')).toThrow('data.release is missing');
  });

  it('fails with HelmReleaseNotFoundError listing the releases that do exist', () => {
    const error = catchError(() => latestRelease(secrets(), 'cloudcore'));
    expect(error).toBeInstanceOf(HelmReleaseNotFoundError);
    expect(error.message).toBe(
      'helm release cloudcore not found: no secret sh.helm.release.v1.cloudcore.v<N> of type helm.sh/release.v1 ' +
        'in namespace kubeedge; releases found: kubeedge',
    );
  });

  it('ignores Secrets of other types or names (an Opaque secret named like a release, another release)', () => {
    const [, v2] = secrets();
    const opaque = { ...v2, type: 'Opaque', metadata: { name: 'sh.helm.release.v1.kubeedge.v5' } };
    const other = { ...v2, metadata: { name: 'sh.helm.release.v1.kubeedge-extra.v7' } };
    expect(latestRelease([opaque, other, v2 as SecretLike], 'kubeedge').version).toBe(2);
    expect(releaseNames([opaque, other, v2 as SecretLike])).toEqual(['kubeedge', 'kubeedge-extra']);
    expect(() => latestRelease([], 'kubeedge')).toThrow(HelmReleaseNotFoundError);
  });
});

describe('manifestObjects', () => {
  const release = (manifest: string, hooks: HelmRelease['hooks'] = []): HelmRelease => ({
    name: 'kubeedge',
    namespace: 'kubeedge',
    version: 1,
    info: { status: 'deployed' },
    manifest,
    hooks,
  });

  it('lists every object of the manifest and the hooks, namespacing only namespaced kinds', () => {
    const { release: decoded } = latestRelease(secrets(), 'kubeedge');
    expect(manifestObjects(decoded).map(kind)).toEqual([
      'ServiceAccount kubeedge/cloudcore',
      'ConfigMap kubeedge/cloudcore',
      'ConfigMap kubeedge/edge-watcher-config',
      'CustomResourceDefinition devices.devices.kubeedge.io',
      'CustomResourceDefinition clusterobjectsyncs.reliablesyncs.kubeedge.io',
      'ClusterRole cloudcore',
      'ClusterRoleBinding cloudcore',
      'Service kubeedge/cloudcore',
      'Deployment kubeedge/cloudcore',
      'Deployment kubeedge/edge-watcher',
      'ValidatingWebhookConfiguration kubeedge-admission-webhook',
      'Job kubeedge/kubeedge-pre-delete-cleanup',
    ]);
    expect(manifestObjects(decoded, { includeHooks: false })).toHaveLength(11);
  });

  it('keeps an explicit namespace, skips empty documents, expands Lists and removes duplicates', () => {
    const manifest = [
      '---\n# Source: empty.yaml\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: other\n',
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: other\n',
    ].join('---\n');
    expect(manifestObjects(release(manifest))).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'other' },
      { apiVersion: 'v1', kind: 'Secret', name: 'b', namespace: 'kubeedge' },
    ]);
  });

  it('treats custom kinds as cluster-scoped when discovery says so', () => {
    const manifest = 'apiVersion: reliablesyncs.kubeedge.io/v1alpha1\nkind: ClusterObjectSync\nmetadata:\n  name: x\n';
    expect(manifestObjects(release(manifest))[0]?.namespace).toBe('kubeedge');
    expect(manifestObjects(release(manifest), { clusterScopedKinds: new Set(['ClusterObjectSync']) })[0]).toEqual({
      apiVersion: 'reliablesyncs.kubeedge.io/v1alpha1',
      kind: 'ClusterObjectSync',
      name: 'x',
    });
  });

  it('fails on a document without a name, and on YAML that does not parse', () => {
    expect(() => manifestObjects(release('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n'))).toThrow(
      'helm release secret kubeedge.v1 is corrupt: manifest object lacks apiVersion, kind or metadata.name',
    );
    expect(() => manifestObjects(release('a: [\n'))).toThrow(/manifest is not YAML/);
  });

  it('returns nothing for a release whose chart rendered nothing', () => {
    expect(manifestObjects(release(''))).toEqual([]);
  });
});

describe('deletionOrder', () => {
  it('deletes webhooks first, workloads before RBAC, custom resources before CRDs, CRDs last', () => {
    const { release: decoded } = latestRelease(secrets(), 'kubeedge');
    const refs: ObjectRef[] = [
      ...manifestObjects(decoded),
      { apiVersion: 'devices.kubeedge.io/v1alpha2', kind: 'Device', name: 'sensor', namespace: 'kubeedge' },
      { apiVersion: 'v1', kind: 'Namespace', name: 'kubeedge' },
    ];
    expect(deletionOrder(refs).map(kind)).toEqual([
      'ValidatingWebhookConfiguration kubeedge-admission-webhook',
      'Service kubeedge/cloudcore',
      'Job kubeedge/kubeedge-pre-delete-cleanup',
      'Deployment kubeedge/cloudcore',
      'Deployment kubeedge/edge-watcher',
      'Device kubeedge/sensor',
      'ClusterRoleBinding cloudcore',
      'ClusterRole cloudcore',
      'ConfigMap kubeedge/cloudcore',
      'ConfigMap kubeedge/edge-watcher-config',
      'ServiceAccount kubeedge/cloudcore',
      'Namespace kubeedge',
      'CustomResourceDefinition clusterobjectsyncs.reliablesyncs.kubeedge.io',
      'CustomResourceDefinition devices.devices.kubeedge.io',
    ]);
  });

  it('does not change its input', () => {
    const refs: ObjectRef[] = [
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'a' },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'b', namespace: 'n' },
    ];
    const copy = [...refs];
    deletionOrder(refs);
    expect(refs).toEqual(copy);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
