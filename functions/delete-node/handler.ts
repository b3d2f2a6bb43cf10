import { readNode } from '../shared/cluster-reads';
import { defineClusterStep } from '../shared/cluster-step';
import { isNotFound, kubeClients, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { type DeleteOutcome, manualJoinDeletion } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  /**
   * Delete the node only when it reports this InternalIP: a failed manual join removes the node its command
   * registered (its name, its IP), never one that someone else registered under the name meanwhile.
   */
  onlyWithInternalIp: z.optional(z.string().check(z.minLength(1))),
});

/** Deletes the Node object (`kubectl delete node`); one that is already gone is nothing to do. */
export const handler = defineClusterStep(
  'DeleteNode',
  Input,
  async ({ nodeName, onlyWithInternalIp }): Promise<{ outcome: DeleteOutcome }> => {
    const kube = await kubeClients(readSettings());
    if (onlyWithInternalIp !== undefined) {
      const decision = manualJoinDeletion(nodeName, await readNode(kube, nodeName), onlyWithInternalIp);
      if (decision !== 'delete') return { outcome: decision };
    }
    try {
      await kube.core.deleteNode({ name: nodeName });
      return { outcome: { step: 'delete-node', result: 'done', detail: `deleted node ${nodeName}` } };
    } catch (error) {
      if (isNotFound(error))
        return {
          outcome: { step: 'delete-node', result: 'nothing-to-do', detail: `node ${nodeName} was already gone` },
        };
      throw translateKubeError(error, `deleting node ${nodeName}`);
    }
  },
);
