import { listNodeRecords, readKubeEdgeObjects } from '../shared/cluster-reads';
import { defineClusterStep } from '../shared/cluster-step';
import { joinSettingsOf } from '../shared/join-settings/cluster';
import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { viewLease } from '../shared/node-lock';
import { readSettings } from '../shared/settings';
import { describeInstance } from '../shared/ssm';
import * as z from '../shared/zod';
import { checkOnboardRequest, type ValidationPorts } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  request: z.unknown(),
  /** the running execution (`$$.Execution.Id`): its own Leases, if a retry finds any, are no conflict */
  execution: z.optional(z.object({ id: z.string().check(z.minLength(1)) })),
});

/**
 * Validates the request against the nodes, KubeEdge's objects, the lock Leases and the SSM inventory, and tells
 * the workflow whether the node is new, already joined (skip the join), or half-joined by a crashed run (join
 * again and finish it), and resolves the join settings.
 */
export const handler = defineClusterStep('ValidateOnboardRequest', Input, async ({ request, execution }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const locks = lockPorts(kube);
  let kubeedge: Awaited<ReturnType<typeof readKubeEdgeObjects>> | undefined;
  const ports: ValidationPorts = {
    listNodes: () => listNodeRecords(kube),
    kubeedgeObjects: async () => {
      kubeedge = await readKubeEdgeObjects(kube);
      return kubeedge;
    },
    describeHost: (instanceId) => describeInstance(settings, instanceId),
    listClaims: async () => {
      const now = new Date();
      return Promise.all((await locks.leases.listLeases()).map((lease) => viewLease(locks, lease, now)));
    },
  };
  const decision = await checkOnboardRequest(request, ports, { holder: execution?.id });
  // resolved from the ConfigMaps validation has just read, so that the workflow never reads them a second time
  return { ...decision, join: { settings: joinSettingsOf(settings, decision.request, kubeedge ?? {}) } };
});
