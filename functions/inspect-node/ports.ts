import { internalIps, listNodeRecords, readNode } from '../shared/cluster-reads';
import type { KubeClients } from '../shared/k8s';
import { findOwnership, leasesFor } from '../shared/leases';
import type { Settings } from '../shared/settings';
import { describeInstance } from '../shared/ssm';
import type { InspectPorts } from './core';

/** The inspection's ports over the Kubernetes API, the lock Leases and SSM's managed-instance inventory. */
export function inspectPorts(kube: KubeClients, settings: Settings): InspectPorts {
  return {
    readNode: async (name) => {
      const node = await readNode(kube, name);
      return node && { ...node, internalIps: internalIps(node) };
    },
    ownershipOf: (name) => findOwnership(kube, name),
    otherClaimsOn: async (instanceId, name) => {
      const [nodes, leases] = await Promise.all([listNodeRecords(kube), leasesFor(kube, { instanceId })]);
      const names = [
        ...nodes.filter((other) => other.instanceId === instanceId).map((other) => other.name),
        ...leases.map((lease) => lease.nodeName ?? ''),
      ];
      return [...new Set(names)].filter((other) => other !== '' && other !== name).sort();
    },
    pingStatusOf: async (instanceId) => (await describeInstance(settings, instanceId))?.pingStatus,
  };
}
