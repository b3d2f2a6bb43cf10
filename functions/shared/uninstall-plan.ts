import { nextPollDelay } from './backoff';
import { KUBEEDGE_NAMESPACE } from './domain';
import { EdgekeeperError } from './errors';
import {
  deletionOrder,
  latestRelease,
  type ManifestObjectsOptions,
  manifestObjects,
  type ObjectRef,
  releaseSecretNames,
  type SecretLike,
} from './helm-release';

/**
 * Pure core of "Uninstall KubeEdge": what `helm uninstall kubeedge -n kubeedge && kubectl delete ns kubeedge`
 * does, planned from the release Secrets without a helm binary.
 */

/** Edge nodes still exist and `force` was not given: uninstalling would strand them. */
export class EdgeNodesExistError extends EdgekeeperError {
  override readonly name = 'EdgeNodesExistError';
  constructor(readonly nodeNames: readonly string[]) {
    super(
      `${nodeNames.length} edge ${nodeNames.length === 1 ? 'node exists' : 'nodes exist'}: ${nodeNames.join(', ')}; ` +
        'remove them first or pass force to remove them as part of the uninstall',
    );
  }
}

/** Input of {@link planUninstall}. */
export interface UninstallInput {
  /** Names of the nodes labelled `node-role.kubernetes.io/edge`. */
  readonly edgeNodes: readonly string[];
  /** Secrets of type `helm.sh/release.v1` in the release namespace (any release: others are ignored). */
  readonly releaseSecrets: readonly SecretLike[];
  readonly force: boolean;
  /** `kubeedge` on KubeSphere ≤ 3.2, `cloudcore` on 3.3. */
  readonly releaseName: string;
  /** Passed on to manifestObjects, e.g. cluster-scoped custom kinds from discovery. */
  readonly manifest?: ManifestObjectsOptions;
}

/** Everything the uninstall deletes, in order. */
export interface UninstallPlan {
  /** With `force`: edge nodes to remove (remove-node, mode remove, force) before anything else. */
  readonly nodesToRemoveFirst: readonly string[];
  readonly release: {
    readonly name: string;
    readonly namespace: string;
    readonly revision: number;
    readonly status: string;
    readonly chart?: string;
  };
  /** Objects of the release's manifest and hooks, in deletion order (see deletionOrder). */
  readonly objects: readonly ObjectRef[];
  /** Every revision's storage Secret: without them `helm list` would still show the release. */
  readonly releaseSecrets: { readonly namespace: string; readonly names: readonly string[] };
  /** Deleted last; the workflow waits until it is gone. */
  readonly namespace: string;
}

/**
 * Plans the uninstall.
 * @throws EdgeNodesExistError when edge nodes exist and `force` is false
 * @throws HelmReleaseNotFoundError when no Secret of the release exists (the message lists the releases found)
 * @throws HelmReleaseCorruptError when the release Secret cannot be decoded
 */
export function planUninstall(input: UninstallInput): UninstallPlan {
  const edgeNodes = [...input.edgeNodes].sort();
  if (edgeNodes.length > 0 && !input.force) throw new EdgeNodesExistError(edgeNodes);
  const revision = latestRelease(input.releaseSecrets, input.releaseName);
  const { release } = revision;
  // The namespace is deleted on its own, last, with a wait; deleting it midway would race the ordered deletes.
  const objects = deletionOrder(manifestObjects(release, input.manifest)).filter(
    (ref) => !(ref.kind === 'Namespace' && ref.name === KUBEEDGE_NAMESPACE),
  );
  const chart = release.chart?.metadata;
  return {
    nodesToRemoveFirst: edgeNodes,
    release: {
      name: release.name,
      namespace: release.namespace,
      revision: revision.version,
      status: revision.status,
      ...(chart?.name ? { chart: `${chart.name}-${chart.version ?? '?'}` } : {}),
    },
    objects,
    releaseSecrets: {
      namespace: release.namespace,
      names: releaseSecretNames(input.releaseSecrets, input.releaseName),
    },
    namespace: KUBEEDGE_NAMESPACE,
  };
}

/** `ClusterRole/cloudcore`, `kubeedge/Deployment/cloudcore`: how objects appear in reports. */
export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.kind}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

/** What a delete call found: the object was there and is deleted, or was already gone (404). */
export type DeleteOutcome = 'deleted' | 'absent';

/** The uninstall's result: what was deleted and what was already gone. */
export interface UninstallReport {
  readonly release: string;
  readonly removedNodes: readonly string[];
  readonly deleted: readonly string[];
  readonly alreadyGone: readonly string[];
  readonly releaseSecrets: readonly string[];
  readonly namespace: string;
}

/**
 * Builds the report from the plan and the outcome of each object delete, in plan order.
 * @param outcomes one per `plan.objects` entry, same order
 */
