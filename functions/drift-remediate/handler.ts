import { REAL_CLOCK, routingCheckConfig, routingCheckPort } from '../drift-check-hosts/routing-port';
import { FindingCollector } from '../drift-findings/findings';
import { reportStoreFor } from '../drift-findings/store-for';
import { defineClusterStep } from '../shared/cluster-step';
import { daemonSetPort } from '../shared/daemonset-fence';
import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { remediateDrift } from './core';
import { restoreRouting } from './routing';

const Input = z.object({ operationId: z.string().check(z.minLength(1)) });

/** Fixes the safe drift (DaemonSet fences, stale locks, logs/exec routing); the fixes are stored for the report and summarised. */
export const handler = defineClusterStep('DriftRemediate', Input, async ({ operationId }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const store = reportStoreFor(settings);
  let page = 0;
  const collector = new FindingCollector('remediation', (findings) =>
    store.writePart(operationId, `fixes-${String(++page).padStart(5, '0')}`, findings),
  );
  await remediateDrift(
    { daemonSets: daemonSetPort(kube), locks: lockPorts(kube, settings) },
    { allowlist: settings.daemonSetAllowlist },
    collector,
    new Date(),
  );
  const routing = await routingCheckConfig(settings, kube);
  await restoreRouting(routingCheckPort(settings, kube), routing, operationId, collector, REAL_CLOCK);
  return collector.result();
});
