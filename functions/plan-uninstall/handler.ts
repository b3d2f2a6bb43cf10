import { z } from 'zod';
import { exists } from '../shared/cluster-reads';
import type { SecretLike } from '../shared/helm-release';
import { kubeClients, translateKubeError } from '../shared/k8s';
import { parseRemoveNodeInput } from '../shared/remove-input';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { KUBEEDGE_NAMESPACE, planUninstall } from '../shared/uninstall-plan';

const Input = z.object({ operationId: z.string().min(1), request: z.unknown() });

/**
 * Plans the uninstall from what the cluster holds: the edge nodes (refused unless `force`), and the KubeEdge Helm
 * release read from its storage Secrets — no helm binary. A cluster without KubeEdge has nothing to uninstall,
 * which makes a rerun harmless.
 */
export const handler = defineStep('PlanUninstall', Input, async ({ request }) => {
  const parsed = parseRemoveNodeInput(request);
  if (parsed.mode !== 'uninstall') throw new Error('only uninstall requests are planned here');
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const namespace = KUBEEDGE_NAMESPACE;
  try {
    const [nodes, secrets, namespacePresent] = await Promise.all([
      kube.core.listNode({ labelSelector: 'node-role.kubernetes.io/edge' }),
      kube.core.listNamespacedSecret({ namespace, labelSelector: 'owner=helm' }),
      exists(() => kube.core.readNamespace({ name: namespace }), `reading namespace ${namespace}`),
    ]);
    if (!namespacePresent && secrets.items.length === 0) return { installed: false, plan: null };
    const plan = planUninstall({
      edgeNodes: nodes.items.map((node) => node.metadata?.name ?? ''),
      releaseSecrets: secrets.items as SecretLike[],
      force: parsed.force,
      releaseName: parsed.release ?? settings.helmRelease,
    });
    return { installed: true, plan };
  } catch (error) {
    throw translateKubeError(error, 'planning the KubeEdge uninstall');
  }
});
