import { FindingCollector } from '../drift-findings/findings';
import { reportStoreFor } from '../drift-findings/store-for';
import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { checkCluster } from './core';
import { clusterReadPort } from './ports';

const Input = z.object({ operationId: z.string().check(z.minLength(1)) });

/** Checks the cluster for drift; the findings are stored page by page and summarised in the result. */
export const handler = defineClusterStep('DriftCheckCluster', Input, async ({ operationId }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const store = reportStoreFor(settings);
  let page = 0;
  const collector = new FindingCollector('cluster', (findings) =>
    store.writePart(operationId, `cluster-${String(++page).padStart(5, '0')}`, findings),
  );
  await checkCluster(
    clusterReadPort(kube),
    lockPorts(kube, settings),
    { allowlist: settings.daemonSetAllowlist },
    collector,
    new Date(),
  );
  return collector.result();
});
