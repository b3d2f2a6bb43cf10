import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import type { ExecutionStatus, ExecutionStatusPort, LeasePort, LockPorts } from '../../../functions/shared/node-lock';
import { matchesLabels, parseLabelSelector } from '../../../local/sandbox/cluster/selectors';

/**
 * An in-memory coordination.k8s.io Lease store with the API server's optimistic concurrency: every write bumps the
 * resourceVersion, a replace or delete with a stale one is a conflict, a create of an existing name answers
 * 'exists'. `beforeWrite` lets a test slip a concurrent writer in between the core's read and its write. Label
 * selectors are matched as the sandbox's API server matches them.
 */
export class FakeLeases implements LeasePort {
  readonly leases = new Map<string, V1Lease>();
  readonly writes: string[] = [];
  /** the names read one by one (`readLease`), in order */
  readonly reads: string[] = [];
  beforeWrite?: () => void;
  /** a cluster whose RBAC does not grant deletecollection yet */
  forbidDeleteCollection = false;
  private version = 0;

  put(lease: V1Lease): V1Lease {
    const stored = structuredClone(lease);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    this.leases.set(stored.metadata.name ?? '', stored);
    return structuredClone(stored);
  }

  holderOf(name: string): string | undefined {
    return this.leases.get(name)?.spec?.holderIdentity;
  }

  async readLease(name: string) {
    this.reads.push(name);
    const lease = this.leases.get(name);
    return lease ? structuredClone(lease) : null;
  }

  async createLease(lease: V1Lease) {
    this.writes.push(`create ${lease.metadata?.name}`);
    if (this.leases.has(lease.metadata?.name ?? '')) return 'exists' as const;
    return this.put({ ...lease, metadata: { ...lease.metadata, resourceVersion: undefined } });
  }

  async replaceLease(lease: V1Lease) {
    this.writes.push(`replace ${lease.metadata?.name}`);
    this.runConcurrentWriter();
    const current = this.leases.get(lease.metadata?.name ?? '');
    if (!current || current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) return 'conflict' as const;
    return this.put(lease);
  }

  async deleteLease(name: string, resourceVersion: string) {
    this.writes.push(`delete ${name}`);
    this.runConcurrentWriter();
    const current = this.leases.get(name);
    if (!current) return 'gone' as const;
    if (current.metadata?.resourceVersion !== resourceVersion) return 'conflict' as const;
    this.leases.delete(name);
    return 'deleted' as const;
  }

  async deleteLeases(labelSelector: string) {
    this.writes.push(`deletecollection ${labelSelector}`);
    if (this.forbidDeleteCollection) return 'forbidden' as const;
    this.runConcurrentWriter();
    const requirements = parseLabelSelector(labelSelector);
    const deleted = [...this.leases.values()]
      .filter((lease) => matchesLabels(requirements, lease.metadata?.labels))
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    for (const lease of deleted) this.leases.delete(lease.metadata?.name ?? '');
    return deleted.map((lease) => structuredClone(lease));
  }

  async listLeases() {
    return [...this.leases.values()]
      .filter((lease) => lease.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'edgekeeper')
      .map((lease) => structuredClone(lease));
  }

  private runConcurrentWriter() {
    const writer = this.beforeWrite;
    this.beforeWrite = undefined;
    writer?.();
  }
}

/** Execution statuses by ARN; an ARN it was not told about is `unknown`, as for a holder nobody can read. */
export class FakeExecutions implements ExecutionStatusPort {
  readonly statuses = new Map<string, ExecutionStatus>();
  readonly asked: string[] = [];

  set(arn: string, status: ExecutionStatus): this {
    this.statuses.set(arn, status);
    return this;
  }

  async statusOf(holderId: string) {
    this.asked.push(holderId);
    return this.statuses.get(holderId) ?? 'unknown';
  }
}

export function fakePorts(): LockPorts & { leases: FakeLeases; executions: FakeExecutions } {
  return { leases: new FakeLeases(), executions: new FakeExecutions() };
}

const PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution';

/** An execution ARN as `$$.Execution.Id` gives it. */
export function onboardArn(name: string): string {
  return `${PREFIX}:edgekeeper-onboard-node:${name}`;
}

export function removeArn(name: string): string {
  return `${PREFIX}:edgekeeper-remove-node:${name}`;
}

/** The holder label edgekeeper writes on a lock Lease: 40 hex digits of the holder's SHA-256. */
export function holderHash(holder: string): string {
  return createHash('sha256').update(holder).digest('hex').slice(0, 40);
}

/** A lock Lease as edgekeeper writes it, for arranging a cluster's state. */
export function lockLease(
  name: string,
  holder: string,
  options: {
    kind?: string;
    since: Date;
    durationSeconds?: number;
    renewed?: Date;
    nodeName?: string;
    instanceId?: string;
    nodeIp?: string;
  },
): V1Lease {
  const annotations: Record<string, string> = {};
  if (options.nodeName) annotations['edgekeeper.io/node-name'] = options.nodeName;
  if (options.instanceId) annotations['edgekeeper.io/instance-id'] = options.instanceId;
  if (options.nodeIp) annotations['edgekeeper.io/node-ip'] = options.nodeIp;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: 'kube-system',
      labels: {
        'app.kubernetes.io/managed-by': 'edgekeeper',
        ...(options.kind ? { 'edgekeeper.io/lock': options.kind } : {}),
        'edgekeeper.io/holder': holderHash(holder),
      },
      annotations,
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: options.durationSeconds ?? 300,
      acquireTime: options.since,
      renewTime: options.renewed ?? options.since,
    },
  };
}
