import { DEFAULT_HOST_FIXTURE, loadHostFixture, parseHostFixture } from '../../../local/sandbox/hosts';

describe('host fixture', () => {
  it('describes six edge hosts, then two cloud hosts tagged for SSM targeting, with fixed instance ids', async () => {
    const hosts = await loadHostFixture(DEFAULT_HOST_FIXTURE);
    expect(hosts.map((h) => [h.name, h.instanceId, h.role])).toEqual([
      ['edge-ubuntu-amd64', 'mi-0ed9e000000000001', 'edge'],
      ['edge-ubuntu-arm64', 'mi-0ed9e000000000002', 'edge'],
      ['edge-centos-armv7', 'mi-0ed9e000000000003', 'edge'],
      ['edge-old-docker', 'mi-0ed9e000000000004', 'edge'],
      ['edge-offline', 'mi-0ed9e000000000005', 'edge'],
      ['edge-firewalled', 'mi-0ed9e000000000006', 'edge'],
      ['cloud-master', 'mi-0c10d0000000000a1', 'cloud'],
      ['cloud-worker', 'mi-0c10d0000000000a2', 'cloud'],
    ]);
    expect(hosts.find((h) => h.name === 'edge-old-docker')?.runtime).toEqual({ kind: 'docker', version: '18.09.9' });
    expect(hosts.filter((h) => !h.online).map((h) => h.name)).toEqual(['edge-offline']);
    expect(hosts.filter((h) => !h.cloudcoreReachable).map((h) => h.name)).toEqual(['edge-firewalled']);
    // The cloud hosts are the sandbox cluster's master and worker (their InternalIPs in fixtures/cluster.yaml).
    expect(hosts.filter((h) => h.role === 'cloud').map((h) => [h.ipAddress, h.tags, h.runtime])).toEqual([
      ['172.31.0.10', { 'edgekeeper-role': 'cloud' }, { kind: 'docker', version: '20.10.8' }],
      ['172.31.0.11', { 'edgekeeper-role': 'cloud' }, { kind: 'docker', version: '20.10.8' }],
    ]);
    expect(hosts.filter((h) => h.role === 'edge').every((h) => Object.keys(h.tags).length === 0)).toBe(true);
  });

  it('makes a host an untagged edge host unless it says otherwise', () => {
    const text = `hosts:
  - { name: a, instanceId: mi-0ed9e000000000001, os: ubuntu, osVersion: "20.04", arch: x86_64,
      runtime: { kind: none }, online: true, cloudcoreReachable: true, ipAddress: 10.0.0.1 }
`;
    expect(parseHostFixture(text)[0]).toMatchObject({ role: 'edge', tags: {} });
  });

  it('fails on an unknown role, naming the field', () => {
    const text = `hosts:
  - { name: a, instanceId: mi-0ed9e000000000001, os: ubuntu, osVersion: "20.04", arch: x86_64,
      runtime: { kind: none }, online: true, cloudcoreReachable: true, ipAddress: 10.0.0.1, role: master }
`;
    expect(() => parseHostFixture(text, 'test.yaml')).toThrow(
      expect.objectContaining({ name: 'HostFixtureError', message: expect.stringMatching(/test\.yaml.*role/s) }),
    );
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
