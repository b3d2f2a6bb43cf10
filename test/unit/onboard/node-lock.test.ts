import type { V1Lease } from '@kubernetes/client-node';
import { InvalidRequestError } from '../../../functions/shared/errors';
import {
  acquireNodeLocks,
  acquireUninstallLock,
  ClusterLockedError,
  type ClusterNode,
  findOwnership,
  handOverNodeLocks,
  heldBySelector,
  instanceLockName,
  ipLockName,
  isParentOf,
  leasesFor,
  lockName,
  NodeLockedError,
  type NodeLockRequest,
  releaseNodeLocks,
  releaseUninstallLock,
  renewHeldLocks,
  UNINSTALL_LOCK,
} from '../../../functions/shared/node-lock';
import { caught } from '../../support/thrown';
import { fakePorts, holderHash, lockLease, onboardArn, removeArn } from './fake-leases';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const ME = onboardArn('op-new');
const OTHER = onboardArn('op-other');
const INSTANCE = 'i-0123456789abcdef0';
const IP = '10.0.0.5';
const NODE_LEASE = lockName('edge-1');
const INSTANCE_LEASE = instanceLockName(INSTANCE);
const IP_LEASE = ipLockName(IP);

function request(overrides: Partial<NodeLockRequest> = {}): NodeLockRequest {
  return {
    holder: ME,
    nodeName: 'edge-1',
    instanceId: INSTANCE,
    nodeIp: IP,
    durationSeconds: 300,
    now: T0,
    ...overrides,
  };
}

/** A lock Lease of node edge-1's keys, held by `holder`. */
function held(name: string, holder: string, since = minutes(-1), extra: Partial<Parameters<typeof lockLease>[2]> = {}) {
  const kind = name === NODE_LEASE ? 'node' : name === INSTANCE_LEASE ? 'instance' : 'ip';
  return lockLease(name, holder, { kind, since, nodeName: 'edge-1', instanceId: INSTANCE, nodeIp: IP, ...extra });
}

function nodes(...list: ClusterNode[]) {
  return { listNodes: async () => list };
}

