import { DEFAULT_HOST_FIXTURE, loadHostFixture, parseHostFixture } from '../../../local/sandbox/hosts';

describe('host fixture', () => {
  it('describes the six sandbox hosts with fixed instance ids', async () => {
    const hosts = await loadHostFixture(DEFAULT_HOST_FIXTURE);
    expect(hosts.map((h) => [h.name, h.instanceId])).toEqual([
      ['edge-ubuntu-amd64', 'mi-0ed9e000000000001'],
      ['edge-ubuntu-arm64', 'mi-0ed9e000000000002'],
      ['edge-centos-armv7', 'mi-0ed9e000000000003'],
      ['edge-old-docker', 'mi-0ed9e000000000004'],
      ['edge-offline', 'mi-0ed9e000000000005'],
      ['edge-firewalled', 'mi-0ed9e000000000006'],
    ]);
    expect(hosts.find((h) => h.name === 'edge-old-docker')?.runtime).toEqual({ kind: 'docker', version: '18.09.9' });
    expect(hosts.filter((h) => !h.online).map((h) => h.name)).toEqual(['edge-offline']);
    expect(hosts.filter((h) => !h.cloudcoreReachable).map((h) => h.name)).toEqual(['edge-firewalled']);
  });

  it('fails on an instance id that is not mi- and 17 hex digits, naming the field', () => {
    const text = `hosts:
  - { name: a, instanceId: mi-123, os: ubuntu, osVersion: "20.04", arch: x86_64, runtime: { kind: none },
      online: true, cloudcoreReachable: true, ipAddress: 10.0.0.1 }
`;
    expect(() => parseHostFixture(text, 'test.yaml')).toThrow(
      expect.objectContaining({ name: 'HostFixtureError', message: expect.stringMatching(/test\.yaml.*instanceId/s) }),
    );
  });

  it('fails on duplicate instance ids', () => {
    const host = `{ name: NAME, instanceId: mi-0ed9e000000000001, os: ubuntu, osVersion: "20.04", arch: x86_64,
      runtime: { kind: none }, online: true, cloudcoreReachable: true, ipAddress: 10.0.0.1 }`;
    const text = `hosts:\n  - ${host.replace('NAME', 'a')}\n  - ${host.replace('NAME', 'b')}\n`;
    expect(() => parseHostFixture(text)).toThrow(/instance ids must be unique/);
  });
});
