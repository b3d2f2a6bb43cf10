import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import yaml from 'js-yaml';
import { R, resourceForKind } from './resources';
import type { Store } from './store';
import { isJsonObject, type KubeObject } from './types';
import { validate } from './validation';

/** Fixture-only document kind: a Helm 3 release kept readable, encoded into its release Secret at seed time. */
export const HELM_RELEASE_KIND = 'SandboxHelmRelease';

/** A {@link HELM_RELEASE_KIND} document as written in the fixture. */
interface HelmReleaseDocument {
  kind: typeof HELM_RELEASE_KIND;
  metadata: { name: string; namespace: string };
  revision?: number;
  status?: string;
  chart: { name: string; version: string; appVersion?: string; description?: string };
  manifest: string;
}

/**
 * Loads the fixture into the store: namespaces first, then every other object, then each Helm release (its
 * manifest's objects plus the `sh.helm.release.v1.<name>.v<N>` Secret), then cloudcore's token Secret, which is
 * generated fresh on every start because a real one is a live credential. A malformed fixture fails loudly.
 */
export function seed(store: Store, fixturePath: string): void {
  const documents = yaml.loadAll(readFileSync(fixturePath, 'utf8')).filter(isJsonObject) as unknown as KubeObject[];
  const releases = documents.filter((d) => d.kind === HELM_RELEASE_KIND) as unknown as HelmReleaseDocument[];
  const objects = documents.filter((d) => d.kind !== HELM_RELEASE_KIND);
  objects.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
  for (const object of objects) put(store, object);
  for (const release of releases) seedHelmRelease(store, release);
  if (store.find(R.namespaces, undefined, 'kubeedge')) {
    put(store, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tokensecret', namespace: 'kubeedge' },
      type: 'Opaque',
      data: { tokendata: Buffer.from(makeCloudcoreToken()).toString('base64') },
    });
  }
}

/**
 * Adds objects to a running cluster's store as the fixture's are added (validated, server fields filled), without
 * going through the API: thousands of objects at once for scale benches, where the controllers, which run after
 * every API write, would otherwise run thousands of times.
 */
export function seedObjects(store: Store, objects: readonly KubeObject[]): void {
  for (const object of objects) put(store, object);
}

function put(store: Store, object: KubeObject, defaultNamespace?: string): void {
  const type = resourceForKind(object.apiVersion, object.kind);
  if (!type) throw new Error(`fixture: unsupported kind ${object.apiVersion}/${object.kind}`);
  const copy = structuredClone(object);
  if (type.namespaced) copy.metadata.namespace ??= defaultNamespace ?? 'default';
  const causes = validate(type, copy);
  if (causes.length > 0) {
    throw new Error(
      `fixture: invalid ${object.kind} ${copy.metadata.name}: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    );
  }
  if (type === R.namespaces) {
    copy.spec ??= { finalizers: ['kubernetes'] };
    copy.status ??= { phase: 'Active' };
  }
  store.create(type, copy);
}

function seedHelmRelease(store: Store, release: HelmReleaseDocument): void {
  const { name, namespace } = release.metadata;
  const revision = release.revision ?? 1;
  const status = release.status ?? 'deployed';
  const manifestObjects = yaml.loadAll(release.manifest).filter(isJsonObject) as unknown as KubeObject[];
  for (const object of manifestObjects) put(store, object, namespace);
  const deployed = new Date().toISOString();
  // The shape Helm 3 serialises (pkg/release.Release); fields Helm leaves empty are kept so decoders see them.
  const releaseJson = {
    name,
    info: { first_deployed: deployed, last_deployed: deployed, deleted: '', description: 'Install complete', status },
    chart: {
      metadata: { apiVersion: 'v2', type: 'application', ...release.chart },
      lock: null,
      templates: [],
      values: {},
      schema: null,
      files: [],
    },
    config: {},
    manifest: release.manifest,
    hooks: [],
    version: revision,
    namespace,
  };
  put(store, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `sh.helm.release.v1.${name}.v${revision}`,
      namespace,
      labels: { name, owner: 'helm', status, version: String(revision) },
    },
    type: 'helm.sh/release.v1',
    data: { release: encodeHelmRelease(releaseJson) },
  });
}

/**
 * `data.release` as stored in the Secret: Helm base64-encodes the gzipped JSON itself, and the Secret's `data`
 * encodes those bytes again, so a reader decodes twice, gunzips and parses.
 */
export function encodeHelmRelease(release: unknown): string {
  const helmEncoded = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return Buffer.from(helmEncoded).toString('base64');
}

/**
 * A token shaped like cloudcore's `tokendata`: `<sha256 of the CA, hex>.<JWT>` with an HS256 JWT expiring in 24 h.
 * Random on every start, so nothing can come to depend on a particular value.
 */
export function makeCloudcoreToken(now = Date.now()): string {
  const caHash = createHash('sha256').update(randomBytes(64)).digest('hex');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(now / 1000) + 24 * 3600 })).toString('base64url');
  const signature = createHmac('sha256', randomBytes(32)).update(`${header}.${payload}`).digest('base64url');
  return `${caHash}.${header}.${payload}.${signature}`;
}
