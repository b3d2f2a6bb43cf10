import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { namespaceWaitPorts } from '../shared/uninstall-cluster';
import { checkNamespaceGone } from '../shared/uninstall-plan';
import * as z from '../shared/zod';

export { NamespaceStuckError } from '../shared/uninstall-plan';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  namespace: z.string().check(z.minLength(1)),
  startedAt: z.nullable(z.iso.datetime()),
  attempt: z.int().check(z.minimum(0)),
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
