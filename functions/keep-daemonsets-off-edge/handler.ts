import { defineClusterStep } from '../shared/cluster-step';
import { daemonSetPort, keepDaemonSetsOffEdge } from '../shared/daemonset-fence';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  dryRun: z.boolean(),
  /** the node being onboarded, for the logs; the step itself acts on every DaemonSet */
  nodeName: z.optional(z.string().check(z.minLength(1))),
});

/** Keeps every cloud DaemonSet off edge nodes (see `keepDaemonSetsOffEdge`); a dry run only reports. */
export const handler = defineClusterStep('KeepDaemonSetsOffEdge', Input, async ({ dryRun }) => {
  const settings = readSettings();
  const port = daemonSetPort(await kubeClients(settings));
  return keepDaemonSetsOffEdge(port, { allowlist: settings.daemonSetAllowlist }, dryRun);
});
