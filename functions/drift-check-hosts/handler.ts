import { FindingCollector, PAGE_SIZE } from '../drift-findings/findings';
import { reportStoreFor } from '../drift-findings/store-for';
import { defineClusterStep } from '../shared/cluster-step';
import { EDGE_ROLE_LABEL, MANAGED_ANNOTATIONS, MANAGED_LABEL } from '../shared/domain';
import { kubeClients, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { describeInstances, listTaggedInstances } from '../shared/ssm';
import * as z from '../shared/zod';
import { checkHosts, type HostCheckPort } from './core';
import { checkRouting } from './routing';
import { REAL_CLOCK, routingCheckConfig, routingCheckPort } from './routing-port';

const Input = z.object({ operationId: z.string().check(z.minLength(1)) });

/** Compares the managed edge nodes with SSM's inventory and, routing on, with the cloud hosts' rules; findings stored page by page, summarised in the result. */
export const handler = defineClusterStep('DriftCheckHosts', Input, async ({ operationId }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const { core } = kube;
  const store = reportStoreFor(settings);
  let page = 0;
  const collector = new FindingCollector('hosts', (findings) =>
    store.writePart(operationId, `hosts-${String(++page).padStart(5, '0')}`, findings),
  );
  const port: HostCheckPort = {
    async listManagedNodes(token) {
      try {
        const answer = await core.listNode({
          labelSelector: `${EDGE_ROLE_LABEL},${MANAGED_LABEL}=true`,
          limit: PAGE_SIZE,
          _continue: token,
        });
        return {
          items: answer.items.flatMap((node) => {
            const instanceId = node.metadata?.annotations?.[MANAGED_ANNOTATIONS.instanceId];
            return instanceId ? [{ name: node.metadata?.name ?? '', instanceId }] : [];
          }),
          continue: answer.metadata?._continue,
        };
      } catch (error) {
        throw translateKubeError(error, 'listing managed edge nodes');
      }
    },
    describeInstances: (ids) => describeInstances(settings, ids),
    listTaggedInstances: (token) => listTaggedInstances(settings, settings.edgeHostTag, token),
  };
  await checkHosts(port, settings.edgeHostTag, collector);
  const routing = await routingCheckConfig(settings, kube);
  await checkRouting(routingCheckPort(settings, kube), routing, collector, REAL_CLOCK);
  return collector.result();
});
