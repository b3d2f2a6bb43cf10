import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { RecordedPlan, uninstallDeletePorts } from '../shared/uninstall-cluster';
import { deleteRelease } from '../shared/uninstall-plan';
import * as z from '../shared/zod';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  // checked as the uninstall record is: it is recorded as it is
  plan: RecordedPlan,
  removedNodes: z._default(z.array(z.string()), []),
});

/**
 * Records the plan (so a rerun can finish even once the release Secrets are gone), then deletes every object of
 * the KubeEdge release in the planned order (cluster-scoped ones included), its storage Secrets, then the
 * namespace. Objects already gone count as such.
 */
export const handler = defineClusterStep('DeleteKubeEdge', Input, async ({ plan, removedNodes }) => {
  const kube = await kubeClients(readSettings());
  return deleteRelease(uninstallDeletePorts(kube), plan, removedNodes);
});
