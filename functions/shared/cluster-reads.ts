import type { V1ConfigMap, V1Node } from '@kubernetes/client-node';
import { isNotFound, type KubeClients, translateKubeError } from './k8s';

/** KubeEdge's namespace and the objects of it the workflows read (KUBEEDGE.md §2). */
export const KUBEEDGE_NAMESPACE = 'kubeedge';
export const CLOUDCORE_CONFIGMAP = 'cloudcore';
export const EDGE_WATCHER_CONFIGMAP = 'edge-watcher-config';
export const TOKEN_SECRET = 'tokensecret';

/** A ConfigMap, or null when it does not exist. */
export async function readConfigMap(kube: KubeClients, namespace: string, name: string): Promise<V1ConfigMap | null> {
  try {
    return await kube.core.readNamespacedConfigMap({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw translateKubeError(error, `reading ConfigMap ${namespace}/${name}`);
  }
}

/** A Node, or null when it does not exist. */
export async function readNode(kube: KubeClients, name: string): Promise<V1Node | null> {
  try {
    return await kube.core.readNode({ name });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw translateKubeError(error, `reading node ${name}`);
  }
}

/** Whether an object exists, for checks that must not carry its content around. */
export async function exists(read: () => Promise<unknown>, doing: string): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw translateKubeError(error, doing);
  }
}

/**
 * The KubeEdge join token, read at the moment it is needed and never cached (cloudcore rotates it every 12 h).
 * Callers must not log, return or store it.
 */
export async function readJoinToken(kube: KubeClients): Promise<string | null> {
  try {
    const secret = await kube.core.readNamespacedSecret({ name: TOKEN_SECRET, namespace: KUBEEDGE_NAMESPACE });
    const encoded = secret.data?.tokendata;
    return encoded ? Buffer.from(encoded, 'base64').toString('utf8').trim() : null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw translateKubeError(error, `reading Secret ${KUBEEDGE_NAMESPACE}/${TOKEN_SECRET}`);
  }
}

/** The node's InternalIP addresses. */
export function internalIps(node: V1Node): string[] {
  return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
}

/** Annotations edgekeeper writes on the nodes it manages; removal reads the instance id back from them. */
export const MANAGED_ANNOTATIONS = {
  instanceId: 'edgekeeper.io/instance-id',
  kubeedgeVersion: 'edgekeeper.io/kubeedge-version',
  keadmProfile: 'edgekeeper.io/keadm-profile',
  operationId: 'edgekeeper.io/operation-id',
} as const;
export const MANAGED_LABEL = 'edgekeeper.io/managed';
