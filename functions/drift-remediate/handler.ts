import { z } from 'zod';
import { FindingCollector } from '../drift-findings/findings';
import { reportStoreFor } from '../drift-findings/store-for';
import { daemonSetPort } from '../shared/daemonset-fence';
import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { remediateDrift } from './core';

const Input = z.object({ operationId: z.string().min(1) });

/** Fixes the safe drift (DaemonSet fences, stale locks); the fixes are stored for the report and summarised. */
export const handler = defineStep('DriftRemediate', Input, async ({ operationId }) => {
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
  if (settings.routingEnabled) collector.note('logs/exec routing is on: restoring it is not built yet');
  return collector.result();
});