describe('acquireNodeLocks', () => {
  it('locks the node name, the instance and the IP, each Lease recording what it is for', async () => {
    // Prepare
    const ports = fakePorts();

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect([...ports.leases.leases.keys()]).toEqual([
      'edgekeeper-node-edge-1',
      'edgekeeper-instance-i-0123456789abcdef0',
      'edgekeeper-ip-10.0.0.5',
    ]);
    for (const [name, kind] of [
      [NODE_LEASE, 'node'],
      [INSTANCE_LEASE, 'instance'],
      [IP_LEASE, 'ip'],
    ]) {
      const lease = ports.leases.leases.get(name);
      expect(lease?.metadata).toMatchObject({
        namespace: 'kube-system',
        labels: {
          'app.kubernetes.io/managed-by': 'edgekeeper',
          'edgekeeper.io/lock': kind,
          'edgekeeper.io/holder': holderHash(ME),
        },
        annotations: {
          'edgekeeper.io/node-name': 'edge-1',
          'edgekeeper.io/instance-id': INSTANCE,
          'edgekeeper.io/node-ip': IP,
        },
      });
      expect(lease?.spec).toEqual({ holderIdentity: ME, leaseDurationSeconds: 300, acquireTime: T0, renewTime: T0 });
    }
  });

  it('locks only the node name when the instance and IP are not known (a removal of a node never finished)', async () => {
    // Prepare
    const ports = fakePorts();

    // Act
    const outcome = await acquireNodeLocks(ports, request({ instanceId: null, nodeIp: undefined }));

    // Assess
    expect(outcome.keys.map((key) => key.lease)).toEqual([NODE_LEASE]);
    expect(ports.leases.leases.get(NODE_LEASE)?.metadata?.annotations).toEqual({ 'edgekeeper.io/node-name': 'edge-1' });
  });

  it('answers held and renews every Lease when the same execution asks again (a retried step)', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireNodeLocks(ports, request({ now: minutes(-2) }));

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('held');
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) {
      const spec = ports.leases.leases.get(name)?.spec;
      expect(spec?.holderIdentity).toBe(ME);
      expect(new Date(spec?.renewTime as Date).toISOString()).toBe(T0.toISOString());
      expect(new Date(spec?.acquireTime as Date).toISOString()).toBe(minutes(-2).toISOString());
    }
  });

  it('refuses while another execution runs, naming the field, the holder, its status and the times', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-10)));
    ports.executions.set(OTHER, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error).toBeInstanceOf(NodeLockedError);
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toBe(
      `nodeName edge-1 is locked by execution ${OTHER} (which is running) since 2025-03-01T09:50:00.000Z, ` +
        'renewed 2025-03-01T09:50:00.000Z, until 2025-03-01T09:55:00.000Z',
    );
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(OTHER);
    expect(ports.leases.leases.has(INSTANCE_LEASE)).toBe(false);
  });

  it('keeps a running holder’s Lease even after it expired: the duration only bounds an unreadable holder', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-120)));
    ports.executions.set(OTHER, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(OTHER);
  });

  it('takes all or none: a held instance releases the name it had just locked', async () => {
    // Prepare
    const ports = fakePorts();
    const onOtherName = lockLease(INSTANCE_LEASE, OTHER, {
      kind: 'instance',
      since: minutes(-1),
      nodeName: 'edge-2',
      instanceId: INSTANCE,
    });
    ports.leases.put(onOtherName);
    ports.executions.set(OTHER, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(`instanceId ${INSTANCE} is locked by execution ${OTHER} (which is running)`);
    expect([...ports.leases.leases.keys()]).toEqual([INSTANCE_LEASE]);
    expect(ports.leases.writes).toEqual([`create ${NODE_LEASE}`, `create ${INSTANCE_LEASE}`, `delete ${NODE_LEASE}`]);
  });

  it('gives one IP to one of two onboardings with different names: the second takes nothing', async () => {
    // Prepare
    const ports = fakePorts();
    const first = onboardArn('op-a');
    ports.executions.set(first, 'running');
    await acquireNodeLocks(ports, request({ holder: first, nodeName: 'edge-a', instanceId: 'i-0000000000000000a' }));

    // Act
    const error = await caught(
      acquireNodeLocks(ports, request({ holder: ME, nodeName: 'edge-b', instanceId: 'i-0000000000000000b' })),
    );

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(`nodeIp ${IP} is locked by execution ${first}`);
    expect([...ports.leases.leases.values()].map((lease) => lease.spec?.holderIdentity)).toEqual([first, first, first]);
  });

  it('takes over a Lease at once when its holder has ended, however long it had to run', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-1)));
    ports.executions.set(OTHER, 'ended');

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.leases.get(NODE_LEASE)?.spec).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 300,
      acquireTime: T0,
      renewTime: T0,
    });
  });

  it('waits for the expiry, counted from the last renewal, when the holder’s status cannot be read', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(
      held(NODE_LEASE, 'op-legacy-name', minutes(-90), { durationSeconds: 3600, renewed: minutes(-30) }),
    );

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(
      '(whose status cannot be read) since 2025-03-01T08:30:00.000Z, renewed 2025-03-01T09:30:00.000Z, ' +
        'until 2025-03-01T10:30:00.000Z',
    );
  });

  it('takes over an expired Lease of a holder whose status cannot be read', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, 'op-legacy-name', minutes(-5), { durationSeconds: 300 }));

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(ME);
  });

  it('reads the times of a Lease whose times arrive as strings, as the API client may deliver them', async () => {
    // Prepare
    const ports = fakePorts();
    const lease = held(NODE_LEASE, 'op-legacy-name', minutes(-10));
    ports.leases.put({
      ...lease,
      spec: { ...lease.spec, acquireTime: '2025-03-01T09:58:00.000000Z', renewTime: '2025-03-01T09:58:00.000000Z' },
    } as unknown as V1Lease);

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error.message).toContain('since 2025-03-01T09:58:00.000Z, renewed 2025-03-01T09:58:00.000Z');
  });

  it('refuses with NodeLockedError when another execution takes a free Lease at the same moment', async () => {
    // Prepare
    const ports = fakePorts();
    const racer = onboardArn('op-racer');
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-1)));
    ports.executions.set(OTHER, 'ended');
    ports.leases.beforeWrite = () => ports.leases.put(held(NODE_LEASE, racer, T0));

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error).toBeInstanceOf(NodeLockedError);
    expect(error.message).toBe('nodeName edge-1 was locked by another operation at the same moment');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(racer);
  });

  it('creates a Lease afresh when it is released between the failed create and the read', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-1)));
    ports.executions.set(OTHER, 'running');
    const create = ports.leases.createLease.bind(ports.leases);
    let creates = 0;
    ports.leases.createLease = async (lease) => {
      const answer = await create(lease);
      if (++creates === 1) ports.leases.leases.clear();
      return answer;
    };

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(ME);
  });

  it('refuses an instance whose last lock, for another node, was never released, naming how to clear it', async () => {
    // Prepare
    const ports = fakePorts();
    const dead = onboardArn('op-dead');
    ports.leases.put(
      lockLease(INSTANCE_LEASE, dead, {
        kind: 'instance',
        since: minutes(-60),
        nodeName: 'edge-9',
        instanceId: INSTANCE,
      }),
    );
    ports.executions.set(dead, 'ended');

    // Act
    const error = await caught(acquireNodeLocks(ports, request()));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(`instanceId ${INSTANCE} was locked for node edge-9 by execution ${dead}`);
    expect(error.message).toContain('edgekeeper remove --name edge-9');
    expect(error.message).toContain('edgekeeper unlock --name edge-9');
    expect(ports.leases.holderOf(INSTANCE_LEASE)).toBe(dead);
    expect(ports.leases.leases.has(NODE_LEASE)).toBe(false);
  });

  it('takes over the instance and IP a dead execution left for the same node name (a rerun)', async () => {
    // Prepare
    const ports = fakePorts();
    const dead = onboardArn('op-dead');
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) ports.leases.put(held(name, dead, minutes(-3)));
    ports.executions.set(dead, 'ended');

    // Act
    const outcome = await acquireNodeLocks(ports, request());

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect([NODE_LEASE, INSTANCE_LEASE, IP_LEASE].map((name) => ports.leases.holderOf(name))).toEqual([ME, ME, ME]);
  });
});

