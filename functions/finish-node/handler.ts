import { readNode } from '../shared/cluster-reads';
import { defineClusterStep } from '../shared/cluster-step';
import { JoinSettings } from '../shared/join-settings/schema';
import { isConflict, jsonPatch, kubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { finishNode, type NodePort, nodeAsSeen } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  /** null for a manual join: no SSM instance backs the node */
  instanceId: z.nullable(z.string().check(z.minLength(1))),
  settings: JoinSettings,
  /** the node as the readiness check last saw it; null or absent (a rerun) reads it */
  seen: z.nullish(
    z.object({
      resourceVersion: z.string().check(z.minLength(1)),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()),
      taints: z.array(z.object({ key: z.string(), value: z.optional(z.string()), effect: z.string() })),
    }),
  ),
});

/**
 * Marks the joined node as edgekeeper's and applies the request's labels and taint to it, declaratively: a rerun
 * with other labels or without the taint converges the node to it.
 */
export const handler = defineClusterStep(
  'FinishNode',
  Input,
  async ({ operationId, nodeName, instanceId, settings, seen }) => {
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
    return finishNode(port, { nodeName, instanceId, operationId, settings }, seen && nodeAsSeen(seen));
  },
);
