import { z } from 'zod';
import { listNodeRecords, readKubeEdgeObjects } from '../shared/cluster-reads';
import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { viewLease } from '../shared/node-lock';
import { readSettings } from '../shared/settings';
import { describeInstance } from '../shared/ssm';
import { defineStep } from '../shared/step';
import { checkOnboardRequest, type ValidationPorts } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  request: z.unknown(),
  /** the running execution (`$$.Execution.Id`): its own Leases, if a retry finds any, are no conflict */
  execution: z.object({ id: z.string().min(1) }).optional(),
});

/**
 * Validates the request against the nodes, KubeEdge's objects, the lock Leases and the SSM inventory, and tells
 * the workflow whether the node is new, already joined (skip the join), or half-joined by a crashed run (join
 * again and finish it).
 */
export const handler = defineStep('ValidateOnboardRequest', Input, async ({ request, execution }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const locks = lockPorts(kube);
  const ports: ValidationPorts = {
    listNodes: () => listNodeRecords(kube),
    kubeedgeObjects: () => readKubeEdgeObjects(kube),
    describeHost: (instanceId) => describeInstance(settings, instanceId),
    listClaims: async () => {
      const now = new Date();
      return Promise.all((await locks.leases.listLeases()).map((lease) => viewLease(locks, lease, now)));
    },
  };
  return checkOnboardRequest(request, ports, { holder: execution?.id });
});
