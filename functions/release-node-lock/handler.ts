import { ReleaseStepInput } from '../lock-node/input';
import { defineLockStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { leasePort } from '../shared/leases';
import { handOverNodeLocks, releaseNodeLocks, releaseUninstallLock } from '../shared/node-lock';
import { readSettings } from '../shared/settings';

/**
 * Releases the Leases this execution holds: every one recorded for the node (name, instance, IP), or the uninstall
 * Lease. A rollback child leaves its parent's Leases to the parent (`kept-for-parent`). With `handOver`, a failing
 * onboarding keeps its Leases but hands them to its rollback child, the one execution that may then work under them.
 */
export const handler = defineLockStep('ReleaseNodeLock', ReleaseStepInput, async (input) => {
  const leases = leasePort(await kubeClients(readSettings()));
  if (input.purpose === 'uninstall') return releaseUninstallLock(leases, input.executionId);
  const request = {
    holder: input.executionId,
    nodeName: input.nodeName,
    instanceId: input.instanceId,
    nodeIp: input.nodeIp,
  };
  return input.handOver ? handOverNodeLocks(leases, request) : releaseNodeLocks(leases, request, input.taken);
});
