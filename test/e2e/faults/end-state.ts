import type { V1Node } from '@kubernetes/client-node';
import { LOCK_NAMESPACE } from '../../../functions/shared/domain';
import { type E2E, internalIps, readyStatus } from '../harness';
import { type HostState, hostState, kubectl } from '../removal-helpers';

/**
 * What the fault-injection suite compares: everything a run of edgekeeper may change, read through the sandbox's
 * API as an operator's tools would see it. Two snapshots are equal when a run left the cluster and the hosts as
 * another did: the kill sweep compares a killed-and-rerun workflow with an uninterrupted one, the fault scenarios
 * compare a rolled-back run with the state before it.
 */

/** The selector of every lock Lease edgekeeper writes (docs/locks.md). */
export const LOCK_SELECTOR = 'app.kubernetes.io/managed-by=edgekeeper';

/** A node as far as edgekeeper is concerned: what it sets, and whether the node works. */
export interface NodeView {
  readonly ready: string | undefined;
  readonly internalIps: string[];
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly taints: string[];
}

export interface EndState {
  /** every node, by name */
  readonly nodes: Record<string, NodeView>;
  /** the names of edgekeeper's lock Leases in kube-system */
  readonly leases: string[];
  /** each DaemonSet's required node affinity (what the DaemonSet guard edits), by `namespace/name` */
  readonly daemonSets: Record<string, string>;
  /** the KubeEdge footprint of each edge host the test names */
  readonly hosts: Record<string, HostState>;
}

/**
 * Annotations that name the execution which wrote them: they differ between any two runs by design, so the
 * comparison keeps only that they are there.
 */
const RUN_SPECIFIC_ANNOTATIONS = new Set(['edgekeeper.io/operation-id']);

export function nodeView(node: V1Node): NodeView {
  const annotations = Object.fromEntries(
    Object.entries(node.metadata?.annotations ?? {}).map(([key, value]) => [
      key,
      RUN_SPECIFIC_ANNOTATIONS.has(key) ? '(set)' : value,
    ]),
  );
  return {
    ready: readyStatus(node),
    internalIps: internalIps(node),
    labels: { ...(node.metadata?.labels ?? {}) },
    annotations,
    taints: (node.spec?.taints ?? []).map((taint) => `${taint.key}=${taint.value ?? ''}:${taint.effect}`).sort(),
  };
}

/** The names of edgekeeper's lock Leases, through the API. */
export async function lockLeases(e2e: E2E): Promise<string[]> {
  const { items } = await e2e.coordination.listNamespacedLease({
    namespace: LOCK_NAMESPACE,
    labelSelector: LOCK_SELECTOR,
  });
  return items.map((lease) => lease.metadata?.name ?? '').sort();
}

/** The names of edgekeeper's lock Leases as real kubectl lists them: what an operator would look at. */
export async function lockLeasesByKubectl(e2e: E2E): Promise<string[]> {
  const listed = await kubectl(e2e, ['get', 'leases', '-n', LOCK_NAMESPACE, '-l', LOCK_SELECTOR, '-o', 'name']);
  if (listed.code !== 0) throw new Error(`kubectl get leases failed: ${listed.stderr}`);
  return listed.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/^lease\.coordination\.k8s\.io\//, ''))
    .sort();
}

export async function endState(e2e: E2E, hosts: readonly string[]): Promise<EndState> {
  const [{ items: nodes }, leases, { items: daemonSets }] = await Promise.all([
    e2e.core.listNode(),
    lockLeases(e2e),
    e2e.apps.listDaemonSetForAllNamespaces(),
  ]);
  const hostStates: Record<string, HostState> = {};
  // one at a time: each look is a script on the host, and the hosts share two cores with everything else
  for (const id of hosts) hostStates[id] = await hostState(e2e, id);
  return {
    nodes: Object.fromEntries(nodes.map((node) => [node.metadata?.name ?? '', nodeView(node)])),
    leases,
    daemonSets: Object.fromEntries(
      daemonSets.map((ds) => [
        `${ds.metadata?.namespace}/${ds.metadata?.name}`,
        JSON.stringify(ds.spec?.template.spec?.affinity ?? null),
      ]),
    ),
    hosts: hostStates,
  };
}

/**
 * Waits until a predicate on the cluster holds, for what the sandbox does on its own after a run (a node a
 * half-joined host registers, pods following a DaemonSet). Never used to assert timing: it fails only by the
 * predicate still being false at the end.
 */
export async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (holds(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
