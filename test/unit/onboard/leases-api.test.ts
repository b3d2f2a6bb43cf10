import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { makeClients } from '../../../functions/shared/k8s';
import { leasePort } from '../../../functions/shared/leases';
import {
  acquireNodeLocks,
  type LeasePort,
  lockName,
  NodeLockedError,
  releaseNodeLocks,
} from '../../../functions/shared/node-lock';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import { caught } from '../../support/thrown';
import { FakeExecutions, onboardArn } from './fake-leases';

/*
 * The lock core against a real coordination.k8s.io API over HTTP (the sandbox's in-process API server): the port
 * must map the server's answers (409 on create, 409 on a stale replace, 404 on read) to what the core expects.
 */
let cluster: SandboxCluster;
let dir: string;
let leases: LeasePort;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-leases-'));
  cluster = await startCluster({ dir });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  leases = leasePort(makeClients(config, 10));
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const request = (holder: string, nodeName: string, nodeIp: string) => ({
  holder,
  nodeName,
  instanceId: null,
  nodeIp,
  durationSeconds: 180,
  now: new Date(),
});

describe('the Lease port against an API server', () => {
  it('locks, refuses a second holder of the same IP, and releases', async () => {
    // Prepare
    const first = onboardArn('op-a');
    const second = onboardArn('op-b');
    const executions = new FakeExecutions().set(first, 'running').set(second, 'running');
    const ports = { leases, executions };
    await acquireNodeLocks(ports, request(first, 'edge-a', '10.1.0.5'));

    // Act
    const refused = await caught(acquireNodeLocks(ports, request(second, 'edge-b', '10.1.0.5')));
    const released = await releaseNodeLocks(leases, { holder: first, nodeName: 'edge-a' });

    // Assess
    expect(refused).toBeInstanceOf(NodeLockedError);
    expect(refused.message).toContain(`nodeIp 10.1.0.5 is locked by execution ${first} (which is running)`);
    expect(await leases.readLease(lockName('edge-b'))).toBeNull();
    expect(released).toEqual({ lock: 'released', released: [lockName('edge-a'), 'edgekeeper-ip-10.1.0.5'] });
    expect((await leases.listLeases()).map((lease) => lease.metadata?.name)).toEqual([]);
  });

  it('answers exists to a create of a held name and conflict to a replace with a stale version', async () => {
    // Prepare
    const holder = onboardArn('op-c');
    const ports = { leases, executions: new FakeExecutions().set(holder, 'running') };
    await acquireNodeLocks(ports, request(holder, 'edge-c', '10.1.0.6'));
    const stale = await leases.readLease(lockName('edge-c'));
    await acquireNodeLocks(ports, request(holder, 'edge-c', '10.1.0.6'));

    // Act
    const created = await leases.createLease({
      ...stale,
      metadata: { ...stale?.metadata, resourceVersion: undefined },
    });
    const replaced = await leases.replaceLease(stale ?? {});

    // Assess
    expect(created).toBe('exists');
    expect(replaced).toBe('conflict');
    expect((await leases.listLeases()).map((lease) => lease.metadata?.labels?.['edgekeeper.io/lock']).sort()).toEqual([
      'ip',
      'node',
    ]);
  });
});
