import { gunzipSync } from 'node:zlib';
import { loadAll } from 'js-yaml';
import { EdgekeeperError } from './errors';

/**
 * Reads Helm 3 releases straight from their storage Secrets, so uninstalling KubeEdge needs no helm binary.
 *
 * Helm 3 keeps revision N of release R in Secret `sh.helm.release.v1.R.vN` (type `helm.sh/release.v1`, labels
 * `owner=helm`, `name`, `status`, `version`). `data.release` is the release JSON, gzipped, base64-encoded by Helm,
 * and base64-encoded again by Kubernetes because it sits in `data`.
 */

/** The Secret type Helm 3 stores releases under. */
export const HELM_RELEASE_SECRET_TYPE = 'helm.sh/release.v1';

/** The release has no storage Secret in the namespace. */
export class HelmReleaseNotFoundError extends EdgekeeperError {
  override readonly name = 'HelmReleaseNotFoundError';
  constructor(
    readonly release: string,
    readonly namespace: string | undefined,
    /** Releases that do exist there: a hint when the name is wrong (`cloudcore` on KubeSphere 3.3). */
    readonly otherReleases: readonly string[] = [],
  ) {
    super(
      `helm release ${release} not found: no secret sh.helm.release.v1.${release}.v<N> of type ` +
        `${HELM_RELEASE_SECRET_TYPE}${namespace ? ` in namespace ${namespace}` : ''}` +
        (otherReleases.length > 0 ? `; releases found: ${otherReleases.join(', ')}` : ''),
    );
  }
}

/** A release Secret (or its manifest) that cannot be decoded; names the secret and what went wrong. */
export class HelmReleaseCorruptError extends EdgekeeperError {
  override readonly name = 'HelmReleaseCorruptError';
  constructor(
    readonly secretName: string,
    readonly reason: string,
  ) {
    super(`helm release secret ${secretName} is corrupt: ${reason}`);
  }
}

/** A hook of the release (a Job, say); Helm lists hooks apart from the manifest. */
export interface HelmHook {
  readonly name: string;
  readonly kind: string;
  readonly path?: string;
  readonly manifest: string;
  readonly events?: readonly string[];
}

/** The parts of Helm's `release.Release` JSON this project reads. */
export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly version: number;
  readonly info: { readonly status: string };
  readonly manifest: string;
  readonly hooks?: readonly HelmHook[];
  readonly chart?: { readonly metadata?: { readonly name?: string; readonly version?: string } };
}

/** A Kubernetes object to delete; `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** The slice of a `V1Secret` these functions read (what `listNamespacedSecret` returns). */
export interface SecretLike {
  readonly type?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly data?: Record<string, string>;
}

/** The chosen revision: its Secret and the decoded release. */
export interface ReleaseRevision {
  readonly secretName: string;
  readonly version: number;
  readonly status: string;
  readonly release: HelmRelease;
}

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/**
 * Decodes `secret.data.release` as served by the Kubernetes API: base64 (Kubernetes) → base64 (Helm) → gunzip →
 * JSON. Like Helm, accepts an ungzipped payload (Helm checks the gzip magic bytes rather than assuming).
 * @param secretName only for error messages
 * @throws HelmReleaseCorruptError naming the secret and the stage that failed
 */
