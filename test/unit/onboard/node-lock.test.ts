import type { V1Lease } from '@kubernetes/client-node';
import {
  acquireNodeLock,
  type LeasePort,
  LOCK_NAMESPACE,
  type LockRequest,
  lockName,
  NodeLockedError,
  releaseNodeLock,
} from '../../../functions/shared/node-lock';
import { caught } from '../../support/thrown';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/**
 * An in-memory coordination.k8s.io Lease store with the API server's optimistic concurrency: every write bumps the
 * resourceVersion, a replace or delete with a stale one is a conflict. `beforeWrite` lets a test slip a concurrent
 * writer in between the core's read and its write.
 */
class FakeLeases implements LeasePort {
  readonly leases = new Map<string, V1Lease>();
  readonly writes: string[] = [];
  beforeWrite?: () => void;
  private version = 0;

  put(lease: V1Lease): V1Lease {
    const stored = structuredClone(lease);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    this.leases.set(stored.metadata.name ?? '', stored);
    return structuredClone(stored);
  }

  async readLease(name: string) {
    const lease = this.leases.get(name);
    return lease ? structuredClone(lease) : null;
  }

  async createLease(lease: V1Lease) {
    this.writes.push('create');
    if (this.leases.has(lease.metadata?.name ?? '')) return 'exists' as const;
    return this.put(lease);
  }

  async replaceLease(lease: V1Lease) {
    this.writes.push('replace');
    this.runConcurrentWriter();
    const current = this.leases.get(lease.metadata?.name ?? '');
    if (!current || current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) return 'conflict' as const;
    return this.put(lease);
  }

  async deleteLease(name: string, resourceVersion: string) {
    this.writes.push('delete');
    this.runConcurrentWriter();
    const current = this.leases.get(name);
    if (!current) return 'gone' as const;
    if (current.metadata?.resourceVersion !== resourceVersion) return 'conflict' as const;
    this.leases.delete(name);
    return 'deleted' as const;
  }

  private runConcurrentWriter() {
    const writer = this.beforeWrite;
    this.beforeWrite = undefined;
    writer?.();
  }
}

function heldLease(holder: string, since: Date, durationSeconds: number, renewed: Date = since): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: lockName('edge-1'), namespace: LOCK_NAMESPACE },
    spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds, acquireTime: since, renewTime: renewed },
  };
}

function request(overrides: Partial<LockRequest> = {}): LockRequest {
  return { nodeName: 'edge-1', holder: 'op-new', durationSeconds: 3600, now: T0, ...overrides };
}

