import { isJsonObject, type KubeObject } from './types';

/** The node label KubeEdge puts on every edge node. */
export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/**
 * Tolerations the DaemonSet controller adds to every pod it makes, so node conditions never keep a DaemonSet off
 * a node (kubernetes pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations).
 */
export const DAEMON_POD_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** True when a node carries the KubeEdge edge role label. */
export function isEdgeNode(node: KubeObject): boolean {
  return Object.hasOwn(node.metadata.labels ?? {}, EDGE_ROLE_LABEL);
}

/**
 * Whether a pod with this spec may run on the node, by the rules the DaemonSet controller and scheduler share:
 * `nodeSelector`, required node affinity (terms ORed, expressions ANDed) and NoSchedule/NoExecute taints. With
 * `alreadyRunning`, only NoExecute taints count: a NoSchedule taint keeps new pods away but evicts nobody.
 */
export function podFitsNode(
  podSpec: Record<string, unknown>,
  node: KubeObject,
  extraTolerations: readonly Toleration[] = [],
  alreadyRunning = false,
): boolean {
  const labels = node.metadata.labels ?? {};
  const nodeSelector = isJsonObject(podSpec.nodeSelector) ? podSpec.nodeSelector : {};
  if (!Object.entries(nodeSelector).every(([k, v]) => labels[k] === v)) return false;
  if (!requiredAffinityMatches(podSpec, node)) return false;
  const tolerations = [...((podSpec.tolerations as Toleration[] | undefined) ?? []), ...extraTolerations];
  const spec = isJsonObject(node.spec) ? node.spec : {};
  const taints = (spec.taints as unknown as Taint[] | undefined) ?? [];
  return taints
    .filter((t) => t.effect === 'NoExecute' || (t.effect === 'NoSchedule' && !alreadyRunning))
    .every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

function requiredAffinityMatches(podSpec: Record<string, unknown>, node: KubeObject): boolean {
  const affinity = isJsonObject(podSpec.affinity) ? podSpec.affinity : {};
  const nodeAffinity = isJsonObject(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!isJsonObject(required)) return true;
  const terms =
    (required.nodeSelectorTerms as
      | { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }[]
      | undefined) ?? [];
  const labels = node.metadata.labels ?? {};
  const fields = { 'metadata.name': node.metadata.name ?? '' };
  // An empty term matches nothing (the API's rule), so a term needs at least one requirement.
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const matchFields = term.matchFields ?? [];
    if (expressions.length === 0 && matchFields.length === 0) return false;
    return (
      expressions.every((e) => requirementMatches(e, labels)) && matchFields.every((e) => requirementMatches(e, fields))
    );
  });
}

function requirementMatches(requirement: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number.parseInt(value, 10) > Number.parseInt(values[0] ?? '', 10);
    case 'Lt':
      return has && Number.parseInt(value, 10) < Number.parseInt(values[0] ?? '', 10);
    default:
      return false;
  }
}

/** Kubernetes' Toleration.ToleratesTaint: an empty key with `Exists` tolerates every taint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}
