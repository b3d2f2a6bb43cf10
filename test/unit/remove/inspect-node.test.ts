import { type InspectPorts, inspectRemoval } from '../../../functions/inspect-node/core';
import type { RemoveRequest } from '../../../functions/shared/remove-input';
import { HostCannotBeResetError } from '../../../functions/shared/reset-script';

const HOST = 'mi-0123456789abcdef0';
const OTHER_HOST = 'mi-0000000000000000f';

interface World {
  node?: { annotations?: Record<string, string>; labels?: Record<string, string>; ips?: string[] } | null;
  lease?: { instanceId?: string; nodeIp?: string } | null;
  /** node name → instance, as node annotations or lock Leases record it */
  claims?: Record<string, string>;
  ping?: Record<string, string>;
}

/** The ports over an in-memory cluster; `asked` records which instances SSM was asked about. */
function portsOf(world: World) {
  const asked: string[] = [];
  const ports: InspectPorts = {
    readNode: async (name) =>
      world.node
        ? {
            metadata: {
              name,
              labels: world.node.labels ?? { 'node-role.kubernetes.io/edge': '' },
              annotations: world.node.annotations ?? {},
            },
            internalIps: world.node.ips ?? ['10.20.0.11'],
          }
        : null,
    ownershipOf: async () => world.lease ?? null,
    otherClaimsOn: async (instanceId, name) =>
      Object.entries(world.claims ?? {})
        .filter(([other, claimed]) => claimed === instanceId && other !== name)
        .map(([other]) => other),
    pingStatusOf: async (instanceId) => {
      asked.push(instanceId);
      return world.ping?.[instanceId];
    },
  };
  return { ports, asked };
}

const request = (extra: Partial<RemoveRequest> = {}): RemoveRequest => ({
  mode: 'remove',
  nodeName: 'edge-1',
  drain: false,
  force: false,
  hostChanged: true,
  ...extra,
});

