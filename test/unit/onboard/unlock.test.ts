import { instanceLockName, ipLockName, lockName } from '../../../functions/shared/node-lock';
import { unlockNodeWith } from '../../../functions/shared/unlock';
import { fakePorts, lockLease, onboardArn } from './fake-leases';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const HOLDER = onboardArn('op-1');
const INSTANCE = 'i-0123456789abcdef0';
const IP = '10.0.0.5';
const LEASES = [lockName('edge-1'), instanceLockName(INSTANCE), ipLockName(IP)];

/** The three Leases an onboarding of edge-1 takes, held by HOLDER. */
function lockedNode() {
  const ports = fakePorts();
  for (const [name, kind] of LEASES.map((name, index) => [name, ['node', 'instance', 'ip'][index]])) {
    ports.leases.put(
      lockLease(name, HOLDER, {
        kind,
        since: new Date(T0.getTime() - 60_000),
        nodeName: 'edge-1',
        instanceId: INSTANCE,
        nodeIp: IP,
      }),
    );
  }
  return ports;
}

describe('unlockNodeWith', () => {
  it('refuses while the holder runs, showing who holds what, and breaks nothing', async () => {
    // Prepare
    const ports = lockedNode();
    ports.executions.set(HOLDER, 'running');

    // Act
    const record = await unlockNodeWith(ports, { name: 'edge-1', force: false, now: T0 });

    // Assess
    expect(record).toMatchObject({ nodeName: 'edge-1', forced: false, outcome: 'refused', broken: false });
    expect(record.message).toBe(
      `node edge-1 is locked by ${HOLDER}, which may still be running; wait for it to finish, or pass --force to ` +
        'break the lock anyway',
    );
    expect(record.locks.map((lock) => [lock.lease, lock.holder, lock.holderStatus, lock.broken])).toEqual(
      LEASES.map((lease) => [lease, HOLDER, 'running', false]),
    );
    expect(ports.leases.leases.size).toBe(3);
  });

  it('breaks every Lease of the name once the holder is gone, saying whose they were', async () => {
    // Prepare
    const ports = lockedNode();
    ports.executions.set(HOLDER, 'ended');

    // Act
    const record = await unlockNodeWith(ports, { name: 'edge-1', force: false, now: T0 });

    // Assess
    expect(record).toMatchObject({ outcome: 'broken', broken: true, forced: false });
    expect(record.message).toBe(`broke the lock of node edge-1 held by ${HOLDER} (ended)`);
    expect(record.locks.map((lock) => [lock.key, lock.instanceId, lock.nodeIp, lock.broken])).toEqual([
      ['node', INSTANCE, IP, true],
      ['instance', INSTANCE, IP, true],
      ['ip', INSTANCE, IP, true],
    ]);
    expect(ports.leases.leases.size).toBe(0);
  });

  it('breaks the lock of a running holder with force, and says so', async () => {
    // Prepare
    const ports = lockedNode();
    ports.executions.set(HOLDER, 'running');

    // Act
    const record = await unlockNodeWith(ports, { name: 'edge-1', force: true, now: T0 });

    // Assess
    expect(record).toMatchObject({ outcome: 'broken', broken: true, forced: true });
    expect(record.message).toContain('although its holder may still run (--force)');
    expect(ports.leases.leases.size).toBe(0);
  });

  it('leaves a Lease renewed between the look and the break, and reports it', async () => {
    // Prepare
    const ports = lockedNode();
    ports.executions.set(HOLDER, 'ended');
    ports.leases.beforeWrite = () => {
      const lease = ports.leases.leases.get(LEASES[0]);
      if (lease) ports.leases.put(lease);
    };

    // Act
    const record = await unlockNodeWith(ports, { name: 'edge-1', force: false, now: T0 });

    // Assess
    expect(record.outcome).toBe('partly-broken');
    expect(record.locks[0]).toMatchObject({ lease: LEASES[0], broken: false });
    expect(record.locks[0].note).toContain('run unlock again');
    expect([...ports.leases.leases.keys()]).toEqual([LEASES[0]]);
  });

  it('says so when the name holds no lock', async () => {
    const record = await unlockNodeWith(fakePorts(), { name: 'edge-1', force: false, now: T0 });
    expect(record).toEqual({
      nodeName: 'edge-1',
      forced: false,
      outcome: 'no-lock',
      broken: false,
      locks: [],
      message: 'node edge-1 holds no lock',
    });
  });

  it('leaves the locks of other names alone', async () => {
    // Prepare
    const ports = lockedNode();
    ports.executions.set(HOLDER, 'ended');

    // Act
    const record = await unlockNodeWith(ports, { name: 'edge-2', force: true, now: T0 });

    // Assess
    expect(record.outcome).toBe('no-lock');
    expect(ports.leases.leases.size).toBe(3);
  });
});
