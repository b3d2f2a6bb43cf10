import * as z from 'zod';
import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { namespaceWaitPorts } from '../shared/uninstall-cluster';
import { checkNamespaceGone } from '../shared/uninstall-plan';

export { NamespaceStuckError } from '../shared/uninstall-plan';

const Input = z.object({
  operationId: z.string().min(1),
  namespace: z.string().min(1),
  startedAt: z.iso.datetime().nullable(),
  attempt: z.number().int().min(0),
});

/**
 * Waits, one check at a time, until the deleted KubeEdge namespace is really gone; then the uninstall record is
 * forgotten, so a finished uninstall leaves nothing behind.
 */
export const handler = defineClusterStep('CheckNamespaceGone', Input, async (input) => {
  const settings = readSettings();
  const ports = namespaceWaitPorts(await kubeClients(settings));
  const timeoutSeconds = settings.namespaceDeletionTimeoutSeconds;
  return checkNamespaceGone(ports, { ...input, timeoutSeconds, now: new Date() });
});