describe('holder identity', () => {
  const parent = onboardArn('op-7');
  const child = removeArn('op-7-rollback');

  it('refuses a holder id copied from an error: another workflow’s execution of the same name is not the holder', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, parent, minutes(-1)));
    ports.executions.set(parent, 'running');
    const thief = removeArn('op-7');

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ holder: thief })));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(`locked by execution ${parent} (which is running)`);
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(parent);
  });

  it('lets the rollback child of the running holder work under its parent’s Leases, which stay the parent’s', async () => {
    // Prepare
    const ports = fakePorts();
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) ports.leases.put(held(name, parent, minutes(-1)));
    ports.executions.set(parent, 'running');
    const handOver = await handOverNodeLocks(ports.leases, { holder: parent, nodeName: 'edge-1' });
    expect(handOver).toEqual({
      lock: 'handed-over',
      child: 'op-7-rollback',
      leases: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE],
    });

    // Act
    const outcome = await acquireNodeLocks(ports, request({ holder: child }));

    // Assess
    expect(outcome.lock).toBe('adopted');
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) {
      expect(ports.leases.holderOf(name)).toBe(parent);
      expect(new Date(ports.leases.leases.get(name)?.spec?.renewTime as Date).toISOString()).toBe(T0.toISOString());
    }
  });

  it('refuses an execution named <holder>-rollback that the running holder has not handed its Leases to', async () => {
    // Prepare: a join in flight, and someone starting remove-node by hand under the rollback child's name
    const ports = fakePorts();
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) ports.leases.put(held(name, parent, minutes(-1)));
    ports.executions.set(parent, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ holder: child })));
    const renewed = await renewHeldLocks(ports.leases, { holder: child, durationSeconds: 300, now: T0 });
    const released = await releaseNodeLocks(ports.leases, { holder: child, nodeName: 'edge-1' });

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(renewed).toEqual([]);
    expect(released).toEqual({ lock: 'not-held', released: [] });
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) expect(ports.leases.holderOf(name)).toBe(parent);
  });

  it('hands over only the holder’s own Leases, and says so when it holds none', async () => {
    // Prepare
    const ports = fakePorts();
    const other = onboardArn('op-9');
    ports.leases.put(held(NODE_LEASE, parent, minutes(-1)));
    ports.leases.put(held(INSTANCE_LEASE, other, minutes(-1)));

    // Act
    const mine = await handOverNodeLocks(ports.leases, { holder: parent, nodeName: 'edge-1', instanceId: INSTANCE });
    const none = await handOverNodeLocks(ports.leases, { holder: onboardArn('op-8'), nodeName: 'edge-1' });

    // Assess
    expect(mine.leases).toEqual([NODE_LEASE]);
    expect(ports.leases.leases.get(INSTANCE_LEASE)?.metadata?.annotations?.['edgekeeper.io/handed-to']).toBeUndefined();
    expect(none).toEqual({ lock: 'not-held', child: 'op-8-rollback', leases: [] });
  });

  it('does not let a rollback child adopt when the parent is no longer running', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, parent, minutes(-1)));
    ports.executions.set(parent, 'ended');

    // Act
    const outcome = await acquireNodeLocks(ports, request({ holder: child, instanceId: null, nodeIp: null }));

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(child);
  });

  it('refuses a "-rollback" execution whose name is not the holder’s name plus -rollback', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, parent, minutes(-1)));
    ports.executions.set(parent, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ holder: removeArn('op-8-rollback') })));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(parent);
  });

  it('knows a parent only by name, account and region, all from Step Functions', () => {
    expect(isParentOf(parent, child)).toBe(true);
    expect(isParentOf(parent, removeArn('op-7'))).toBe(false);
    expect(isParentOf(parent, child.replace('123456789012', '210987654321'))).toBe(false);
    expect(isParentOf('op-7', 'op-7-rollback')).toBe(false);
  });

  it('leaves the parent’s Leases to the parent when the rollback child releases', async () => {
    // Prepare
    const ports = fakePorts();
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) ports.leases.put(held(name, parent, minutes(-1)));
    ports.executions.set(parent, 'running');
    await handOverNodeLocks(ports.leases, { holder: parent, nodeName: 'edge-1' });
    await acquireNodeLocks(ports, request({ holder: child }));

    // Act
    const byChild = await releaseNodeLocks(ports.leases, { holder: child, nodeName: 'edge-1' });
    const byParent = await releaseNodeLocks(ports.leases, { holder: parent, nodeName: 'edge-1' });

    // Assess
    expect(byChild).toEqual({ lock: 'kept-for-parent', released: [] });
    expect(byParent.lock).toBe('released');
    expect(ports.leases.leases.size).toBe(0);
  });
});

