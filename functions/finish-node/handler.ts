import { z } from 'zod';
import { readNode } from '../shared/cluster-reads';
import { EdgekeeperError } from '../shared/errors';
import { isConflict, jsonPatch, kubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { JoinSettings } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { finishNodePatch } from './core';

/** The node vanished between readiness and finishing: nothing to mark, the join did not hold. */
export class NodeVanishedError extends EdgekeeperError {
  override readonly name = 'NodeVanishedError';
}

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  instanceId: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  settings: JoinSettings,
});

const ATTEMPTS = 5;

export const handler = defineStep('FinishNode', Input, async ({ operationId, nodeName, instanceId, settings }) => {
  const kube = await kubeClients(readSettings());
  for (let attempt = 1; ; attempt++) {
    const node = await readNode(kube, nodeName);
    if (!node) throw new NodeVanishedError(`node ${nodeName} disappeared before it could be marked as managed`);
    const body = finishNodePatch(node, settings, instanceId, operationId);
    try {
      await kube.core.patchNode({ name: nodeName, body }, jsonPatch);
      return { nodeName, tainted: body.some((op) => op.path === '/spec/taints') };
    } catch (error) {
      // a failed resourceVersion test (422) or a conflict (409) means the node changed under us: read it again
      const raced = isConflict(error) || statusOf(error) === 422;
      if (!raced || attempt === ATTEMPTS) throw translateKubeError(error, `marking node ${nodeName}`);
    }
  }
});
