import type { V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node/dist/types.js';
import { INSTANCE_ID_ANNOTATION, LOCK_NAMESPACE } from './domain';
import { executionStatusPort } from './executions';
import { isConflict, isNotFound, type KubeClients, kubeClients, statusOf, translateKubeError } from './k8s';
import {
  findOwnership as findOwnershipWith,
  type LeasePort,
  type LeaseView,
  type LockPorts,
  leasesFor as leasesForWith,
  MANAGED_BY_SELECTOR,
  type NodeDirectoryPort,
  type Ownership,
  renewHeldLocks,
} from './node-lock';
import { logger } from './powertools';
import { readSettings, type Settings } from './settings';

/**
 * The Lease as the API server decodes it: `acquireTime` and `renewTime` are MicroTimes, which it parses with six
 * fraction digits and nothing else, and a Date would go out as `toISOString()` writes it, with three (HTTP 400).
 * client-node's V1MicroTime writes six; the serializer passes the type through, as client-node's own does.
 */
function withMicroTimes(lease: V1Lease): V1Lease {
  if (!lease.spec) return lease;
  const micro = (time: Date | undefined) => (time instanceof Date ? new V1MicroTime(time.getTime()) : time);
  return {
    ...lease,
    spec: { ...lease.spec, acquireTime: micro(lease.spec.acquireTime), renewTime: micro(lease.spec.renewTime) },
  };
}

/** The Lease port over the real coordination.k8s.io/v1 API; optimistic concurrency maps to 'conflict'. */
export function leasePort({ coordination }: KubeClients): LeasePort {
  const namespace = LOCK_NAMESPACE;
  return {
    async readLease(name) {
      try {
        return await coordination.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (isNotFound(error)) return null;
        throw translateKubeError(error, `reading Lease ${namespace}/${name}`);
      }
    },
    async createLease(lease: V1Lease) {
      try {
        return await coordination.createNamespacedLease({ namespace, body: withMicroTimes(lease) });
      } catch (error) {
        if (statusOf(error) === 409) return 'exists';
        throw translateKubeError(error, `creating Lease ${namespace}/${lease.metadata?.name}`);
      }
    },
    async replaceLease(lease: V1Lease) {
      const name = lease.metadata?.name ?? '';
      try {
        return await coordination.replaceNamespacedLease({ name, namespace, body: withMicroTimes(lease) });
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return 'conflict';
        throw translateKubeError(error, `replacing Lease ${namespace}/${name}`);
      }
    },
    async deleteLease(name, resourceVersion) {
      try {
        await coordination.deleteNamespacedLease({ name, namespace, body: { preconditions: { resourceVersion } } });
        return 'deleted';
      } catch (error) {
        if (isNotFound(error)) return 'gone';
        if (isConflict(error)) return 'conflict';
        throw translateKubeError(error, `deleting Lease ${namespace}/${name}`);
      }
    },
    async deleteLeases(labelSelector) {
      try {
        // one deletecollection; the API server answers the Leases it selected, every one of them now gone
        const { items } = await coordination.deleteCollectionNamespacedLease({ namespace, labelSelector });
        return items;
      } catch (error) {
        if (statusOf(error) === 403) {
          // a cluster whose RBAC predates the verb: the release lists instead, one request per Lease
          logger.warn('the cluster identity may not deletecollection Leases: apply deploy/rbac.yaml again', {
            namespace,
          });
          return 'forbidden';
        }
        throw translateKubeError(error, `deleting the Leases ${labelSelector} in ${namespace}`);
      }
    },
    async listLeases() {
      try {
        // By the managed-by label, not the lock-kind one: Leases written before keys had kinds are locks too.
        const { items } = await coordination.listNamespacedLease({ namespace, labelSelector: MANAGED_BY_SELECTOR });
        return items;
      } catch (error) {
        throw translateKubeError(error, `listing the lock Leases in ${namespace}`);
      }
    },
  };
}

/** The nodes as the uniqueness re-check under the lock needs them. */
export function nodeDirectoryPort({ core }: KubeClients): NodeDirectoryPort {
  return {
    async listNodes() {
      try {
        const { items } = await core.listNode();
        return items.map((node) => ({
          name: node.metadata?.name ?? '',
          internalIps: (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
          instanceId: node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION],
        }));
      } catch (error) {
        throw translateKubeError(error, 'listing nodes');
      }
    },
  };
}

/**
 * The ports of the locks for the current environment: the cluster's Leases, and the execution status from the
 * local runtime's registry when it gave one (`EDGEKEEPER_LOCAL_EXECUTIONS_DIR`), else from Step Functions.
 */
export function lockPorts(
  kube: KubeClients,
  settings: Pick<Settings, 'localExecutionsDir'> = readSettings(),
): LockPorts {
  return { leases: leasePort(kube), executions: executionStatusPort(settings.localExecutionsDir) };
}

/** What a node name owns according to the lock Leases (instance, IP, holders and whether they still run). */
export function findOwnership(kube: KubeClients, nodeName: string): Promise<Ownership | null> {
  return findOwnershipWith(lockPorts(kube), nodeName);
}

/** The lock Leases that record an instance or an IP, for whichever node name. */
export function leasesFor(
  kube: KubeClients,
  what: { readonly instanceId: string } | { readonly nodeIp: string },
): Promise<LeaseView[]> {
  return leasesForWith(lockPorts(kube), what);
}

/**
 * Renews the Leases the running execution holds. Every step of a holder may call it with `$$.Execution.Id`; it
 * never fails the step (a renewal that does not happen only shortens the time a silent death blocks the node,
 * and a live holder's Lease is kept by its status, not by its expiry).
 * @returns the names of the Leases renewed
 */
export async function renewLocks(executionId: string): Promise<string[]> {
  try {
    const settings = readSettings();
    return await renewHeldLocks(leasePort(await kubeClients(settings)), {
      holder: executionId,
      durationSeconds: settings.lockDurationSeconds,
      now: new Date(),
    });
  } catch (error) {
    logger.warn('could not renew the locks of this execution', {
      executionId,
      errorName: error instanceof Error ? error.name : 'Error',
      errorMessage: error instanceof Error ? error.message : String(error),
    });
    return [];
  }
}
