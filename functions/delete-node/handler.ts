import { z } from 'zod';
import { isNotFound, kubeClients, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

const Input = z.object({ operationId: z.string().min(1), nodeName: z.string().min(1) });

/** Deletes the Node object (`kubectl delete node`); one that is already gone is nothing to do. */
export const handler = defineStep('DeleteNode', Input, async ({ nodeName }) => {
  const kube = await kubeClients(readSettings());
  try {
    await kube.core.deleteNode({ name: nodeName });
    return { outcome: { step: 'delete-node', result: 'done', detail: `deleted node ${nodeName}` } };
  } catch (error) {
    if (isNotFound(error))
      return { outcome: { step: 'delete-node', result: 'nothing-to-do', detail: `node ${nodeName} was already gone` } };
    throw translateKubeError(error, `deleting node ${nodeName}`);
  }
});
