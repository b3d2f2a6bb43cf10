import { R } from '../resources';
import { DAEMON_POD_TOLERATIONS, isEdgeNode, podFitsNode } from '../scheduling';
import type { Store } from '../store';
import { isJsonObject, type KubeObject } from '../types';
import { controllerUid, createPod, type PodIpAllocator, randomSuffix, templateHash } from './pods';

/**
 * Fixture annotation on a DaemonSet whose pods cannot work on a KubeEdge node (CNI, kube-proxy, node-local DNS):
 * there they stay Pending, as on a real cluster where the CNI plugin never comes up under edgecore.
 */
export const PENDING_ON_EDGE_ANNOTATION = 'sandbox.edgekeeper.io/pending-on-edge-nodes';

/**
 * Keeps one pod per eligible node for every DaemonSet, like kube-controller-manager's DaemonSet controller: creates
 * missing pods, deletes pods on nodes that became ineligible (or vanished), replaces pods whose template is stale,
 * and writes `.status`. Returns true when it changed anything.
 */
export function reconcileDaemonSets(store: Store, ips: PodIpAllocator): boolean {
  let changed = false;
  // read-only views (nothing here changes them; writes go through the store): thousands of nodes and pods
  const nodes = store.view(R.nodes);
  const podsOf = new Map<string, KubeObject[]>();
  for (const pod of store.view(R.pods)) {
    const owner = controllerUid(pod);
    if (owner === undefined) continue;
    const owned = podsOf.get(owner);
    if (owned) owned.push(pod);
    else podsOf.set(owner, [pod]);
  }
  for (const ds of store.view(R.daemonsets)) {
    if (ds.metadata.deletionTimestamp) continue;
    const spec = isJsonObject(ds.spec) ? ds.spec : {};
    const template = isJsonObject(spec.template) ? spec.template : {};
    const podSpec = isJsonObject(template.spec) ? template.spec : {};
    const hash = templateHash(template);
    const eligible = nodes.filter((n) => podFitsNode(podSpec, n, DAEMON_POD_TOLERATIONS));
    const mayStay = new Set(
      nodes.filter((n) => podFitsNode(podSpec, n, DAEMON_POD_TOLERATIONS, true)).map((n) => n.metadata.name),
    );
    const owned = podsOf.get(ds.metadata.uid ?? '') ?? [];
    const kept: KubeObject[] = [];
    const keptOn = new Set<string>();
    for (const pod of owned) {
      const nodeName = nodeNameOf(pod);
      const stale = pod.metadata.labels?.['controller-revision-hash'] !== hash;
      const duplicate = keptOn.has(nodeName);
      if (!mayStay.has(nodeName) || stale || duplicate) {
        store.delete(R.pods, pod.metadata.namespace, pod.metadata.name ?? '');
        changed = true;
      } else {
        kept.push(pod);
        keptOn.add(nodeName);
      }
    }
    const pendingOnEdge = ds.metadata.annotations?.[PENDING_ON_EDGE_ANNOTATION] === 'true';
    for (const node of eligible) {
      if (keptOn.has(node.metadata.name ?? '')) continue;
      keptOn.add(node.metadata.name ?? '');
      kept.push(
        createPod(store, ips, {
          owner: ds,
          ownerType: R.daemonsets,
          name: freePodName(store, ds),
          template,
          extraLabels: {
            'controller-revision-hash': hash,
            'pod-template-generation': String(ds.metadata.generation ?? 1),
          },
          node,
          phase: pendingOnEdge && isEdgeNode(node) ? 'Pending' : 'Running',
          extraTolerations: DAEMON_POD_TOLERATIONS as Record<string, string>[],
        }),
      );
      changed = true;
    }
    const ready = kept.filter((p) => (p.status as { phase?: string }).phase === 'Running').length;
    const status = {
      currentNumberScheduled: kept.length,
      // Nodes that take new pods, plus nodes whose NoSchedule taint came after their pod (it stays).
      desiredNumberScheduled: new Set([...eligible.map((n) => n.metadata.name), ...kept.map(nodeNameOf)]).size,
      numberAvailable: ready,
      numberMisscheduled: 0,
      numberReady: ready,
      ...(kept.length - ready > 0 ? { numberUnavailable: kept.length - ready } : {}),
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: kept.length,
    };
    if (JSON.stringify(ds.status ?? {}) !== JSON.stringify(status)) {
      const latest = store.get(R.daemonsets, ds.metadata.namespace, ds.metadata.name ?? '');
      store.update(R.daemonsets, { ...latest, status });
      changed = true;
    }
  }
  return changed;
}

/**
 * `<DaemonSet>-<5 random characters>`, drawn again while taken: with thousands of nodes the names collide (the real
 * controller's generateName retries too).
 */
function freePodName(store: Store, ds: KubeObject): string {
  for (;;) {
    const name = `${ds.metadata.name}-${randomSuffix()}`;
    if (!store.find(R.pods, ds.metadata.namespace, name)) return name;
  }
}

function nodeNameOf(pod: KubeObject): string {
  return String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '');
}