describe('acquireNodeLocks for onboarding', () => {
  const uninstaller = removeArn('uninstall-1');

  it('refuses while an uninstall runs, and keeps none of the node’s Leases', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(lockLease(UNINSTALL_LOCK, uninstaller, { kind: 'uninstall', since: minutes(-1) }));
    ports.executions.set(uninstaller, 'running');

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ onboarding: { nodes: nodes() } })));

    // Assess
    expect(error).toBeInstanceOf(ClusterLockedError);
    expect(error.name).toBe('ClusterLockedError');
    expect(error.message).toContain(`KubeEdge is being uninstalled by execution ${uninstaller} (which is running)`);
    expect([...ports.leases.leases.keys()]).toEqual([UNINSTALL_LOCK]);
  });

  it('onboards once the uninstall that held the cluster lock has ended', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(lockLease(UNINSTALL_LOCK, uninstaller, { kind: 'uninstall', since: minutes(-1) }));
    ports.executions.set(uninstaller, 'ended');

    // Act
    const outcome = await acquireNodeLocks(ports, request({ onboarding: { nodes: nodes() } }));

    // Assess
    expect(outcome.lock).toBe('acquired');
  });

  it('lets a removal run while an uninstall holds the cluster lock (the uninstall removes nodes itself)', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(lockLease(UNINSTALL_LOCK, uninstaller, { kind: 'uninstall', since: minutes(-1) }));
    ports.executions.set(uninstaller, 'running');

    // Act
    const outcome = await acquireNodeLocks(ports, request({ holder: removeArn('uninstall-1-child') }));

    // Assess
    expect(outcome.lock).toBe('acquired');
  });

  it('re-checks under the lock that no other node has the IP or the instance, and then holds nothing', async () => {
    // Prepare
    const ports = fakePorts();
    const cluster = nodes(
      { name: 'edge-2', internalIps: [IP] },
      { name: 'edge-3', internalIps: ['10.0.0.9'], instanceId: INSTANCE },
    );

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ onboarding: { nodes: cluster } })));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe(
      `nodeIp ${IP} is already the InternalIP of node edge-2; instanceId ${INSTANCE} already backs node edge-3`,
    );
    expect(ports.leases.leases.size).toBe(0);
  });

  it('refuses a name already used by a node on another IP or another instance', async () => {
    // Prepare
    const ports = fakePorts();
    const cluster = nodes({ name: 'edge-1', internalIps: [IP], instanceId: 'i-0fedcba9876543210' });

    // Act
    const error = await caught(acquireNodeLocks(ports, request({ onboarding: { nodes: cluster } })));

    // Assess
    expect(error.message).toBe('nodeName edge-1 is already the name of a node on instance i-0fedcba9876543210');
    expect(ports.leases.leases.size).toBe(0);
  });

  it('accepts a node of its own name on its own IP (a rerun, or a half-joined node to finish)', async () => {
    // Prepare
    const ports = fakePorts();
    const cluster = nodes({ name: 'edge-1', internalIps: [IP] }, { name: 'edge-2', internalIps: ['10.0.0.6'] });

    // Act
    const outcome = await acquireNodeLocks(ports, request({ onboarding: { nodes: cluster } }));

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.leases.size).toBe(3);
  });
});

