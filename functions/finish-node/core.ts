import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { MANAGED_ANNOTATIONS, MANAGED_LABEL } from '../shared/cluster-reads';
import { joinPlanFor } from '../shared/keadm/profiles';
import type { JoinSettings } from '../shared/schemas';

export const EDGE_TAINT: V1Taint = { key: 'node-role.kubernetes.io/edge', value: '', effect: 'NoSchedule' };

type PatchOp = { op: 'test' | 'add' | 'replace'; path: string; value: unknown };

/**
 * The JSON patch that marks a joined node as edgekeeper's: a label, the annotations removal and drift checks read
 * back, the labels keadm could not set, and the edge taint when keadm could not add it at join. A `test` on the
 * resourceVersion makes it a compare-and-swap, so a concurrent kubelet update is retried instead of overwritten.
 */
export function finishNodePatch(
  node: V1Node,
  settings: JoinSettings,
  instanceId: string,
  operationId: string,
): PatchOp[] {
  const plan = joinPlanFor(settings);
  const labels = { ...node.metadata?.labels, ...plan.applyViaApi.labels, [MANAGED_LABEL]: 'true' };
  const annotations = {
    ...node.metadata?.annotations,
    [MANAGED_ANNOTATIONS.instanceId]: instanceId,
    [MANAGED_ANNOTATIONS.kubeedgeVersion]: settings.version,
    [MANAGED_ANNOTATIONS.keadmProfile]: settings.profile,
    [MANAGED_ANNOTATIONS.operationId]: operationId,
  };
  const patch: PatchOp[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion },
    { op: 'add', path: '/metadata/labels', value: labels },
    { op: 'add', path: '/metadata/annotations', value: annotations },
  ];
  const taints = node.spec?.taints ?? [];
  const tainted = taints.some((taint) => taint.key === EDGE_TAINT.key && taint.effect === EDGE_TAINT.effect);
  if (plan.applyViaApi.taint && !tainted) {
    patch.push({ op: 'add', path: '/spec/taints', value: [...taints, EDGE_TAINT] });
  }
  return patch;
}
