import { z } from 'zod';
import { readNode } from '../shared/cluster-reads';
import { isConflict, jsonPatch, kubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { JoinSettings } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { finishNode, type NodePort } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  /** null for a manual join: no SSM instance backs the node */
  instanceId: z.string().min(1).nullable(),
  settings: JoinSettings,
});

/**
 * Marks the joined node as edgekeeper's and applies the request's labels and taint to it, declaratively: a rerun
 * with other labels or without the taint converges the node to it.
 */
export const handler = defineStep('FinishNode', Input, async ({ operationId, nodeName, instanceId, settings }) => {
  const kube = await kubeClients(readSettings());
  const port: NodePort = {
    readNode: (name) => readNode(kube, name),
    async patchNode(name, body) {
      try {
        await kube.core.patchNode({ name, body: [...body] }, jsonPatch);
        return 'patched';
      } catch (error) {
        // a failed resourceVersion test (422) or a conflict (409): the node changed since it was read
        if (isConflict(error) || statusOf(error) === 422) return 'conflict';
        throw translateKubeError(error, `marking node ${name}`);
      }
    },
  };
  return finishNode(port, { nodeName, instanceId, operationId, settings });
});