describe('releaseNodeLocks', () => {
  it('deletes the Leases the lock step took in one request, by their holder label, without listing or reading', async () => {
    // Prepare
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    ports.leases.reads.length = 0;
    ports.leases.writes.length = 0;
    const list = jest.spyOn(ports.leases, 'listLeases');

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect(list).not.toHaveBeenCalled();
    expect(ports.leases.reads).toEqual([]);
    expect(ports.leases.writes).toEqual([`deletecollection ${heldBySelector(ME)}`]);
    expect(ports.leases.leases.size).toBe(0);
  });

  it('selects the holder’s own node locks that were not handed over, by the hash of its execution id', () => {
    expect(heldBySelector(ME)).toBe(
      'app.kubernetes.io/managed-by=edgekeeper,edgekeeper.io/lock in (node,instance,ip),' +
        `edgekeeper.io/holder=${holderHash(ME)},!edgekeeper.io/handed-over`,
    );
    expect(holderHash(ME)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('deletes only this holder’s node locks: other holders’ Leases and Leases that are no node lock stay', async () => {
    // Prepare: another onboarding's locks, an uninstall Lease and a Lease edgekeeper did not write, both of this holder
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    ports.executions.set(ME, 'running');
    const other = request({ holder: OTHER, nodeName: 'edge-2', instanceId: 'i-0fedcba987654321', nodeIp: '10.0.0.6' });
    const others = await acquireNodeLocks(ports, other);
    ports.leases.put(lockLease(UNINSTALL_LOCK, ME, { kind: 'uninstall', since: T0 }));
    ports.leases.put({
      metadata: { name: 'not-ours', labels: { 'edgekeeper.io/lock': 'node', 'edgekeeper.io/holder': holderHash(ME) } },
      spec: { holderIdentity: ME },
    });

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect([...ports.leases.leases.keys()].sort()).toEqual(
      [...others.keys.map((key) => key.lease), UNINSTALL_LOCK, 'not-ours'].sort(),
    );
    for (const key of others.keys) expect(ports.leases.holderOf(key.lease)).toBe(OTHER);
  });

  it('never deletes by label a Lease another execution took over: its labels name the new holder', async () => {
    // Prepare: this execution's status cannot be read and its Leases expired, so a rerun takes them over
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    await acquireNodeLocks(ports, request({ holder: OTHER, now: minutes(10) }));
    ports.leases.writes.length = 0;

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'not-held', released: [] });
    expect(ports.leases.writes).toEqual([`deletecollection ${heldBySelector(ME)}`]);
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) {
      expect(ports.leases.holderOf(name)).toBe(OTHER);
      expect(ports.leases.leases.get(name)?.metadata?.labels?.['edgekeeper.io/holder']).toBe(holderHash(OTHER));
    }
  });

  it('never deletes by label a Lease handed to the rollback child: only the listing release, after it, frees them', async () => {
    // Prepare
    const ports = fakePorts();
    const child = removeArn('op-new-rollback');
    ports.executions.set(ME, 'running');
    const { keys } = await acquireNodeLocks(ports, request());
    await handOverNodeLocks(ports.leases, request());
    await acquireNodeLocks(ports, request({ holder: child }));
    ports.leases.writes.length = 0;

    // Act
    const byLabel = await ports.leases.deleteLeases(heldBySelector(ME));
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(byLabel).toEqual([]);
    expect(ports.leases.writes).toEqual([
      `deletecollection ${heldBySelector(ME)}`,
      `deletecollection ${heldBySelector(ME)}`,
      `delete ${NODE_LEASE}`,
      `delete ${INSTANCE_LEASE}`,
      `delete ${IP_LEASE}`,
    ]);
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
  });

  it('leaves the Leases a rollback child adopted to its parent: they keep the parent’s holder label', async () => {
    // Prepare
    const ports = fakePorts();
    const child = removeArn('op-new-rollback');
    ports.executions.set(ME, 'running');
    await acquireNodeLocks(ports, request());
    await handOverNodeLocks(ports.leases, request());
    const adopted = await acquireNodeLocks(ports, request({ holder: child }));

    // Act
    const byLabel = await ports.leases.deleteLeases(heldBySelector(child));
    const outcome = await releaseNodeLocks(ports.leases, request({ holder: child }), adopted.keys);

    // Assess
    expect(adopted.lock).toBe('adopted');
    expect(byLabel).toEqual([]);
    expect(outcome).toEqual({ lock: 'kept-for-parent', released: [] });
    for (const name of [NODE_LEASE, INSTANCE_LEASE, IP_LEASE]) {
      expect(ports.leases.holderOf(name)).toBe(ME);
      expect(ports.leases.leases.get(name)?.metadata?.labels?.['edgekeeper.io/holder']).toBe(holderHash(ME));
    }
  });

  it('falls back to listing for the keys the label did not delete, such as a Lease written before it existed', async () => {
    // Prepare: the IP Lease as an older version wrote it (no holder label), the instance Lease taken by another
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    const old = held(IP_LEASE, ME, minutes(1));
    delete old.metadata?.labels?.['edgekeeper.io/holder'];
    ports.leases.put(old);
    ports.leases.put(held(INSTANCE_LEASE, OTHER, minutes(1)));
    ports.leases.writes.length = 0;

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, IP_LEASE] });
    expect(ports.leases.writes).toEqual([`deletecollection ${heldBySelector(ME)}`, `delete ${IP_LEASE}`]);
    expect(ports.leases.holderOf(INSTANCE_LEASE)).toBe(OTHER);
    expect(ports.leases.leases.size).toBe(1);
  });

  it('deletes a Lease renewed since the lock step (a manual join) in the same one request', async () => {
    // Prepare
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    await renewHeldLocks(ports.leases, { holder: ME, durationSeconds: 300, now: minutes(4) });
    ports.leases.writes.length = 0;

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect(ports.leases.writes).toEqual([`deletecollection ${heldBySelector(ME)}`]);
  });

  it('lists instead when the cluster’s RBAC does not grant deletecollection yet', async () => {
    // Prepare
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    ports.leases.forbidDeleteCollection = true;
    ports.leases.writes.length = 0;

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect(ports.leases.writes).toEqual([
      `deletecollection ${heldBySelector(ME)}`,
      `delete ${NODE_LEASE}`,
      `delete ${INSTANCE_LEASE}`,
      `delete ${IP_LEASE}`,
    ]);
  });

  it('lists instead when a key carries no version: the lock step did not take it itself', async () => {
    // Prepare
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    ports.leases.writes.length = 0;

    // Act
    const outcome = await releaseNodeLocks(
      ports.leases,
      request(),
      keys.map(({ lease }) => ({ lease })),
    );

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect(ports.leases.writes).toEqual([`delete ${NODE_LEASE}`, `delete ${INSTANCE_LEASE}`, `delete ${IP_LEASE}`]);
  });

  it('says not-held when the carried Leases are already gone (a retried release)', async () => {
    // Prepare
    const ports = fakePorts();
    const { keys } = await acquireNodeLocks(ports, request());
    await releaseNodeLocks(ports.leases, request(), keys);

    // Act
    const outcome = await releaseNodeLocks(ports.leases, request(), keys);

    // Assess
    expect(outcome).toEqual({ lock: 'not-held', released: [] });
  });

  it('carries the version the lock step left each Lease at, also when it renews its own', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireNodeLocks(ports, request());

    // Act: a retried lock step
    const { keys } = await acquireNodeLocks(ports, request({ now: minutes(3) }));

    // Assess
    expect(keys.map(({ lease, outcome, resourceVersion }) => ({ lease, outcome, resourceVersion }))).toEqual(
      [NODE_LEASE, INSTANCE_LEASE, IP_LEASE].map((lease) => ({
        lease,
        outcome: 'held',
        resourceVersion: ports.leases.leases.get(lease)?.metadata?.resourceVersion,
      })),
    );
  });

  it('deletes every Lease the execution holds for the node, found by the name it records', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireNodeLocks(ports, request());

    // Act
    const outcome = await releaseNodeLocks(ports.leases, { holder: ME, nodeName: 'edge-1' });

    // Assess
    expect(outcome).toEqual({ lock: 'released', released: [NODE_LEASE, INSTANCE_LEASE, IP_LEASE] });
    expect(ports.leases.leases.size).toBe(0);
  });

  it('deletes each Lease as the list showed it, without reading it again', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireNodeLocks(ports, request());
    ports.leases.reads.length = 0;
    ports.leases.writes.length = 0;

    // Act
    await releaseNodeLocks(ports.leases, request());

    // Assess
    expect(ports.leases.reads).toEqual([]);
    expect(ports.leases.writes).toEqual([`delete ${NODE_LEASE}`, `delete ${INSTANCE_LEASE}`, `delete ${IP_LEASE}`]);
  });

  it('leaves the Leases of another execution alone', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, OTHER, minutes(-10)));

    // Act
    const outcome = await releaseNodeLocks(ports.leases, { holder: ME, nodeName: 'edge-1', instanceId: INSTANCE });

    // Assess
    expect(outcome).toEqual({ lock: 'not-held', released: [] });
    expect(ports.leases.writes).toEqual([]);
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(OTHER);
  });

  it('answers not-held when there is no Lease to release', async () => {
    // Prepare
    const ports = fakePorts();

    // Act
    const outcome = await releaseNodeLocks(ports.leases, { holder: ME, nodeName: 'edge-1' });

    // Assess
    expect(outcome.lock).toBe('not-held');
    expect(ports.leases.writes).toEqual([]);
  });

  it('keeps a Lease another execution took over between the read and the delete', async () => {
    // Prepare
    const ports = fakePorts();
    const racer = onboardArn('op-racer');
    ports.leases.put(held(NODE_LEASE, ME, minutes(-1)));
    ports.leases.beforeWrite = () => ports.leases.put(held(NODE_LEASE, racer, T0));

    // Act
    const outcome = await releaseNodeLocks(ports.leases, { holder: ME, nodeName: 'edge-1' });

    // Assess
    expect(outcome.lock).toBe('not-held');
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(racer);
  });

  it('lets the next operation lock the node once the holder released it', async () => {
    // Prepare
    const ports = fakePorts();
    const first = onboardArn('op-first');
    ports.executions.set(first, 'running');
    await acquireNodeLocks(ports, request({ holder: first }));
    await releaseNodeLocks(ports.leases, { holder: first, nodeName: 'edge-1' });

    // Act
    const outcome = await acquireNodeLocks(ports, request({ now: minutes(1) }));

    // Assess
    expect(outcome.lock).toBe('acquired');
    expect(ports.leases.holderOf(IP_LEASE)).toBe(ME);
  });
});

