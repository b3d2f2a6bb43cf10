import { EDGE_ALLOWED_ANNOTATION, EDGE_ROLE_LABEL, KUBEEDGE_NAMESPACE } from './domain';
import { EdgekeeperError } from './errors';
import { isConflict, isNotFound, jsonPatch, type KubeClients, statusOf, translateKubeError } from './k8s';

/*
 * The DaemonSet fence: the rule that keeps cloud DaemonSets off edge nodes, and the patch that applies it. Onboarding
 * applies it (keep-daemonsets-off-edge), the drift check looks for DaemonSets that break it (drift-check-cluster)
 * and its remediation applies it again (drift-remediate): one rule, so the three never disagree.
 */

/** A DaemonSet kept changing under every attempt to patch it. */
export class DaemonSetPatchError extends EdgekeeperError {
  override readonly name = 'DaemonSetPatchError';
}

/** A node selector requirement, as in `V1NodeSelectorRequirement`. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** A node selector term, as in `V1NodeSelectorTerm`; terms are ORed, expressions inside one are ANDed. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** The parts of `V1Affinity` this step reads; everything else is carried through untouched. */
export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    [other: string]: unknown;
  };
  [other: string]: unknown;
}

/** A `V1DaemonSet`-shaped plain object (only the fields used here are typed). */
export interface DaemonSet {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec: {
    template: {
      spec?: {
        affinity?: Affinity;
        nodeSelector?: Record<string, string>;
        [other: string]: unknown;
      };
    };
  };
}

/** Deployment settings: `namespace/name` of DaemonSets that may run on edge nodes. */
export interface KeepOffEdgeConfig {
  readonly allowlist: readonly string[];
}

/** Why a DaemonSet is left alone. */
export type SkipReason =
  | 'already excludes edge nodes'
  | 'meant for edge nodes'
  | 'KubeEdge component (namespace kubeedge)'
  | `annotated ${typeof EDGE_ALLOWED_ANNOTATION}=true`
  | 'allowlisted'
  | 'deleted while being patched';

/** One RFC 6902 operation as sent with `application/json-patch+json`. */
export type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown };

/** What to do with one DaemonSet. */
export type DaemonSetDecision =
  | { action: 'patch'; namespace: string; name: string; affinity: Affinity; patch: JsonPatchOp[] }
  | { action: 'skip'; namespace: string; name: string; reason: SkipReason };

/** The step's result. */
export interface KeepOffEdgeReport {
  patched: { namespace: string; name: string }[];
  skipped: { namespace: string; name: string; reason: SkipReason }[];
}

/** The narrow Kubernetes port of the fence: DaemonSets of every namespace. */
export interface DaemonSetPort {
  listDaemonSets(): Promise<readonly DaemonSet[]>;
  /** null when it was deleted */
  readDaemonSet(namespace: string, name: string): Promise<DaemonSet | null>;
  /** 'conflict' when it changed since it was read (a failed `test`, or a 409); 'gone' when it was deleted */
  patchDaemonSet(
    namespace: string,
    name: string,
    patch: readonly JsonPatchOp[],
  ): Promise<'patched' | 'conflict' | 'gone'>;
}

const ATTEMPTS = 5;

/**
 * Adds `node-role.kubernetes.io/edge DoesNotExist` to every cloud DaemonSet whose pods could land on edge nodes —
 * all of them, not only those with pods on the new node — with one compare-and-swap patch per DaemonSet. A
 * DaemonSet that changed since it was read is read and decided again (it may need nothing now), up to five times.
 * A dry run reports what it would patch and changes nothing.
 * @throws DaemonSetPatchError when a DaemonSet changed under every attempt
 */
export async function keepDaemonSetsOffEdge(
  port: DaemonSetPort,
  config: KeepOffEdgeConfig,
  dryRun: boolean,
): Promise<KeepOffEdgeReport> {
  const first = (await port.listDaemonSets()).map((daemonSet) => classifyDaemonSet(daemonSet, config));
  // each DaemonSet is patched on its own, so a few at a time: the step takes one round trip, not one per DaemonSet
  const decisions = await mapConcurrently(first, PATCH_CONCURRENCY, (decision) =>
    dryRun || decision.action === 'skip' ? decision : patchUntilSettled(port, decision, config),
  );
  return reportOf(decisions);
}

/** How many DaemonSets are patched at once: enough to overlap the round trips, few enough to spare the API server. */
const PATCH_CONCURRENCY = 8;

/**
 * `items.map(fn)` with at most `limit` calls pending at a time; the results keep the items' order. After a call
 * fails no new one starts, the pending ones finish, and the first failure is thrown: nothing runs on after it.
 */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => R | Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

