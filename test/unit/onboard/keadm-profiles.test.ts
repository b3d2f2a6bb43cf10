import {
  joinFlagsFor,
  joinPlanFor,
  keadmJoinArgs,
  kubeedgeVersionArg,
  normalizeVersion,
  profileFor,
  runtimeArgsFor,
  supportedVersions,
  taintAppliedAtJoin,
  UnsupportedKeadmFlagError,
  UnsupportedKubeedgeVersionError,
} from '../../../functions/shared/keadm/profiles';
import { settingsFor } from './fixtures';

describe('keadm profiles', () => {
  it('supports the KubeSphere version list plus KubeSphere 3.2/3.3 fork versions and upstream ≥ 1.12 from the table', () => {
    expect(supportedVersions()).toEqual([
      'v1.5.0',
      'v1.6.0',
      'v1.6.1',
      'v1.6.2',
      'v1.7.2',
      'v1.9.2',
      'v1.12.0',
      'v1.13.0',
      'v1.15.0',
      'v1.17.0',
      'v1.20.0',
    ]);
    for (const version of supportedVersions())
      expect(joinFlagsFor(profileFor(version), version).length).toBeGreaterThan(5);
  });

  it('names the profile from the version in any spelling', () => {
    expect(profileFor('v1.6.1')).toBe('fork');
    expect(profileFor('1.9.2')).toBe('fork');
    expect(profileFor('v1.9.2-kubesphere')).toBe('fork');
    expect(profileFor('v1.15.0')).toBe('upstream');
    expect(normalizeVersion('1.6.1-kubesphere')).toBe('v1.6.1');
  });

  it('fails for an unsupported version, listing the supported ones', () => {
    expect(() => profileFor('v1.8.0')).toThrow(UnsupportedKubeedgeVersionError);
    expect(() => profileFor('v1.8.0')).toThrow('kubeedgeVersion v1.8.0 is not supported: expected one of v1.5.0');
    expect(() => joinFlagsFor('upstream', 'v1.6.1')).toThrow(UnsupportedKubeedgeVersionError);
  });

  it('gives --kubeedge-version without v to the fork and with v to upstream ≥ 1.11', () => {
    expect(kubeedgeVersionArg('fork', 'v1.6.1')).toBe('1.6.1');
    expect(kubeedgeVersionArg('fork', 'v1.9.2')).toBe('1.9.2');
    expect(kubeedgeVersionArg('upstream', 'v1.15.0')).toBe('v1.15.0');
  });

  it('puts the taint at join only from fork v1.6.1', () => {
    expect(taintAppliedAtJoin('fork', 'v1.5.0')).toBe(false);
    expect(taintAppliedAtJoin('fork', 'v1.6.0')).toBe(false);
    expect(taintAppliedAtJoin('fork', 'v1.6.1')).toBe(true);
    expect(taintAppliedAtJoin('upstream', 'v1.20.0')).toBe(false);
  });

  it('refuses any flag the version lacks', () => {
    const base = { 'cloudcore-ipport': '203.0.113.9:10000' };
    expect(() => keadmJoinArgs('fork', 'v1.5.0', { ...base, region: 'zh' })).toThrow(
      'keadm fork v1.5.0 has no --region',
    );
    expect(() => keadmJoinArgs('fork', 'v1.6.0', { ...base, 'with-edge-taint': true })).toThrow(
      UnsupportedKeadmFlagError,
    );
    expect(() => keadmJoinArgs('upstream', 'v1.15.0', { ...base, 'edgenode-ip': '1.2.3.4' })).toThrow(
      'has no --edgenode-ip',
    );
    expect(() => keadmJoinArgs('fork', 'v1.6.1', { region: 'zh' })).toThrow('requires --cloudcore-ipport');
    expect(() => keadmJoinArgs('fork', 'v1.6.1', { ...base, 'with-edge-taint': 'yes' })).toThrow('takes true or false');
    expect(() => keadmJoinArgs('fork', 'v1.9.2', { ...base, labels: ['a=b,c'] })).toThrow('must not contain ","');
  });

  it('builds the fork v1.5.0 join without --region or --with-edge-taint, leaving the taint to the API', () => {
    const plan = joinPlanFor(settingsFor('v1.5.0', { labels: { site: 'a' } }));
    expect(plan.args).toEqual([
      'join',
      '--kubeedge-version=1.5.0',
      '--cloudcore-ipport=203.0.113.9:10000',
      '--certport=10002',
      '--quicport=10001',
      '--tunnelport=10004',
      '--edgenode-name=edge-1',
      '--edgenode-ip=192.168.10.21',
    ]);
    expect(plan.applyViaApi).toEqual({ taint: true, labels: { site: 'a' } });
    expect(plan.nodeIpMustBeLocal).toBe(false);
  });

  it('builds the fork v1.6.1 join as KubeSphere does, with --region and --with-edge-taint', () => {
    const plan = joinPlanFor(settingsFor('v1.6.1', { region: 'en' }));
    expect(plan.args).toEqual([
      'join',
      '--kubeedge-version=1.6.1',
      '--region=en',
      '--cloudcore-ipport=203.0.113.9:10000',
      '--certport=10002',
      '--quicport=10001',
      '--tunnelport=10004',
      '--edgenode-name=edge-1',
      '--edgenode-ip=192.168.10.21',
      '--with-edge-taint',
    ]);
    expect(plan.applyViaApi).toEqual({ taint: false, labels: {} });
  });

  it('omits --with-edge-taint when no taint is asked', () => {
    const plan = joinPlanFor(settingsFor('v1.6.1', { taint: false }));
    expect(plan.args).not.toContain('--with-edge-taint');
    expect(plan.applyViaApi.taint).toBe(false);
  });

  it('passes labels at join where keadm has --labels (fork v1.9.2)', () => {
    const plan = joinPlanFor(settingsFor('v1.9.2', { labels: { site: 'a', 'example.com/zone': 'z1' } }));
    expect(plan.args).toContain('--labels=site=a,example.com/zone=z1');
    expect(plan.applyViaApi.labels).toEqual({});
  });

  it('builds the upstream 1.15 join with its own flags and the taint via the API', () => {
    const plan = joinPlanFor(settingsFor('v1.15.0', { labels: { site: 'a' } }));
    expect(plan.args).toEqual([
      'join',
      '--kubeedge-version=v1.15.0',
      '--cloudcore-ipport=203.0.113.9:10000',
      '--certport=10002',
      '--edgenode-name=edge-1',
      '--labels=site=a',
    ]);
    expect(plan.applyViaApi).toEqual({ taint: true, labels: {} });
    expect(plan.nodeIpMustBeLocal).toBe(true);
  });

  it('fails for upstream when the public tunnel port is not 10004', () => {
    const settings = settingsFor('v1.20.0');
    const ports = { ...settings.cloudcore.ports, tunnel: 30004 };
    expect(() => joinPlanFor({ ...settings, cloudcore: { ...settings.cloudcore, ports } })).toThrow(
      'expected public tunnel port 10004, got 30004',
    );
  });

  it('selects runtimes with the flags each keadm has', () => {
    expect(runtimeArgsFor('fork', 'v1.6.1')).toEqual({
      docker: [],
      containerd: ['--runtimetype=remote', '--remote-runtime-endpoint=unix:///run/containerd/containerd.sock'],
      crio: ['--runtimetype=remote', '--remote-runtime-endpoint=unix:///var/run/crio/crio.sock'],
    });
    expect(runtimeArgsFor('upstream', 'v1.12.0').docker).toEqual([]);
    expect(runtimeArgsFor('upstream', 'v1.13.0').docker).toEqual(['--runtimetype=docker']);
    expect(runtimeArgsFor('upstream', 'v1.20.0')).toEqual({
      docker: ['--remote-runtime-endpoint=unix:///var/run/cri-dockerd.sock'],
      containerd: ['--remote-runtime-endpoint=unix:///run/containerd/containerd.sock'],
      crio: ['--remote-runtime-endpoint=unix:///var/run/crio/crio.sock'],
    });
  });
});
