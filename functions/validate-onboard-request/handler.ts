import { z } from 'zod';
import {
  CLOUDCORE_CONFIGMAP,
  EDGE_WATCHER_CONFIGMAP,
  exists,
  internalIps,
  KUBEEDGE_NAMESPACE,
  MANAGED_ANNOTATIONS,
  readConfigMap,
  TOKEN_SECRET,
} from '../shared/cluster-reads';
import { type KubeClients, kubeClients, translateKubeError } from '../shared/k8s';
import { instanceIdRule } from '../shared/schemas';
import { readSettings, type Settings } from '../shared/settings';
import { describeInstance } from '../shared/ssm-inventory';
import { defineStep } from '../shared/step';
import { type ObservedCluster, validateOnboardRequest } from './core';

const Input = z.object({ operationId: z.string().min(1), request: z.unknown() });

/**
 * Gathers what the rules need (nodes, KubeEdge objects, the SSM inventory) and validates the request. A node of
 * the same name that edgekeeper already joined from the same host with the same IP is not a conflict: the request
 * already succeeded once, and the workflow skips the join instead of failing.
 */
export const handler = defineStep('ValidateOnboardRequest', Input, async ({ request }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const fields = (request ?? {}) as { nodeName?: unknown; nodeIp?: unknown; instanceId?: unknown };
  const nodes = await listNodes(kube);
  const sameRequest = nodes.find(
    (node) =>
      node.name === fields.nodeName &&
      node.internalIps.includes(String(fields.nodeIp)) &&
      node.instanceId === fields.instanceId,
  );
  const observed: ObservedCluster = {
    nodes: nodes.filter((node) => node !== sameRequest),
    ...(await kubeedgeObjects(kube)),
    ssmInstance: await describeHost(settings, fields.instanceId),
  };
  const valid = validateOnboardRequest(request, observed);
  return { request: { ...valid, labels: valid.labels ?? {} }, alreadyJoined: sameRequest !== undefined };
});

async function listNodes(kube: KubeClients) {
  try {
    const { items } = await kube.core.listNode();
    return items.map((node) => ({
      name: node.metadata?.name ?? '',
      internalIps: internalIps(node),
      instanceId: node.metadata?.annotations?.[MANAGED_ANNOTATIONS.instanceId],
    }));
  } catch (error) {
    throw translateKubeError(error, 'listing nodes');
  }
}

async function kubeedgeObjects(kube: KubeClients) {
  const namespace = KUBEEDGE_NAMESPACE;
  const [kubeedgeNamespacePresent, cloudcoreConfigPresent, tokenSecretPresent, edgeWatcher] = await Promise.all([
    exists(() => kube.core.readNamespace({ name: namespace }), `reading namespace ${namespace}`),
    exists(
      () => kube.core.readNamespacedConfigMap({ name: CLOUDCORE_CONFIGMAP, namespace }),
      `reading ConfigMap ${namespace}/${CLOUDCORE_CONFIGMAP}`,
    ),
    // Only existence matters here: the token itself is read when the script is sent.
    exists(
      () => kube.core.readNamespacedSecret({ name: TOKEN_SECRET, namespace }),
      `reading Secret ${namespace}/${TOKEN_SECRET}`,
    ),
    readConfigMap(kube, namespace, EDGE_WATCHER_CONFIGMAP),
  ]);
  const data = edgeWatcher?.data;
  return {
    kubeedgeNamespacePresent,
    cloudcoreConfigPresent,
    tokenSecretPresent,
    edgeWatcherConfig: data ? { region: data.region ?? '', version: data.version ?? '', uri: data.uri } : null,
  };
}

/** The host as SSM sees it; null when it is not a registered managed instance. */
async function describeHost(settings: Settings, instanceId: unknown) {
  // A malformed id is reported by the rules; asking SSM about it would only add a second, vaguer error.
  if (typeof instanceId !== 'string' || instanceIdRule(instanceId) !== undefined) return null;
  return describeInstance(settings, instanceId);
}