describe('renewHeldLocks', () => {
  it('renews the Leases of the execution past a third of their duration, and no others', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(NODE_LEASE, ME, minutes(-2)));
    ports.leases.put(held(INSTANCE_LEASE, ME, minutes(-1)));
    ports.leases.put(lockLease(ipLockName('10.0.0.7'), OTHER, { kind: 'ip', since: minutes(-4) }));

    // Act
    const renewed = await renewHeldLocks(ports.leases, { holder: ME, durationSeconds: 300, now: T0 });

    // Assess
    expect(renewed).toEqual([NODE_LEASE]);
    expect(new Date(ports.leases.leases.get(NODE_LEASE)?.spec?.renewTime as Date).toISOString()).toBe(T0.toISOString());
    expect(ports.leases.leases.get(ipLockName('10.0.0.7'))?.spec?.renewTime).toEqual(minutes(-4));
  });

  it('renews the parent’s Leases for its rollback child, keeping the parent as holder', async () => {
    // Prepare
    const ports = fakePorts();
    const parent = onboardArn('op-7');
    ports.leases.put(held(NODE_LEASE, parent, minutes(-3)));
    await handOverNodeLocks(ports.leases, { holder: parent, nodeName: 'edge-1' });

    // Act
    const renewed = await renewHeldLocks(ports.leases, {
      holder: removeArn('op-7-rollback'),
      durationSeconds: 300,
      now: T0,
    });

    // Assess
    expect(renewed).toEqual([NODE_LEASE]);
    expect(ports.leases.holderOf(NODE_LEASE)).toBe(parent);
  });
});

