import { defineLockStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { lockPorts, nodeDirectoryPort } from '../shared/leases';
import { acquireNodeLocks, acquireUninstallLock } from '../shared/node-lock';
import { readSettings } from '../shared/settings';
import { LockStepInput } from './input';

/**
 * Takes the Leases of the operation: node name, instance and IP (all or none) for a node operation, the cluster-wide
 * one for an uninstall. A rollback child runs under its parent's Leases; onboarding also re-checks, under the lock,
 * that no uninstall runs and that no other node has the name, IP or instance.
 */
export const handler = defineLockStep('LockNode', LockStepInput, async (input) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const ports = lockPorts(kube, settings);
  const timing = { holder: input.executionId, durationSeconds: settings.lockDurationSeconds, now: new Date() };
  if (input.purpose === 'uninstall') return acquireUninstallLock(ports, timing);
  return acquireNodeLocks(ports, {
    ...timing,
    nodeName: input.nodeName,
    instanceId: input.instanceId,
    nodeIp: input.nodeIp,
    onboarding: input.purpose === 'onboard' ? { nodes: nodeDirectoryPort(kube) } : undefined,
  });
});
