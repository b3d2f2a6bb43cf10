/** The label every KubeEdge edge node carries (KUBEEDGE.md §4). */
export const EDGE_LABEL = 'node-role.kubernetes.io/edge';
/** Annotation that marks a DaemonSet as meant to run on edge nodes too. */
export const EDGE_ALLOWED_ANNOTATION = 'edgekeeper.io/edge-allowed';
/** KubeEdge's own namespace: its DaemonSets (mosquitto since 1.16, edgemesh, …) belong on the edge. */
export const KUBEEDGE_NAMESPACE = 'kubeedge';

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
  | 'allowlisted';

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

const EXCLUDE_EDGE: NodeSelectorRequirement = Object.freeze({ key: EDGE_LABEL, operator: 'DoesNotExist' });

/**
 * Decides, for each DaemonSet, whether to patch it so its pods stay off edge nodes.
 *
 * The rule: patch every DaemonSet that is not exempt and whose required node affinity does not already exclude edge
 * nodes. Tolerations are deliberately not consulted: `taint=false` onboards untainted edge nodes, which every
 * DaemonSet reaches, so a DaemonSet that does not tolerate the edge taint today still lands on the next untainted
 * edge node. Exempt: the allowlist, the edge-allowed annotation, namespace `kubeedge`, and DaemonSets whose required
 * affinity or nodeSelector already targets edge nodes (node-exporter style).
 */
/** `classifyDaemonSets` for one DaemonSet. */
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
  if (expression.key !== EDGE_LABEL) return false;
  return expression.operator === 'Exists' || (expression.operator === 'In' && (expression.values ?? []).length > 0);
}

/** An expression that no edge node satisfies. */
function rejectsEdge(expression: NodeSelectorRequirement): boolean {
  if (expression.key !== EDGE_LABEL) return false;
  // NotIn [""] also rejects edge nodes (their value is ""), and an In without "" too.
  if (expression.operator === 'DoesNotExist') return true;
  if (expression.operator === 'NotIn') return (expression.values ?? []).includes('');
  if (expression.operator === 'In') return !(expression.values ?? []).includes('');
  return false;
}

/** Required affinity (every term) or nodeSelector asks for the edge label. */
function targetsEdge(nodeSelector: Record<string, string> | undefined, terms: NodeSelectorTerm[] | undefined): boolean {
  if (nodeSelector && EDGE_LABEL in nodeSelector) return nodeSelector[EDGE_LABEL] === '';
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
  if (nodeSelector && EDGE_LABEL in nodeSelector && nodeSelector[EDGE_LABEL] !== '') return true;
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
