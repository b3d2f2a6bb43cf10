import { pluginOutput } from '../../../local/sandbox/hosts/commands';
import { orchestrationDir } from '../../../local/sandbox/hosts/host';
import { osReleaseFiles, unameStandIn } from '../../../local/sandbox/hosts/host-root';
import { bindOrder } from '../../../local/sandbox/hosts/namespace';
import { portInsideHost } from '../../../local/sandbox/hosts/traits';

describe('host layout', () => {
  it('covers the directory holding the host dir last, so its sources stay reachable while mounting', () => {
    expect(bindOrder('/tmp/x/hosts/mi-1').at(-1)).toBe('/tmp');
    expect(bindOrder('/root/project/.sandbox/hosts/mi-1').at(-1)).toBe('/root');
    expect(bindOrder('/data/project/.sandbox/hosts/mi-1')).toEqual([
      '/etc',
      '/var',
      '/run',
      '/tmp',
      '/root',
      '/opt',
      '/home',
      '/mnt',
      '/srv',
    ]);
  });

  it('relays cloudcore to the KubeSphere public ports and keeps the mirror port', () => {
    expect(portInsideHost('cloudhub', 41234)).toBe(10000);
    expect(portInsideHost('tunnel', 41235)).toBe(10004);
    expect(portInsideHost('mirror', 41236)).toBe(41236);
  });

  it('writes os-release for the OS trait', () => {
    expect(osReleaseFiles({ os: 'ubuntu', osVersion: '22.04' })['os-release']).toMatch(/^ID=ubuntu$/m);
    expect(osReleaseFiles({ os: 'ubuntu', osVersion: '22.04' })['os-release']).toMatch(/^VERSION_CODENAME=jammy$/m);
    const centos = osReleaseFiles({ os: 'centos', osVersion: '7.9.2009' });
    expect(centos['os-release']).toMatch(/^ID="centos"$/m);
    expect(centos['os-release']).toMatch(/^VERSION_ID="7"$/m);
    expect(centos['centos-release']).toBe('CentOS Linux release 7.9.2009 (Core)\n');
  });

  it('rewrites the real machine name in uname output', () => {
    expect(unameStandIn('aarch64', 'x86_64')).toContain('out//x86_64/aarch64');
  });

  it('puts scripts where the SSM agent does', () => {
    expect(orchestrationDir('mi-0ed9e000000000001', 'c-1')).toBe(
      'var/lib/amazon/ssm/mi-0ed9e000000000001/document/orchestration/c-1/awsrunShellScript/0.awsrunShellScript',
    );
  });

  it('joins stdout and stderr in the plugin output and cuts it at 2,500 characters', () => {
    expect(pluginOutput('out\n', '')).toBe('out\n');
    expect(pluginOutput('out\n', 'err\n')).toBe('out\n\n----------ERROR-------\nerr\n');
    expect(pluginOutput('x'.repeat(3000), 'e')).toHaveLength(2500);
  });
});
