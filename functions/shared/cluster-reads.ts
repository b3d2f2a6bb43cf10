import type { V1ConfigMap, V1Node } from '@kubernetes/client-node';
import {
  CLOUDCORE_CONFIGMAP,
  EDGE_WATCHER_CONFIGMAP,
  KUBEEDGE_NAMESPACE,
  MANAGED_ANNOTATIONS,
  MANAGED_LABEL,
  TOKEN_SECRET,
} from './domain';
import { isNotFound, type KubeClients, translateKubeError } from './k8s';

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

/** What edgekeeper reads back from a node: its addresses and the records edgekeeper wrote on it. */
export interface NodeRecord {
  readonly name: string;
  readonly internalIps: readonly string[];
  readonly instanceId?: string;
  readonly managed: boolean;
  readonly kubeedgeVersion?: string;
}

/** Every node of the cluster as edgekeeper's records describe it. */
export async function listNodeRecords(kube: KubeClients): Promise<NodeRecord[]> {
  try {
    const { items } = await kube.core.listNode();
    return items.map((node) => ({
      name: node.metadata?.name ?? '',
      internalIps: internalIps(node),
      instanceId: node.metadata?.annotations?.[MANAGED_ANNOTATIONS.instanceId],
      managed: node.metadata?.labels?.[MANAGED_LABEL] === 'true',
      kubeedgeVersion: node.metadata?.annotations?.[MANAGED_ANNOTATIONS.kubeedgeVersion],
    }));
  } catch (error) {
    throw translateKubeError(error, 'listing nodes');
  }
}

/**
 * Whether KubeEdge's objects exist, and KubeSphere's edge-watcher-config when there is one. The namespace is read
 * only when none of the objects is there: an object exists only in a namespace that exists, so one request is
 * spared on every cluster that has KubeEdge.
 */
export async function readKubeEdgeObjects(kube: KubeClients) {
  const namespace = KUBEEDGE_NAMESPACE;
  const [cloudcore, tokenSecretPresent, edgeWatcher] = await Promise.all([
    // read whole: validation resolves the join settings from it, so that the workflow reads it once
    readConfigMap(kube, namespace, CLOUDCORE_CONFIGMAP),
    // Only existence matters here: the token itself is read when the script is sent.
    exists(
      () => kube.core.readNamespacedSecret({ name: TOKEN_SECRET, namespace }),
      `reading Secret ${namespace}/${TOKEN_SECRET}`,
    ),
    readConfigMap(kube, namespace, EDGE_WATCHER_CONFIGMAP),
  ]);
  const cloudcoreConfigPresent = cloudcore !== null;
  const kubeedgeNamespacePresent =
    cloudcoreConfigPresent ||
    tokenSecretPresent ||
    edgeWatcher !== null ||
    (await exists(() => kube.core.readNamespace({ name: namespace }), `reading namespace ${namespace}`));
  const data = edgeWatcher?.data;
  return {
    kubeedgeNamespacePresent,
    cloudcoreConfigPresent,
    tokenSecretPresent,
    edgeWatcherConfig: data ? { region: data.region ?? '', version: data.version ?? '', uri: data.uri } : null,
    /** the `cloudcore.yaml` key of cloudcore's ConfigMap, when it has one */
    cloudcoreYaml: cloudcore?.data?.['cloudcore.yaml'],
  };
}
