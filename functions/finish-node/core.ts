import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { EDGE_TAINT, isEdgeTaint, MANAGED_ANNOTATIONS, MANAGED_LABEL } from '../shared/domain';
import { EdgekeeperError } from '../shared/errors';
import type { JoinSettings } from '../shared/join-settings/schema';

/** The node vanished between readiness and finishing: nothing to mark, the join did not hold. */
export class NodeVanishedError extends EdgekeeperError {
  override readonly name = 'NodeVanishedError';
}

/** The node changed under every attempt to patch it (a kubelet or another client kept writing it). */
export class NodeKeptChangingError extends EdgekeeperError {
  override readonly name = 'NodeKeptChangingError';
}

/** One RFC 6902 operation as sent with `application/json-patch+json`. */
export type PatchOp = { op: 'test' | 'add'; path: string; value: unknown };

/** The narrow Kubernetes port of this step. */
export interface NodePort {
  /** null when the node does not exist */
  readNode(name: string): Promise<V1Node | null>;
  /** 'conflict' when the node changed since it was read (a failed `test`, or a 409) */
  patchNode(name: string, patch: readonly PatchOp[]): Promise<'patched' | 'conflict'>;
}

/** What the request wants the node to be. */
export interface FinishRequest {
  readonly nodeName: string;
  /** null for a manual join: the node records no instance, so a removal resets no host */
  readonly instanceId: string | null;
  readonly operationId: string;
  /** labels, taint, version and profile: the join settings the request resolved to */
  readonly settings: JoinSettings;
}

/** What finishing changed. */
export interface FinishResult {
  readonly nodeName: string;
  /** false when the node already was as requested (a rerun of the same request) */
  readonly patched: boolean;
  readonly labelsSet: readonly string[];
  readonly labelsRemoved: readonly string[];
  readonly taint: 'added' | 'removed' | 'unchanged';
}

const ATTEMPTS = 5;
const EDGE_TAINT_KEY = `${EDGE_TAINT.key}:${EDGE_TAINT.effect}`;

/** What the readiness check last saw of the node: enough to plan the patch, which tests its resourceVersion. */
export interface SeenNode {
  readonly resourceVersion: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly taints: V1Taint[];
}

export function nodeAsSeen(seen: SeenNode): V1Node {
  return {
    metadata: { resourceVersion: seen.resourceVersion, labels: seen.labels, annotations: seen.annotations },
    spec: { taints: seen.taints },
  };
}

/**
 * Makes the node what the request asks, declaratively, with one compare-and-swap patch: a changed node (a kubelet
 * status update in between) is read again and the patch computed again, up to five times. The first attempt plans
 * from `seen`, the node as the readiness check last saw it, when there is one: a stale view only fails the `test`.
 * @throws NodeVanishedError when the node does not exist
 * @throws NodeKeptChangingError when every attempt raced another writer
 */
export async function finishNode(port: NodePort, request: FinishRequest, seen?: V1Node | null): Promise<FinishResult> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const node = attempt === 1 && seen ? seen : await port.readNode(request.nodeName);
    if (!node) {
      throw new NodeVanishedError(`node ${request.nodeName} disappeared before it could be marked as managed`);
    }
    const { patch, result } = planFinish(node, request);
    if (patch.length === 0 || (await port.patchNode(request.nodeName, patch)) === 'patched') return result;
  }
  throw new NodeKeptChangingError(
    `node ${request.nodeName} kept changing while it was being marked as managed; gave up after ${ATTEMPTS} attempts`,
  );
}

/**
 * The patch that makes a node what the request asks, and what it changes; no patch when nothing would change.
 *
 * - The managed label and the annotations removal and drift checks read back (instance, version, profile, and the
 *   execution that joined it, which a rerun keeps).
 * - Labels: every requested label is set (keadm may have set them at join already; setting them again is harmless),
 *   and those edgekeeper applied before but the request no longer has are removed. What it applied is recorded on
 *   the node, so labels set by anyone else are never touched.
 * - Taint: the edge taint is added when asked for and missing, and removed when not asked for and edgekeeper put
 *   it there (recorded; on a node finished before the record existed, a managed node's edge taint is edgekeeper's,
 *   since only its join adds it).
 *
 * The patch starts with a `test` of the resourceVersion, so it only applies to the node as it was read.
 */
export function planFinish(node: V1Node, request: FinishRequest): { patch: PatchOp[]; result: FinishResult } {
  const { settings } = request;
  const current = node.metadata?.labels ?? {};
  const annotations = node.metadata?.annotations ?? {};
  const applied = listOf(annotations[MANAGED_ANNOTATIONS.appliedLabels]);
  const labelsRemoved = applied.filter((key) => !(key in settings.labels) && key in current).sort();
  const labelsSet = Object.entries(settings.labels)
    .filter(([key, value]) => current[key] !== value)
    .map(([key]) => key)
    .sort();
  const labels: Record<string, string> = { ...current, ...settings.labels, [MANAGED_LABEL]: 'true' };
  for (const key of labelsRemoved) delete labels[key];

  const taints = node.spec?.taints ?? [];
  const hasTaint = taints.some(isEdgeTaint);
  const taintWasOurs =
    annotations[MANAGED_ANNOTATIONS.appliedTaints] !== undefined
      ? listOf(annotations[MANAGED_ANNOTATIONS.appliedTaints]).includes(EDGE_TAINT_KEY)
      : current[MANAGED_LABEL] === 'true';
  const taint =
    settings.taint && !hasTaint ? 'added' : !settings.taint && hasTaint && taintWasOurs ? 'removed' : 'unchanged';

  const wanted: Record<string, string> = {
    ...annotations,
    ...(request.instanceId === null
      ? { [MANAGED_ANNOTATIONS.joinMode]: 'manual' }
      : { [MANAGED_ANNOTATIONS.instanceId]: request.instanceId }),
    [MANAGED_ANNOTATIONS.kubeedgeVersion]: settings.version,
    [MANAGED_ANNOTATIONS.keadmProfile]: settings.profile,
    [MANAGED_ANNOTATIONS.operationId]: annotations[MANAGED_ANNOTATIONS.operationId] ?? request.operationId,
    [MANAGED_ANNOTATIONS.appliedLabels]: Object.keys(settings.labels).sort().join(','),
    [MANAGED_ANNOTATIONS.appliedTaints]: settings.taint ? EDGE_TAINT_KEY : '',
  };

  const patch: PatchOp[] = [];
  if (!sameRecord(labels, current)) patch.push({ op: 'add', path: '/metadata/labels', value: labels });
  if (!sameRecord(wanted, annotations)) patch.push({ op: 'add', path: '/metadata/annotations', value: wanted });
  if (taint !== 'unchanged') patch.push({ op: 'add', path: '/spec/taints', value: taintsAfter(taints, taint) });
  if (patch.length > 0) {
    patch.unshift({ op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion });
  }
  return {
    patch,
    result: { nodeName: request.nodeName, patched: patch.length > 0, labelsSet, labelsRemoved, taint },
  };
}

function taintsAfter(taints: readonly V1Taint[], change: 'added' | 'removed'): V1Taint[] {
  return change === 'added' ? [...taints, { ...EDGE_TAINT }] : taints.filter((taint) => !isEdgeTaint(taint));
}

function listOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