async function patchUntilSettled(
  port: DaemonSetPort,
  decision: Extract<DaemonSetDecision, { action: 'patch' }>,
  config: KeepOffEdgeConfig,
): Promise<DaemonSetDecision> {
  const { namespace, name } = decision;
  const gone: DaemonSetDecision = { action: 'skip', namespace, name, reason: 'deleted while being patched' };
  let current: DaemonSetDecision = decision;
  for (let attempt = 1; current.action === 'patch'; attempt++) {
    const outcome = await port.patchDaemonSet(namespace, name, current.patch);
    if (outcome === 'patched') return current;
    if (outcome === 'gone') return gone;
    if (attempt === ATTEMPTS) {
      throw new DaemonSetPatchError(`DaemonSet ${namespace}/${name} kept changing; gave up after ${ATTEMPTS} attempts`);
    }
    const fresh = await port.readDaemonSet(namespace, name);
    if (!fresh) return gone;
    current = classifyDaemonSet(fresh, config);
  }
  return current;
}

const EXCLUDE_EDGE: NodeSelectorRequirement = Object.freeze({ key: EDGE_ROLE_LABEL, operator: 'DoesNotExist' });

/**
 * Decides whether to patch one DaemonSet so its pods stay off edge nodes.
 *
 * The rule: patch every DaemonSet that is not exempt and whose required node affinity does not already exclude edge
 * nodes. Tolerations are deliberately not consulted: `taint=false` onboards untainted edge nodes, which every
 * DaemonSet reaches, so a DaemonSet that does not tolerate the edge taint today still lands on the next untainted
 * edge node. Exempt: the allowlist, the edge-allowed annotation, namespace `kubeedge`, and DaemonSets whose required
 * affinity or nodeSelector already targets edge nodes (node-exporter style).
 */
export function classifyDaemonSet(daemonSet: DaemonSet, config: KeepOffEdgeConfig): DaemonSetDecision {
  const { namespace, name } = daemonSet.metadata;
  const skip = (reason: SkipReason): DaemonSetDecision => ({ action: 'skip', namespace, name, reason });
  if (config.allowlist.includes(`${namespace}/${name}`)) return skip('allowlisted');
  if (daemonSet.metadata.annotations?.[EDGE_ALLOWED_ANNOTATION] === 'true') {
    return skip(`annotated ${EDGE_ALLOWED_ANNOTATION}=true`);
  }
  if (namespace === KUBEEDGE_NAMESPACE) return skip('KubeEdge component (namespace kubeedge)');
  const podSpec = daemonSet.spec.template.spec ?? {};
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (targetsEdge(podSpec.nodeSelector, terms)) return skip('meant for edge nodes');
  if (excludesEdge(podSpec.nodeSelector, terms)) return skip('already excludes edge nodes');
  const affinity = withEdgeExclusion(podSpec.affinity);
  return { action: 'patch', namespace, name, affinity, patch: affinityPatch(daemonSet, affinity) };
}

/** The report the step returns, from the decisions it acted on. */
export function reportOf(decisions: readonly DaemonSetDecision[]): KeepOffEdgeReport {
  const report: KeepOffEdgeReport = { patched: [], skipped: [] };
  for (const decision of decisions) {
    if (decision.action === 'patch') report.patched.push({ namespace: decision.namespace, name: decision.name });
    else report.skipped.push({ namespace: decision.namespace, name: decision.name, reason: decision.reason });
  }
  return report;
}

/** Edge nodes have the edge label with value "" (any value counts for Exists). */
function requiresEdge(expression: NodeSelectorRequirement): boolean {
  if (expression.key !== EDGE_ROLE_LABEL) return false;
  return expression.operator === 'Exists' || (expression.operator === 'In' && (expression.values ?? []).length > 0);
}

/** An expression that no edge node satisfies. */
function rejectsEdge(expression: NodeSelectorRequirement): boolean {
  if (expression.key !== EDGE_ROLE_LABEL) return false;
  // NotIn [""] also rejects edge nodes (their value is ""), and an In without "" too.
  if (expression.operator === 'DoesNotExist') return true;
  if (expression.operator === 'NotIn') return (expression.values ?? []).includes('');
  if (expression.operator === 'In') return !(expression.values ?? []).includes('');
  return false;
}