export function uninstallReport(
  plan: UninstallPlan,
  outcomes: readonly DeleteOutcome[],
  removedNodes: readonly string[] = plan.nodesToRemoveFirst,
): UninstallReport {
  const deleted: string[] = [];
  const alreadyGone: string[] = [];
  plan.objects.forEach((ref, i) => {
    (outcomes[i] === 'deleted' ? deleted : alreadyGone).push(formatObjectRef(ref));
  });
  return {
    release: `${plan.release.namespace}/${plan.release.name}`,
    removedNodes,
    deleted,
    alreadyGone,
    releaseSecrets: plan.releaseSecrets.names,
    namespace: plan.namespace,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The uninstall as three resumable steps. Before anything is deleted, the plan is recorded in the cluster (the
// uninstall record): once the release Secrets are gone the plan could no longer be read from them, and a rerun
// after a crash there must finish the job, not fail with HelmReleaseNotFoundError. The record goes when the
// namespace is gone, so a completed uninstall leaves nothing behind.
// ---------------------------------------------------------------------------------------------------------------

/** Where the plan of an uninstall in progress is kept between its steps and across reruns. */
export interface UninstallRecordPort {
  readRecord(): Promise<UninstallPlan | null>;
  writeRecord(plan: UninstallPlan): Promise<void>;
  forgetRecord(): Promise<void>;
}

/** What planning reads from the cluster. */
export interface UninstallPlanPorts extends Pick<UninstallRecordPort, 'readRecord'> {
  /** names of the nodes labelled as edge nodes */
  edgeNodes(): Promise<string[]>;
  /** Helm's storage Secrets in the KubeEdge namespace */
  releaseSecrets(): Promise<SecretLike[]>;
  namespaceExists(): Promise<boolean>;
}

export type PlanOutcome =
  | { readonly installed: false; readonly plan: null }
  /** `resumed`: the plan is the one an interrupted uninstall recorded */
  | { readonly installed: true; readonly plan: UninstallPlan; readonly resumed?: boolean };

/**
 * Plans the uninstall, resuming one in progress: a recorded plan for the same release is taken as it is (its
 * Secrets may be deleted already), with the edge nodes read again. Nothing recorded, no namespace and no Secrets
 * means KubeEdge is not installed, which makes a rerun after a finished uninstall harmless.
 * @throws EdgeNodesExistError, HelmReleaseNotFoundError, HelmReleaseCorruptError (see planUninstall)
 */
export async function planOrResumeUninstall(
  ports: UninstallPlanPorts,
  request: { readonly force: boolean; readonly releaseName: string },
): Promise<PlanOutcome> {
  const [edgeNodes, record, secrets, namespacePresent] = await Promise.all([
    ports.edgeNodes(),
    ports.readRecord(),
    ports.releaseSecrets(),
    ports.namespaceExists(),
  ]);
  if (record && record.release.name === request.releaseName) {
    const sorted = [...edgeNodes].sort();
    if (sorted.length > 0 && !request.force) throw new EdgeNodesExistError(sorted);
    return { installed: true, plan: { ...record, nodesToRemoveFirst: sorted }, resumed: true };
  }
  if (!namespacePresent && secrets.length === 0) return { installed: false, plan: null };
  const plan = planUninstall({
    edgeNodes,
    releaseSecrets: secrets,
    force: request.force,
    releaseName: request.releaseName,
  });
  return { installed: true, plan };
}

/** The deletes the uninstall makes; each answers whether the object was there. */
export interface UninstallDeletePorts extends Pick<UninstallRecordPort, 'writeRecord'> {
  deleteObject(ref: ObjectRef): Promise<DeleteOutcome>;
  deleteSecret(namespace: string, name: string): Promise<DeleteOutcome>;
  deleteNamespace(name: string): Promise<DeleteOutcome>;
}

/**
 * Records the plan, then deletes every object of the release in order, its storage Secrets, then the namespace.
 * Objects already gone count as such, so a rerun finishes what a failed run began.
 */
export async function deleteRelease(
  ports: UninstallDeletePorts,
  plan: UninstallPlan,
  removedNodes: readonly string[],
): Promise<UninstallReport> {
  await ports.writeRecord(plan);
  const outcomes: DeleteOutcome[] = [];
  for (const ref of plan.objects) outcomes.push(await ports.deleteObject(ref));
  for (const name of plan.releaseSecrets.names) await ports.deleteSecret(plan.releaseSecrets.namespace, name);
  await ports.deleteNamespace(plan.namespace);
  return uninstallReport(plan, outcomes, removedNodes);
}

/** The namespace is still terminating after the deadline: a finalizer or an unreachable API service holds it. */
export class NamespaceStuckError extends EdgekeeperError {
  override readonly name = 'NamespaceStuckError';
}

/** What waiting for the namespace reads and, once it is gone, cleans. */
export interface NamespaceWaitPorts extends Pick<UninstallRecordPort, 'forgetRecord'> {
  namespaceExists(name: string): Promise<boolean>;
}

/**
 * One check of a deleted namespace: gone (the uninstall record is then forgotten), or wait with the polling
 * backoff until the deadline.
 * @throws NamespaceStuckError naming the namespace once `timeoutSeconds` have passed since `startedAt`
 */
export async function checkNamespaceGone(
  ports: NamespaceWaitPorts,
  input: {
    readonly namespace: string;
    readonly startedAt: string | null;
    readonly attempt: number;
    readonly timeoutSeconds: number;
    readonly now: Date;
  },
): Promise<{ gone: boolean; waitSeconds: number; startedAt: string; attempt: number }> {
  const since = input.startedAt ?? input.now.toISOString();
  const next = { startedAt: since, attempt: input.attempt + 1 };
  if (!(await ports.namespaceExists(input.namespace))) {
    await ports.forgetRecord();
    return { ...next, gone: true, waitSeconds: 0 };
  }
  if (input.now.getTime() - Date.parse(since) > input.timeoutSeconds * 1000) {
    throw new NamespaceStuckError(
      `namespace ${input.namespace} is still terminating after ${input.timeoutSeconds} s; check its finalizers`,
    );
  }
  return { ...next, gone: false, waitSeconds: nextPollDelay(input.attempt) };
}