export function decodeHelmRelease(secretDataRelease: string, secretName = 'release'): HelmRelease {
  const helmBase64 = strictBase64(secretDataRelease, secretName, 'data.release is not base64').toString('latin1');
  const payload = strictBase64(helmBase64, secretName, 'the helm payload inside data.release is not base64');
  let json: string;
  try {
    json = isGzip(payload) ? gunzipSync(payload).toString('utf8') : payload.toString('utf8');
  } catch (error) {
    throw new HelmReleaseCorruptError(secretName, `gunzip failed: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new HelmReleaseCorruptError(secretName, `release is not JSON: ${(error as Error).message}`);
  }
  return asRelease(parsed, secretName);
}

/**
 * Picks the revision that describes what is installed: the highest `deployed` revision, else the highest revision
 * of any status (a release whose only install failed still created objects). Only that Secret is decoded, so an
 * old corrupt revision does not block an uninstall.
 * @throws HelmReleaseNotFoundError when no Secret belongs to the release
 */
export function latestRelease(secrets: readonly SecretLike[], releaseName: string): ReleaseRevision {
  const revisions = releaseSecrets(secrets, releaseName).sort((a, b) => b.version - a.version);
  const chosen = revisions.find((r) => r.status === 'deployed') ?? revisions[0];
  if (!chosen) throw new HelmReleaseNotFoundError(releaseName, secrets[0]?.metadata?.namespace, releaseNames(secrets));
  const data = chosen.secret.data?.release;
  if (!data) throw new HelmReleaseCorruptError(chosen.name, 'data.release is missing');
  const release = decodeHelmRelease(data, chosen.name);
  return { secretName: chosen.name, version: chosen.version, status: release.info.status, release };
}

/** Names of every storage Secret of the release (all revisions), oldest first: all of them go on uninstall. */
export function releaseSecretNames(secrets: readonly SecretLike[], releaseName: string): string[] {
  return releaseSecrets(secrets, releaseName)
    .sort((a, b) => a.version - b.version)
    .map((r) => r.name);
}

/** The distinct release names among Helm storage Secrets, sorted. */
export function releaseNames(secrets: readonly SecretLike[]): string[] {
  const names = new Set<string>();
  for (const secret of secrets) {
    const match = /^sh\.helm\.release\.v1\.(.+)\.v[1-9][0-9]*$/.exec(secret.metadata?.name ?? '');
    if (secret.type === HELM_RELEASE_SECRET_TYPE && match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}

interface StoredRevision {
  readonly name: string;
  readonly version: number;
  readonly status: string | undefined;
  readonly secret: SecretLike;
}

/** The Secret name is the key Helm looks up by, so it decides membership; labels only add status. */
function releaseSecrets(secrets: readonly SecretLike[], releaseName: string): StoredRevision[] {
  const prefix = `sh.helm.release.v1.${releaseName}.v`;
  const revisions: StoredRevision[] = [];
  for (const secret of secrets) {
    const name = secret.metadata?.name ?? '';
    if (secret.type !== HELM_RELEASE_SECRET_TYPE || !name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (!/^[1-9][0-9]*$/.test(suffix)) continue;
    revisions.push({ name, version: Number(suffix), status: secret.metadata?.labels?.status, secret });
  }
  return revisions;
}

/**
 * Kinds that live outside namespaces. Unknown kinds (custom resources) are taken as namespaced; pass the cluster's
 * discovery answer as `clusterScopedKinds` when a chart ships cluster-scoped custom resources.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'FlowSchema',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PodSecurityPolicy',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'RuntimeClass',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
]);

/** Options for {@link manifestObjects}. */
export interface ManifestObjectsOptions {
  /** @default CLUSTER_SCOPED_KINDS */
  readonly clusterScopedKinds?: ReadonlySet<string>;
  /** Also list the hooks' objects (they outlive `helm uninstall` unless a delete policy removes them). @default true */
  readonly includeHooks?: boolean;
}

/**
 * Every object the release created: the manifest's documents, then the hooks', without duplicates. `kind: List`
 * documents are expanded. Namespaced objects without a namespace get the release namespace, as `helm install -n`
 * does.
 * @throws HelmReleaseCorruptError when a document is not YAML or lacks apiVersion, kind or metadata.name
 */
export function manifestObjects(release: HelmRelease, options: ManifestObjectsOptions = {}): ObjectRef[] {
  const clusterScoped = options.clusterScopedKinds ?? CLUSTER_SCOPED_KINDS;
  const where = `${release.name}.v${release.version}`;
  const manifests = [
    release.manifest,
    ...(options.includeHooks === false ? [] : (release.hooks ?? []).map((h) => h.manifest)),
  ];
  const seen = new Set<string>();
  const refs: ObjectRef[] = [];
  for (const manifest of manifests) {
    for (const doc of parseDocuments(manifest, where)) {
      const ref = toObjectRef(doc, release.namespace, clusterScoped, where);
      const key = `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      refs.push(ref);
    }
  }
  return refs;
}

/**
 * Orders objects for deletion, after Helm's own uninstall order with three changes, each for a reason:
 * 1. Admission webhooks and APIServices go first: they point at Services about to disappear, and a dangling one
 *    makes later API calls fail (webhook `failurePolicy: Fail`) or discovery partial (APIService).
 * 2. Workloads go before RBAC, so pods shut down with their permissions intact and no controller loops on
 *    "forbidden" while it is being removed; custom resources (unknown kinds) follow the workloads.
 * 3. CustomResourceDefinitions go last: deleting a CRD cascades to all its custom resources, so the explicit
 *    deletes of those resources must come first (and would otherwise answer 404).
 * Inside a group kinds keep Helm's order; ties are broken by kind, namespace and name, so plans are reproducible.
 */
export function deletionOrder(objects: readonly ObjectRef[]): ObjectRef[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      compare(a.kind, b.kind) ||
      compare(a.namespace ?? '', b.namespace ?? '') ||
      compare(a.name, b.name),
  );
}

