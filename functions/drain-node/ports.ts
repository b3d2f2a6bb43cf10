import { readNode } from '../shared/cluster-reads';
import { type KubeClients, mergePatch, statusMessage, statusOf, translateKubeError } from '../shared/k8s';
import type { DrainPorts, PodLike } from './core';

/** The drain's ports over the Kubernetes API: pods by `spec.nodeName`, a merge-patch cordon, the Eviction API. */
export function drainPorts(kube: KubeClients): DrainPorts {
  return {
    nodeExists: async (nodeName) => (await readNode(kube, nodeName)) !== null,
    podsOn: async (nodeName) => {
      try {
        const { items } = await kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
        return items as PodLike[];
      } catch (error) {
        throw translateKubeError(error, `listing pods on node ${nodeName}`);
      }
    },
    cordon: async (nodeName, body) => {
      await kube.core.patchNode({ name: nodeName, body }, mergePatch).catch((error: unknown) => {
        throw translateKubeError(error, `cordoning node ${nodeName}`);
      });
    },
    evict: async ({ pod, body }) => {
      try {
        await kube.core.createNamespacedPodEviction({ name: pod.name, namespace: pod.namespace, body });
        return { statusCode: 201, detail: '' };
      } catch (error) {
        const statusCode = statusOf(error);
        // No answer (network, timeout) or a gateway/overload 5xx: transient. A 500 is the Eviction API's own
        // refusal (more than one PDB covers the pod), which the core reports as permanent.
        if (statusCode === undefined || statusCode > 500) throw translateKubeError(error, `evicting ${pod.name}`);
        return { statusCode, detail: statusMessage(error) };
      }
    },
  };
}