describe('uninstall lock', () => {
  const UNINSTALLER = removeArn('uninstall-1');

  it('takes the cluster-wide Lease when no node operation runs', async () => {
    // Prepare
    const ports = fakePorts();
    const dead = onboardArn('op-dead');
    ports.leases.put(held(NODE_LEASE, dead, minutes(-1)));
    ports.executions.set(dead, 'ended');

    // Act
    const outcome = await acquireUninstallLock(ports, { holder: UNINSTALLER, durationSeconds: 300, now: T0 });

    // Assess
    expect(outcome).toEqual({ lock: 'acquired' });
    expect(ports.leases.leases.get(UNINSTALL_LOCK)?.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'edgekeeper',
      'edgekeeper.io/lock': 'uninstall',
      'edgekeeper.io/holder': holderHash(UNINSTALLER),
    });
    expect(ports.leases.holderOf(UNINSTALL_LOCK)).toBe(UNINSTALLER);
  });

  it('refuses while a node Lease is held by a live execution, and keeps no uninstall Lease', async () => {
    // Prepare
    const ports = fakePorts();
    ports.leases.put(held(IP_LEASE, OTHER, minutes(-1)));
    ports.executions.set(OTHER, 'running');

    // Act
    const error = await caught(acquireUninstallLock(ports, { holder: UNINSTALLER, durationSeconds: 300, now: T0 }));

    // Assess
    expect(error.name).toBe('NodeLockedError');
    expect(error.message).toContain(`uninstall refused while node operations run: ${IP_LEASE} (execution ${OTHER}`);
    expect(ports.leases.leases.has(UNINSTALL_LOCK)).toBe(false);
  });

  it('refuses a second uninstall while the first runs', async () => {
    // Prepare
    const ports = fakePorts();
    ports.executions.set(UNINSTALLER, 'running');
    await acquireUninstallLock(ports, { holder: UNINSTALLER, durationSeconds: 300, now: minutes(-1) });

    // Act
    const error = await caught(
      acquireUninstallLock(ports, { holder: removeArn('uninstall-2'), durationSeconds: 300, now: T0 }),
    );

    // Assess
    expect(error.name).toBe('ClusterLockedError');
    expect(error.message).toContain(`already being uninstalled by execution ${UNINSTALLER} (which is running)`);
  });

  it('is released by its holder only', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireUninstallLock(ports, { holder: UNINSTALLER, durationSeconds: 300, now: T0 });

    // Act
    const byOther = await releaseUninstallLock(ports.leases, OTHER);
    const byHolder = await releaseUninstallLock(ports.leases, UNINSTALLER);

    // Assess
    expect(byOther).toEqual({ lock: 'not-held' });
    expect(byHolder).toEqual({ lock: 'released' });
    expect(ports.leases.leases.size).toBe(0);
  });
});