const KIND_ORDER: readonly (readonly string[])[] = [
  [
    'APIService',
    'MutatingWebhookConfiguration',
    'ValidatingWebhookConfiguration',
    'ValidatingAdmissionPolicyBinding',
    'ValidatingAdmissionPolicy',
  ],
  ['Ingress', 'IngressClass', 'Service'],
  [
    'CronJob',
    'Job',
    'StatefulSet',
    'HorizontalPodAutoscaler',
    'Deployment',
    'ReplicaSet',
    'ReplicationController',
    'Pod',
    'DaemonSet',
  ],
  [], // custom resources: every kind not listed here
  ['RoleBinding', 'Role', 'ClusterRoleBinding', 'ClusterRole'],
  [
    'PersistentVolumeClaim',
    'PersistentVolume',
    'StorageClass',
    'ConfigMap',
    'Secret',
    'ServiceAccount',
    'PodDisruptionBudget',
    'PodSecurityPolicy',
    'LimitRange',
    'ResourceQuota',
    'NetworkPolicy',
  ],
  ['Namespace', 'PriorityClass'],
  ['CustomResourceDefinition'],
];
const CUSTOM_RESOURCE_RANK = 3;
const KIND_RANK_STRIDE = 100;

/** Group first, then Helm's order inside the group; custom kinds share one rank and fall back to their names. */
function kindRank(kind: string): number {
  const group = KIND_ORDER.findIndex((kinds) => kinds.includes(kind));
  if (group === -1) return CUSTOM_RESOURCE_RANK * KIND_RANK_STRIDE;
  return group * KIND_RANK_STRIDE + (KIND_ORDER[group]?.indexOf(kind) ?? 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseDocuments(manifest: string, where: string): Record<string, unknown>[] {
  let docs: unknown[];
  try {
    docs = loadAll(manifest);
  } catch (error) {
    throw new HelmReleaseCorruptError(where, `manifest is not YAML: ${(error as Error).message}`);
  }
  const objects: Record<string, unknown>[] = [];
  for (const doc of docs) {
    // Helm writes a `# Source:` comment per template; empty templates leave null documents.
    if (doc === null || doc === undefined) continue;
    if (!isRecord(doc)) throw new HelmReleaseCorruptError(where, 'manifest has a document that is not an object');
    if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
      objects.push(...doc.items.filter(isRecord));
    } else {
      objects.push(doc);
    }
  }
  return objects;
}

function toObjectRef(
  doc: Record<string, unknown>,
  releaseNamespace: string,
  clusterScoped: ReadonlySet<string>,
  where: string,
): ObjectRef {
  const metadata = isRecord(doc.metadata) ? doc.metadata : {};
  const { apiVersion, kind } = doc;
  const { name, namespace } = metadata;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || name === '') {
    throw new HelmReleaseCorruptError(
      where,
      `manifest object lacks apiVersion, kind or metadata.name: ${JSON.stringify({ apiVersion, kind, name })}`,
    );
  }
  if (clusterScoped.has(kind)) return { apiVersion, kind, name };
  return {
    apiVersion,
    kind,
    name,
    namespace: typeof namespace === 'string' && namespace ? namespace : releaseNamespace,
  };
}

function asRelease(value: unknown, secretName: string): HelmRelease {
  if (!isRecord(value)) throw new HelmReleaseCorruptError(secretName, 'release JSON is not an object');
  const { name, namespace, version, info, manifest, hooks } = value;
  if (typeof name !== 'string' || typeof namespace !== 'string' || typeof version !== 'number') {
    throw new HelmReleaseCorruptError(secretName, 'release JSON lacks name, namespace or version');
  }
  if (!isRecord(info) || typeof info.status !== 'string') {
    throw new HelmReleaseCorruptError(secretName, 'release JSON lacks info.status');
  }
  // Helm omits `manifest` (omitempty) for a chart that renders nothing; that is valid, not corrupt.
  if (manifest !== undefined && typeof manifest !== 'string') {
    throw new HelmReleaseCorruptError(secretName, 'release manifest is not a string');
  }
  if (hooks !== undefined && hooks !== null && !Array.isArray(hooks)) {
    throw new HelmReleaseCorruptError(secretName, 'release hooks is not a list');
  }
  return { ...(value as unknown as HelmRelease), manifest: manifest ?? '', hooks: (hooks as HelmHook[] | null) ?? [] };
}

/** Kubernetes and Helm both use standard base64; reject anything else rather than decode garbage silently. */
function strictBase64(text: string, secretName: string, reason: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new HelmReleaseCorruptError(secretName, reason);
  }
  return Buffer.from(compact, 'base64');
}

function isGzip(payload: Buffer): boolean {
  return GZIP_MAGIC.every((byte, i) => payload[i] === byte);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
