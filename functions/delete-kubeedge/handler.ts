import { z } from 'zod';
import { isNotFound, kubeClients, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { type DeleteOutcome, type UninstallPlan, uninstallReport } from '../shared/uninstall-plan';

const Input = z.object({
  operationId: z.string().min(1),
  plan: z.custom<UninstallPlan>((value) => typeof value === 'object' && value !== null && 'objects' in value),
  removedNodes: z.array(z.string()).default([]),
});

/**
 * Deletes every object of the KubeEdge release in the planned order (cluster-scoped ones included), then its
 * storage Secrets, then the namespace. Objects already gone count as such, so a rerun finishes what a failed run
 * began.
 */
export const handler = defineStep('DeleteKubeEdge', Input, async ({ plan, removedNodes }) => {
  const kube = await kubeClients(readSettings());
  const remove = async (describe: string, call: () => Promise<unknown>): Promise<DeleteOutcome> => {
    try {
      await call();
      return 'deleted';
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      throw translateKubeError(error, `deleting ${describe}`);
    }
  };
  const outcomes: DeleteOutcome[] = [];
  for (const ref of plan.objects) {
    const metadata = ref.namespace ? { name: ref.name, namespace: ref.namespace } : { name: ref.name };
    outcomes.push(
      await remove(`${ref.kind} ${ref.name}`, () =>
        kube.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata }),
      ),
    );
  }
  for (const name of plan.releaseSecrets.names) {
    await remove(`Secret ${name}`, () =>
      kube.core.deleteNamespacedSecret({ name, namespace: plan.releaseSecrets.namespace }),
    );
  }
  await remove(`namespace ${plan.namespace}`, () => kube.core.deleteNamespace({ name: plan.namespace }));
  return uninstallReport(plan, outcomes, removedNodes);
});
