import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { makeClients } from '../../../functions/shared/k8s';
import { leasePort } from '../../../functions/shared/leases';
import {
  acquireNodeLocks,
  handOverNodeLocks,
  heldBySelector,
  type LeasePort,
  lockName,
  NodeLockedError,
  releaseNodeLocks,
} from '../../../functions/shared/node-lock';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import { RBAC_MANIFEST } from '../../../local/sandbox/cluster/rbac';
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

  it('releases with one deletecollection by the holder label, leaving another holder’s and a handed-over Lease', async () => {
    // Prepare: this onboarding's Leases, another onboarding's, and a third one's handed to its rollback child
    const mine = onboardArn('op-d');
    const other = onboardArn('op-e');
    const failing = onboardArn('op-f');
    const executions = new FakeExecutions().set(mine, 'running').set(other, 'running').set(failing, 'running');
    const ports = { leases, executions };
    const { keys } = await acquireNodeLocks(ports, request(mine, 'edge-d', '10.1.0.7'));
    await acquireNodeLocks(ports, request(other, 'edge-e', '10.1.0.8'));
    await acquireNodeLocks(ports, request(failing, 'edge-f', '10.1.0.9'));
    await handOverNodeLocks(leases, { holder: failing, nodeName: 'edge-f' });

    // Act
    const handedOver = await leases.deleteLeases(heldBySelector(failing));
    const released = await releaseNodeLocks(leases, { holder: mine, nodeName: 'edge-d', nodeIp: '10.1.0.7' }, keys);

    // Assess
    expect(handedOver).toEqual([]);
    expect(released).toEqual({ lock: 'released', released: [lockName('edge-d'), 'edgekeeper-ip-10.1.0.7'] });
    const holders = await Promise.all(
      ['edge-d', 'edge-e', 'edge-f'].map(
        async (name) => (await leases.readLease(lockName(name)))?.spec?.holderIdentity,
      ),
    );
    expect(holders).toEqual([undefined, other, failing]);
  });
});

describe('the release under the steps’ RBAC', () => {
  /** The Lease port of the steps' own identity, held to the cluster's RBAC manifest. */
  function stepsLeases(of: SandboxCluster): LeasePort {
    const config = new KubeConfig();
    config.loadFromFile(of.edgekeeperKubeconfigPath);
    return leasePort(makeClients(config, 10));
  }

  async function lockAndRelease(port: LeasePort, holder: string, nodeName: string, nodeIp: string) {
    const ports = { leases: port, executions: new FakeExecutions().set(holder, 'running') };
    const { keys } = await acquireNodeLocks(ports, request(holder, nodeName, nodeIp));
    const deleteOne = jest.spyOn(port, 'deleteLease');
    const outcome = await releaseNodeLocks(port, { holder, nodeName, nodeIp }, keys);
    return { outcome, deletedOneByOne: deleteOne.mock.calls.map(([name]) => name) };
  }

  it('deletes the holder’s Leases in one deletecollection, which deploy/rbac.yaml grants', async () => {
    // Act
    const { outcome, deletedOneByOne } = await lockAndRelease(
      stepsLeases(cluster),
      onboardArn('op-g'),
      'edge-g',
      '10.1.0.10',
    );

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [lockName('edge-g'), 'edgekeeper-ip-10.1.0.10'] });
    expect(deletedOneByOne).toEqual([]);
  });

  it('deletes them one by one on a cluster whose RBAC predates deletecollection', async () => {
    // Prepare
    const manifest = join(dir, 'rbac-without-deletecollection.yaml');
    const current = readFileSync(RBAC_MANIFEST, 'utf8');
    writeFileSync(manifest, current.replace('delete, deletecollection]', 'delete]'));
    expect(readFileSync(manifest, 'utf8')).not.toBe(current);
    const old = await startCluster({ dir: join(dir, 'old'), rbacManifest: manifest });
    try {
      // Act
      const { outcome, deletedOneByOne } = await lockAndRelease(
        stepsLeases(old),
        onboardArn('op-h'),
        'edge-h',
        '10.1.0.11',
      );

      // Assess
      expect(outcome).toEqual({ lock: 'released', released: [lockName('edge-h'), 'edgekeeper-ip-10.1.0.11'] });
      expect(deletedOneByOne).toEqual([lockName('edge-h'), 'edgekeeper-ip-10.1.0.11']);
    } finally {
      await old.stop();
    }
  });
});
