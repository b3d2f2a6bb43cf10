import { loadHostFixture } from '../../../local/sandbox/hosts';
import { canJoin, fleetHostSpecs, MAX_FLEET_HOSTS } from '../../../local/sandbox/hosts/fleet';
import { detectIsolationMode, ISOLATION_MODE_ENV, ISOLATION_MODES } from '../../../local/sandbox/hosts/isolation-mode';
import { templateKey } from '../../../local/sandbox/hosts/root-templates';
import { HostSpecSchema } from '../../../local/sandbox/hosts/traits';

describe('fleet hosts', () => {
  it('joins only the fixture hosts a join can succeed on', async () => {
    const joinable = (await loadHostFixture()).filter(canJoin).map((h) => h.name);
    expect(joinable).toEqual(['edge-ubuntu-amd64', 'edge-ubuntu-arm64', 'edge-centos-armv7']);
  });

  it('clones the joinable hosts in turn with names, ids and addresses of their own, then adds the cloud hosts', async () => {
    const fixture = await loadHostFixture();
    const fleet = fleetHostSpecs(200, fixture);
    const edge = fleet.filter((h) => h.role === 'edge');
    expect(edge).toHaveLength(200);
    expect(fleet.filter((h) => h.role === 'cloud').map((h) => h.name)).toEqual(['cloud-master', 'cloud-worker']);
    for (const host of fleet) expect(HostSpecSchema.parse(host)).toEqual(host);
    for (const key of ['name', 'instanceId', 'ipAddress'] as const) {
      expect(new Set(fleet.map((h) => h[key])).size).toBe(fleet.length);
    }
    expect(edge.slice(0, 4).map((h) => [h.name, h.instanceId, h.ipAddress, h.arch])).toEqual([
      ['fleet-0001', 'mi-0f1ee000000000001', '10.64.0.1', 'x86_64'],
      ['fleet-0002', 'mi-0f1ee000000000002', '10.64.0.2', 'aarch64'],
      ['fleet-0003', 'mi-0f1ee000000000003', '10.64.0.3', 'armv7l'],
      ['fleet-0004', 'mi-0f1ee000000000004', '10.64.0.4', 'x86_64'],
    ]);
    expect(fleetHostSpecs(MAX_FLEET_HOSTS, fixture).map((h) => h.ipAddress)).toEqual(
      expect.arrayContaining(['10.64.0.250', '10.64.1.1', '10.64.1.50']),
    );
    expect(edge.every(canJoin)).toBe(true);
    // three kinds of host: three roots to provision, every other host a copy
    expect(new Set(edge.map(templateKey)).size).toBe(3);
  });

  it('refuses a fleet larger than one batch may be', async () => {
    const fixture = await loadHostFixture();
    expect(() => fleetHostSpecs(0, fixture)).toThrow(RangeError);
    expect(() => fleetHostSpecs(MAX_FLEET_HOSTS + 1, fixture)).toThrow('a fleet has 1-300 edge hosts, not 301');
    expect(() =>
      fleetHostSpecs(
        1,
        fixture.filter((h) => !canJoin(h)),
      ),
    ).toThrow('no edge host that can join');
  });
});

describe('the shared-network mode', () => {
  it('is used only when asked for', () => {
    expect(ISOLATION_MODES).toContain('shared-network');
    expect(detectIsolationMode({ [ISOLATION_MODE_ENV]: 'shared-network' })).toBe('shared-network');
    expect(detectIsolationMode({ [ISOLATION_MODE_ENV]: 'portable' })).toBe('portable');
  });
});
