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
 * does, planned from the release Secrets without a helm binary (KUBEEDGE.md §7).
 */

/** The namespace KubeSphere installs KubeEdge into; deleted last, with everything left in it. */
export const KUBEEDGE_NAMESPACE = 'kubeedge';

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