describe('inspectRemoval', () => {
  it("resets the host the node's annotation names when SSM reaches it, with the node's keadm", async () => {
    // Prepare
    const { ports } = portsOf({
      node: {
        annotations: {
          'edgekeeper.io/instance-id': HOST,
          'edgekeeper.io/keadm-profile': 'upstream',
          'edgekeeper.io/kubeedge-version': 'v1.17.0',
        },
      },
      claims: { 'edge-1': HOST },
      ping: { [HOST]: 'Online' },
    });

    // Act
    const inspection = await inspectRemoval(request(), ports, 'v1.6.1');

    // Assess
    expect(inspection).toEqual({
      nodeExists: true,
      instanceId: HOST,
      nodeIp: '10.20.0.11',
      hostReset: { action: 'reset' },
      notice: null,
      keadm: { profile: 'upstream', version: 'v1.17.0' },
    });
  });

  it('finds the host of a half-joined node (no annotation) from its lock Lease record', async () => {
    // Prepare: the join crashed after the script was sent; only the Lease knows the instance
    const { ports } = portsOf({
      node: {},
      lease: { instanceId: HOST, nodeIp: '10.20.0.11' },
      ping: { [HOST]: 'Online' },
    });

    // Act
    const inspection = await inspectRemoval(request(), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({ nodeExists: true, instanceId: HOST, hostReset: { action: 'reset' } });
    expect(inspection.keadm).toEqual({ profile: 'fork', version: 'v1.6.1' });
  });

  it('cleans the leftovers of a node that is already gone, host included, and says so', async () => {
    // Prepare: a removal killed after "Delete the node" left the Lease
    const { ports } = portsOf({
      node: null,
      lease: { instanceId: HOST, nodeIp: '10.20.0.11' },
      ping: { [HOST]: 'Online' },
    });

    // Act
    const inspection = await inspectRemoval(request(), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({
      nodeExists: false,
      instanceId: HOST,
      nodeIp: '10.20.0.11',
      hostReset: { action: 'reset' },
      notice: `node edge-1 was already gone: cleaning only what edgekeeper left for it (locks, routing, host ${HOST})`,
    });
  });

  it('succeeds with nothing to reset for a gone node that left no record', async () => {
    // Prepare
    const { ports, asked } = portsOf({ node: null, lease: null });

    // Act
    const inspection = await inspectRemoval(request(), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({
      nodeExists: false,
      instanceId: null,
      nodeIp: null,
      hostReset: { action: 'skip', reason: 'no node and no host recorded for it: nothing to reset' },
      notice: 'node edge-1 was already gone: cleaning only what edgekeeper left for it (locks, routing)',
    });
    expect(asked).toEqual([]);
  });

  it('never resets a host that now serves another node, and does not claim that host', async () => {
    // Prepare: stale node edge-1 still names the host, which now backs edge-2
    const { ports, asked } = portsOf({
      node: { annotations: { 'edgekeeper.io/instance-id': HOST } },
      claims: { 'edge-2': HOST },
      ping: { [HOST]: 'Online' },
    });

    // Act
    const inspection = await inspectRemoval(request(), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({
      instanceId: null,
      hostReset: {
        action: 'skip',
        reason: `host ${HOST} now serves node edge-2: not reset (forceHost ${HOST} resets it anyway)`,
      },
    });
    expect(asked).toEqual([]);
  });

  it('resets a host another node claims only when forceHost names it', async () => {
    // Prepare
    const { ports } = portsOf({ node: {}, claims: { 'edge-2': HOST }, ping: { [HOST]: 'Online' } });

    // Act
    const inspection = await inspectRemoval(request({ instanceId: HOST, forceHost: HOST }), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({ instanceId: HOST, hostReset: { action: 'reset' } });
  });

  it('does not reset in a rollback whose join changed nothing on the host (preflight failure)', async () => {
    // Prepare
    const { ports, asked } = portsOf({ node: null, ping: { [HOST]: 'Online' } });

    // Act
    const inspection = await inspectRemoval(
      request({ mode: 'rollback', instanceId: HOST, hostChanged: false }),
      ports,
      'v1.6.1',
    );

    // Assess
    expect(inspection).toMatchObject({
      nodeExists: false,
      instanceId: HOST,
      hostReset: { action: 'skip', reason: `the failed join changed nothing on host ${HOST}: not reset` },
      notice: null,
    });
    expect(asked).toEqual([]);
  });

  it('a rollback whose join changed the host resets it, though the node never registered', async () => {
    // Prepare
    const { ports } = portsOf({ node: null, ping: { [HOST]: 'Online' } });

    // Act
    const inspection = await inspectRemoval(request({ mode: 'rollback', instanceId: HOST }), ports, 'v1.6.1');

    // Assess
    expect(inspection).toMatchObject({ nodeExists: false, instanceId: HOST, hostReset: { action: 'reset' } });
  });

  it('refuses an offline host unless force, which skips it naming what stays', async () => {
    // Prepare
    const world: World = { node: { annotations: { 'edgekeeper.io/instance-id': OTHER_HOST } }, ping: {} };

    // Act & Assess
    await expect(inspectRemoval(request(), portsOf(world).ports, 'v1.6.1')).rejects.toThrow(HostCannotBeResetError);
    const forced = await inspectRemoval(request({ force: true }), portsOf(world).ports, 'v1.6.1');
    expect(forced.hostReset).toMatchObject({ action: 'skip', notCleaned: expect.arrayContaining(['mosquitto']) });
  });

  it('removes a node joined by hand without force, saying its device must be reset there; an unrecorded one still needs force', async () => {
    // Prepare: the manual join records no instance, and says it was manual
    const manual: World = { node: { annotations: { 'edgekeeper.io/join-mode': 'manual' } } };
    const unrecorded: World = { node: { annotations: {} } };

    // Act
    const inspection = await inspectRemoval(request(), portsOf(manual).ports, 'v1.6.1');

    // Assess
    expect(inspection.hostReset).toEqual({
      action: 'skip',
      reason: 'node edge-1 was joined by hand: its device is not reset; run "keadm reset" on it',
      notCleaned: expect.arrayContaining(['mosquitto']),
    });
    expect(inspection.instanceId).toBeNull();
    await expect(inspectRemoval(request(), portsOf(unrecorded).ports, 'v1.6.1')).rejects.toThrow(
      HostCannotBeResetError,
    );
  });

  it('refuses a cloud node before asking anything else', async () => {
    // Prepare
    const { ports, asked } = portsOf({ node: { labels: { 'node-role.kubernetes.io/worker': '' } } });

    // Act & Assess
    await expect(inspectRemoval(request(), ports, 'v1.6.1')).rejects.toThrow('is not an edge node');
    expect(asked).toEqual([]);
  });
});
