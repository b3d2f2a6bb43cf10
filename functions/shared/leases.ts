import type { V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound, type KubeClients, statusOf, translateKubeError } from './k8s';
import { type LeasePort, LOCK_NAMESPACE } from './node-lock';

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
        return await coordination.createNamespacedLease({ namespace, body: lease });
      } catch (error) {
        if (statusOf(error) === 409) return 'exists';
        throw translateKubeError(error, `creating Lease ${namespace}/${lease.metadata?.name}`);
      }
    },
    async replaceLease(lease: V1Lease) {
      const name = lease.metadata?.name ?? '';
      try {
        return await coordination.replaceNamespacedLease({ name, namespace, body: lease });
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
  };
}