describe('findOwnership and leasesFor', () => {
  it('finds the instance and IP a node name owns, and who still holds them', async () => {
    // Prepare
    const ports = fakePorts();
    ports.executions.set(ME, 'running');
    await acquireNodeLocks(ports, request());

    // Act
    const ownership = await findOwnership(ports, 'edge-1', T0);

    // Assess
    expect(ownership).toMatchObject({ nodeName: 'edge-1', instanceId: INSTANCE, nodeIp: IP, liveHolders: [ME] });
    expect(ownership?.leases.map((lease) => [lease.key, lease.free])).toEqual([
      ['node', false],
      ['instance', false],
      ['ip', false],
    ]);
  });

  it('still finds what a dead execution recorded, marked free', async () => {
    // Prepare
    const ports = fakePorts();
    ports.executions.set(ME, 'ended');
    await acquireNodeLocks(ports, request());

    // Act
    const ownership = await findOwnership(ports, 'edge-1', T0);

    // Assess
    expect(ownership?.instanceId).toBe(INSTANCE);
    expect(ownership?.liveHolders).toEqual([]);
    expect(ownership?.leases.every((lease) => lease.free && lease.holderStatus === 'ended')).toBe(true);
  });

  it('answers null for a name nothing records', async () => {
    expect(await findOwnership(fakePorts(), 'edge-1', T0)).toBeNull();
  });

  it('finds the Leases that record an instance or an IP, whichever name they are for', async () => {
    // Prepare
    const ports = fakePorts();
    await acquireNodeLocks(ports, request());

    // Act
    const byInstance = await leasesFor(ports, { instanceId: INSTANCE }, T0);
    const byIp = await leasesFor(ports, { nodeIp: '10.0.0.99' }, T0);

    // Assess
    expect(byInstance.map((lease) => lease.lease)).toEqual([NODE_LEASE, INSTANCE_LEASE, IP_LEASE]);
    expect(byInstance.every((lease) => lease.nodeName === 'edge-1')).toBe(true);
    expect(byIp).toEqual([]);
  });
});

describe('lock names', () => {
  it('keeps Lease names within 253 characters for the longest node names', () => {
    const name = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}`;
    const lease = lockName(name);
    expect(lease.length).toBeLessThanOrEqual(253);
    expect(lease).toMatch(/^edgekeeper-node-a+[a-z0-9.-]*-[0-9a-f]{12}$/);
    expect(lockName(`${name.slice(0, -1)}e`)).not.toBe(lease);
  });
});
