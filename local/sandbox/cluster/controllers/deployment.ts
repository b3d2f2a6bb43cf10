import { R } from '../resources';
import { isEdgeNode, podFitsNode } from '../scheduling';
import type { Store } from '../store';
import { isJsonObject } from '../types';
import { controllerUid, createPod, type PodIpAllocator, randomSuffix, templateHash } from './pods';

/**
 * Runs `spec.replicas` pods per Deployment on cloud nodes (never edge nodes: cloudcore and metrics-server live in
 * the cloud). Simplified on purpose: there is no ReplicaSet in between, so pods are owned by the Deployment itself,
 * and a template change replaces every pod at once. Returns true when it changed anything.
 */
export function reconcileDeployments(store: Store, ips: PodIpAllocator): boolean {
  let changed = false;
  // read-only views (writes go through the store)
  const nodes = store.view(R.nodes).filter((n) => !isEdgeNode(n));
  const pods = store.view(R.pods);
  for (const deploy of store.view(R.deployments)) {
    const spec = isJsonObject(deploy.spec) ? deploy.spec : {};
    const template = isJsonObject(spec.template) ? spec.template : {};
    const podSpec = isJsonObject(template.spec) ? template.spec : {};
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const hash = templateHash(template);
    // A cordoned node (`kubectl drain`) takes no new pods.
    const candidates = nodes.filter(
      (n) => podFitsNode(podSpec, n) && (n.spec as { unschedulable?: boolean }).unschedulable !== true,
    );
    let owned = pods.filter((p) => controllerUid(p) === deploy.metadata.uid);
    for (const pod of owned) {
      const nodeName = (pod.spec as { nodeName?: string }).nodeName;
      const lostNode = nodeName !== undefined && !nodes.some((n) => n.metadata.name === nodeName);
      if (pod.metadata.labels?.['pod-template-hash'] !== hash || lostNode) {
        store.delete(R.pods, pod.metadata.namespace, pod.metadata.name ?? '');
        changed = true;
      }
    }
    owned = store.view(R.pods, deploy.metadata.namespace).filter((p) => controllerUid(p) === deploy.metadata.uid);
    for (const extra of owned.slice(replicas)) {
      store.delete(R.pods, extra.metadata.namespace, extra.metadata.name ?? '');
      changed = true;
    }
    for (let i = owned.length; i < replicas; i += 1) {
      const node = candidates.length > 0 ? candidates[i % candidates.length] : undefined;
      owned.push(
        createPod(store, ips, {
          owner: deploy,
          ownerType: R.deployments,
          name: `${deploy.metadata.name}-${hash}-${randomSuffix()}`,
          template,
          extraLabels: { 'pod-template-hash': hash },
          node,
          phase: node ? 'Running' : 'Pending',
        }),
      );
      changed = true;
    }
    const running = owned.slice(0, replicas).filter((p) => (p.status as { phase?: string }).phase === 'Running').length;
    const status = {
      observedGeneration: deploy.metadata.generation ?? 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: running,
      availableReplicas: running,
      ...(replicas - running > 0 ? { unavailableReplicas: replicas - running } : {}),
      conditions: [
        {
          type: 'Available',
          status: running >= replicas ? 'True' : 'False',
          reason: running >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            running >= replicas
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
        },
      ],
    };
    if (JSON.stringify(deploy.status ?? {}) !== JSON.stringify(status)) {
      const latest = store.get(R.deployments, deploy.metadata.namespace, deploy.metadata.name ?? '');
      store.update(R.deployments, { ...latest, status });
      changed = true;
    }
  }
  return changed;
}
