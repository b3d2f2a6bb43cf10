import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { parseRemoveNodeInput } from '../shared/remove-input';
import { readSettings } from '../shared/settings';
import { uninstallPlanPorts } from '../shared/uninstall-cluster';
import { planOrResumeUninstall } from '../shared/uninstall-plan';
import * as z from '../shared/zod';

const Input = z.object({ operationId: z.string().check(z.minLength(1)), request: z.unknown() });

/**
 * Plans the uninstall from what the cluster holds: the edge nodes (refused unless `force`), and the KubeEdge Helm
 * release read from its storage Secrets (no helm binary), or the plan an interrupted uninstall recorded. A cluster
 * without KubeEdge has nothing to uninstall, which makes a rerun harmless.
 */
export const handler = defineClusterStep('PlanUninstall', Input, async ({ request }) => {
  const parsed = parseRemoveNodeInput(request);
  if (parsed.mode !== 'uninstall') throw new Error('only uninstall requests are planned here');
  const settings = readSettings();
  return planOrResumeUninstall(uninstallPlanPorts(await kubeClients(settings)), {
    force: parsed.force,
    releaseName: parsed.release ?? settings.helmRelease,
  });
});
