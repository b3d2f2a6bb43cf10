import type { V1Lease } from '@kubernetes/client-node';
import { EdgekeeperError } from './errors';

/** Leases live beside other cluster-wide coordination objects; one per node name, prefixed to avoid clashes. */
export const LOCK_NAMESPACE = 'kube-system';

export function lockName(nodeName: string): string {
  return `edgekeeper-node-${nodeName}`;
}

/** The narrow Kubernetes port the lock needs: coordination.k8s.io/v1 Leases. */
export interface LeasePort {
  readLease(name: string): Promise<V1Lease | null>;
  /** fails with an AlreadyExists conflict when the Lease exists */
  createLease(lease: V1Lease): Promise<V1Lease | 'exists'>;
  /** fails with 'conflict' when the resourceVersion is stale */
  replaceLease(lease: V1Lease): Promise<V1Lease | 'conflict'>;
  deleteLease(name: string, resourceVersion: string): Promise<'deleted' | 'gone' | 'conflict'>;
}

/** Another operation holds the node; the message says which, since when, and when its claim expires. */
export class NodeLockedError extends EdgekeeperError {
  override readonly name = 'NodeLockedError';
}

export interface LockRequest {
  readonly nodeName: string;
  /** the operation taking the lock; a rollback passes the operation it rolls back, which already holds it */
  readonly holder: string;
  readonly durationSeconds: number;
  readonly now: Date;
}

/**
 * Takes the node's Lease for `holder`. Idempotent for the same holder (a retried step must not lock itself out);
 * an expired Lease is taken over, so a workflow that died does not block the node for ever.
 */
export async function acquireNodeLock(port: LeasePort, request: LockRequest): Promise<'acquired' | 'held'> {
  const name = lockName(request.nodeName);
  const created = await port.createLease(leaseFor(name, request));
  if (created !== 'exists') return 'acquired';
  const current = await port.readLease(name);
  if (!current) return acquireNodeLock(port, request);
  const holder = current.spec?.holderIdentity;
  if (holder === request.holder) {
    // Renew: a rollback adopting its onboarding's lock must not find it expiring under its feet.
    const renewed = {
      ...current,
      spec: { ...current.spec, renewTime: request.now, leaseDurationSeconds: request.durationSeconds },
    };
    if ((await port.replaceLease(renewed)) === 'conflict') {
      throw new NodeLockedError(`nodeName ${request.nodeName} changed hands while its lock was being renewed`);
    }
    return 'held';
  }
  if (!isExpired(current, request.now)) {
    throw new NodeLockedError(
      `nodeName ${request.nodeName} is locked by operation ${holder ?? 'unknown'} ` +
        `since ${isoOf(current.spec?.acquireTime)} until ${isoOf(expiryOf(current))}; try again after it finishes`,
    );
  }
  const replaced = await port.replaceLease({ ...leaseFor(name, request), metadata: { ...current.metadata, name } });
  if (replaced === 'conflict') {
    throw new NodeLockedError(`nodeName ${request.nodeName} was locked by another operation at the same moment`);
  }
  return 'acquired';
}

/** Releases the node's Lease if `holder` holds it; anything else (no Lease, another holder) is left alone. */
export async function releaseNodeLock(
  port: LeasePort,
  nodeName: string,
  holder: string,
): Promise<'released' | 'not-held'> {
  const current = await port.readLease(lockName(nodeName));
  if (!current || current.spec?.holderIdentity !== holder) return 'not-held';
  const deleted = await port.deleteLease(lockName(nodeName), current.metadata?.resourceVersion ?? '');
  return deleted === 'conflict' ? 'not-held' : 'released';
}

function leaseFor(name: string, request: LockRequest): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: LOCK_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'edgekeeper' },
      annotations: { 'edgekeeper.io/node-name': request.nodeName },
    },
    spec: {
      holderIdentity: request.holder,
      leaseDurationSeconds: request.durationSeconds,
      acquireTime: request.now,
      renewTime: request.now,
    },
  };
}

function expiryOf(lease: V1Lease): Date | undefined {
  const since = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const seconds = lease.spec?.leaseDurationSeconds;
  if (!since || seconds === undefined) return undefined;
  return new Date(new Date(since).getTime() + seconds * 1000);
}

function isExpired(lease: V1Lease, now: Date): boolean {
  const expiry = expiryOf(lease);
  return expiry === undefined || expiry.getTime() <= now.getTime();
}

function isoOf(date: Date | string | undefined): string {
  return date ? new Date(date).toISOString() : 'an unknown time';
}