describe('acquireNodeLock', () => {
  it('creates a Lease in kube-system held by the operation when the node is free', async () => {
    // Prepare
    const port = new FakeLeases();

    // Act
    const outcome = await acquireNodeLock(port, request());

    // Assess
    expect(outcome).toBe('acquired');
    const lease = port.leases.get('edgekeeper-node-edge-1');
    expect(lease?.metadata).toMatchObject({
      name: 'edgekeeper-node-edge-1',
      namespace: 'kube-system',
      annotations: { 'edgekeeper.io/node-name': 'edge-1' },
    });
    expect(lease?.spec).toEqual({
      holderIdentity: 'op-new',
      leaseDurationSeconds: 3600,
      acquireTime: T0,
      renewTime: T0,
    });
  });

  it('answers held and renews the Lease when the same operation asks again (a retried step, a rollback)', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-new', minutes(-5), 3600));

    // Act
    const outcome = await acquireNodeLock(port, request());

    // Assess
    expect(outcome).toBe('held');
    expect(port.writes).toEqual(['create', 'replace']);
    const lease = port.leases.get(lockName('edge-1'));
    expect(lease?.spec?.holderIdentity).toBe('op-new');
    expect(new Date(lease?.spec?.renewTime as Date).getTime()).toBe(request().now.getTime());
  });

  it('refuses another operation while the Lease is live, naming the holder, since when and until when', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-other', minutes(-10), 3600));

    // Act
    const error = await caught(acquireNodeLock(port, request()));

    // Assess
    expect(error).toBeInstanceOf(NodeLockedError);
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toBe(
      'nodeName edge-1 is locked by operation op-other since 2025-03-01T09:50:00.000Z until 2025-03-01T10:50:00.000Z; ' +
        'try again after it finishes',
    );
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-other');
  });

  it('counts the expiry from the last renewal, not from the acquisition', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-other', minutes(-90), 3600, minutes(-30)));

    // Act
    const error = await caught(acquireNodeLock(port, request()));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain('since 2025-03-01T08:30:00.000Z until 2025-03-01T10:30:00.000Z');
  });

  it('reads the times of a Lease whose times arrive as strings, as the API client may deliver them', async () => {
    // Prepare
    const port = new FakeLeases();
    const lease = heldLease('op-other', minutes(-10), 3600);
    port.put({
      ...lease,
      spec: { ...lease.spec, acquireTime: '2025-03-01T09:50:00.000000Z', renewTime: '2025-03-01T09:50:00.000000Z' },
    } as unknown as V1Lease);

    // Act
    const error = await caught(acquireNodeLock(port, request()));

    // Assess
    expect(error.message).toContain('since 2025-03-01T09:50:00.000Z until 2025-03-01T10:50:00.000Z');
  });

  it('takes over an expired Lease so that a workflow that died does not block the node for ever', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-dead', minutes(-120), 3600));

    // Act
    const outcome = await acquireNodeLock(port, request({ durationSeconds: 600 }));

    // Assess
    expect(outcome).toBe('acquired');
    expect(port.writes).toEqual(['create', 'replace']);
    expect(port.leases.get(lockName('edge-1'))?.spec).toEqual({
      holderIdentity: 'op-new',
      leaseDurationSeconds: 600,
      acquireTime: T0,
      renewTime: T0,
    });
  });

  it('takes over a Lease that expires exactly now', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-dead', minutes(-60), 3600));

    // Act
    const outcome = await acquireNodeLock(port, request());

    // Assess
    expect(outcome).toBe('acquired');
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-new');
  });

  it('refuses with NodeLockedError when another operation takes the expired Lease at the same moment', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-dead', minutes(-120), 3600));
    port.beforeWrite = () => port.put(heldLease('op-racer', T0, 3600));

    // Act
    const error = await caught(acquireNodeLock(port, request()));

    // Assess
    expect(error).toBeInstanceOf(NodeLockedError);
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toBe('nodeName edge-1 was locked by another operation at the same moment');
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-racer');
  });

  it('creates the Lease afresh when it is released between the failed create and the read', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-other', minutes(-10), 3600));
    const create = port.createLease.bind(port);
    let creates = 0;
    port.createLease = async (lease) => {
      const answer = await create(lease);
      if (++creates === 1) port.leases.clear();
      return answer;
    };

    // Act
    const outcome = await acquireNodeLock(port, request());

    // Assess
    expect(outcome).toBe('acquired');
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-new');
  });
});

describe('releaseNodeLock', () => {
  it('deletes the Lease when the operation holds it', async () => {
    // Prepare
    const port = new FakeLeases();
    await acquireNodeLock(port, request());

    // Act
    const outcome = await releaseNodeLock(port, 'edge-1', 'op-new');

    // Assess
    expect(outcome).toBe('released');
    expect(port.leases.size).toBe(0);
  });

  it('leaves the Lease of another operation alone', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-other', minutes(-10), 3600));

    // Act
    const outcome = await releaseNodeLock(port, 'edge-1', 'op-new');

    // Assess
    expect(outcome).toBe('not-held');
    expect(port.writes).toEqual([]);
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-other');
  });

  it('answers not-held when there is no Lease to release', async () => {
    // Prepare
    const port = new FakeLeases();

    // Act
    const outcome = await releaseNodeLock(port, 'edge-1', 'op-new');

    // Assess
    expect(outcome).toBe('not-held');
    expect(port.writes).toEqual([]);
  });

  it('keeps a Lease another operation took over between the read and the delete', async () => {
    // Prepare
    const port = new FakeLeases();
    port.put(heldLease('op-new', minutes(-120), 3600));
    port.beforeWrite = () => port.put(heldLease('op-racer', T0, 3600));

    // Act
    const outcome = await releaseNodeLock(port, 'edge-1', 'op-new');

    // Assess
    expect(outcome).toBe('not-held');
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-racer');
  });

  it('lets the next operation lock the node once the holder released it', async () => {
    // Prepare
    const port = new FakeLeases();
    await acquireNodeLock(port, request({ holder: 'op-first' }));
    await releaseNodeLock(port, 'edge-1', 'op-first');

    // Act
    const outcome = await acquireNodeLock(port, request({ holder: 'op-second', now: minutes(1) }));

    // Assess
    expect(outcome).toBe('acquired');
    expect(port.leases.get(lockName('edge-1'))?.spec?.holderIdentity).toBe('op-second');
  });
});