/** Required affinity (every term) or nodeSelector asks for the edge label. */
function targetsEdge(nodeSelector: Record<string, string> | undefined, terms: NodeSelectorTerm[] | undefined): boolean {
  if (nodeSelector && EDGE_ROLE_LABEL in nodeSelector) return nodeSelector[EDGE_ROLE_LABEL] === '';
  return (
    terms !== undefined &&
    terms.length > 0 &&
    terms.every((term) =>
      (term.matchExpressions ?? []).some((expression) => requiresEdge(expression) && !rejectsEdge(expression)),
    )
  );
}

/** No edge node can satisfy the nodeSelector, or every required term rejects edge nodes. */
function excludesEdge(
  nodeSelector: Record<string, string> | undefined,
  terms: NodeSelectorTerm[] | undefined,
): boolean {
  if (nodeSelector && EDGE_ROLE_LABEL in nodeSelector && nodeSelector[EDGE_ROLE_LABEL] !== '') return true;
  return (
    terms !== undefined && terms.length > 0 && terms.every((term) => (term.matchExpressions ?? []).some(rejectsEdge))
  );
}

/**
 * The affinity with `node-role.kubernetes.io/edge DoesNotExist` added to every required term (terms are ORed, so a
 * term without it would still admit edge nodes), or a new required term when there is none. Preferred terms,
 * matchFields, pod (anti-)affinity and everything else are copied unchanged.
 */
export function withEdgeExclusion(affinity: Affinity | undefined): Affinity {
  const nodeAffinity = affinity?.nodeAffinity ?? {};
  const terms = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const extended =
    terms.length === 0
      ? [{ matchExpressions: [{ ...EXCLUDE_EDGE }] }]
      : terms.map((term) =>
          (term.matchExpressions ?? []).some(rejectsEdge)
            ? structuredClone(term)
            : {
                ...structuredClone(term),
                matchExpressions: [...structuredClone(term.matchExpressions ?? []), { ...EXCLUDE_EDGE }],
              },
        );
  return {
    ...structuredClone(affinity ?? {}),
    nodeAffinity: {
      ...structuredClone(nodeAffinity),
      requiredDuringSchedulingIgnoredDuringExecution: {
        ...structuredClone(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? {}),
        nodeSelectorTerms: extended,
      },
    },
  };
}

/**
 * One JSON patch per DaemonSet: `test` the resourceVersion read (a concurrent change makes the API server answer
 * 422 and the step re-reads and re-decides), then set the pod template's affinity as a whole. `add` on an object
 * member replaces it when present and creates it when absent, so no separate `replace` is needed; only the affinity
 * moves, and it carries every other rule unchanged.
 */
function affinityPatch(daemonSet: DaemonSet, affinity: Affinity): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  if (daemonSet.metadata.resourceVersion !== undefined) {
    ops.push({ op: 'test', path: '/metadata/resourceVersion', value: daemonSet.metadata.resourceVersion });
  }
  if (daemonSet.spec.template.spec === undefined) ops.push({ op: 'add', path: '/spec/template/spec', value: {} });
  ops.push({ op: 'add', path: '/spec/template/spec/affinity', value: affinity });
  return ops;
}

/** DaemonSets are listed this many at a time: they number with the cluster's add-ons, not with its nodes. */
const LIST_PAGE = 500;

/** The fence's port over the real API; every page of the list is gathered, since the fence decides on them all. */
export function daemonSetPort({ apps }: Pick<KubeClients, 'apps'>): DaemonSetPort {
  return {
    async listDaemonSets() {
      const all: DaemonSet[] = [];
      let token: string | undefined;
      do {
        try {
          const answer = await apps.listDaemonSetForAllNamespaces({ limit: LIST_PAGE, _continue: token });
          all.push(...(answer.items as DaemonSet[]));
          token = answer.metadata?._continue || undefined;
        } catch (error) {
          throw translateKubeError(error, 'listing DaemonSets');
        }
      } while (token);
      return all;
    },
    readDaemonSet: (namespace, name) =>
      apps.readNamespacedDaemonSet({ namespace, name }).then(
        (item) => item as DaemonSet,
        (error: unknown) =>
          isNotFound(error)
            ? null
            : Promise.reject(translateKubeError(error, `reading DaemonSet ${namespace}/${name}`)),
      ),
    async patchDaemonSet(namespace, name, body) {
      try {
        await apps.patchNamespacedDaemonSet({ namespace, name, body: [...body] }, jsonPatch);
        return 'patched';
      } catch (error) {
        if (isNotFound(error)) return 'gone';
        if (isConflict(error) || statusOf(error) === 422) return 'conflict';
        throw translateKubeError(error, `patching DaemonSet ${namespace}/${name}`);
      }
    },
  };
}
