import { joinSettingsOf } from '../../../functions/shared/join-settings/cluster';
import {
  ARCH_PLACEHOLDER as ARCH,
  CloudcoreConfigError,
  downloadUrlFor,
  resolveJoinSettings,
} from '../../../functions/shared/join-settings/core';
import { readSettings } from '../../../functions/shared/settings';
import { CLOUDCORE_YAML } from './fixtures';

const request = { nodeName: 'edge-1', nodeIp: '192.168.10.21', taint: true };

describe('resolveJoinSettings', () => {
  it('uses KubeSphere defaults: fork v1.6.1, zh, advertise address, the KubeSphere public ports', () => {
    expect(resolveJoinSettings(request, { cloudcoreYaml: CLOUDCORE_YAML })).toEqual({
      nodeName: 'edge-1',
      nodeIp: '192.168.10.21',
      profile: 'fork',
      version: 'v1.6.1',
      region: 'zh',
      downloadUrl: `https://kubeedge.pek3b.qingstor.com/bin/v1.6.1/${ARCH}/keadm-v1.6.1-linux-${ARCH}.tar.gz`,
      cloudcore: {
        address: '203.0.113.9',
        ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
      },
      taint: true,
      labels: {},
    });
  });

  it('builds the en and upstream URLs', () => {
    expect(downloadUrlFor('fork', 'v1.6.2', 'en')).toBe(
      `https://github.com/kubesphere/kubeedge/releases/download/v1.6.2-kubesphere/keadm-v1.6.2-linux-${ARCH}.tar.gz`,
    );
    expect(downloadUrlFor('upstream', 'v1.15.0', 'zh')).toBe(
      `https://github.com/kubeedge/kubeedge/releases/download/v1.15.0/keadm-v1.15.0-linux-${ARCH}.tar.gz`,
    );
  });

  it('replaces the origin with a mirror, keeping the path', () => {
    expect(downloadUrlFor('fork', 'v1.6.1', 'zh', 'https://mirror.local/kubeedge/')).toBe(
      `https://mirror.local/kubeedge/bin/v1.6.1/${ARCH}/keadm-v1.6.1-linux-${ARCH}.tar.gz`,
    );
    const settings = resolveJoinSettings(
      { ...request, region: 'en' },
      { cloudcoreYaml: CLOUDCORE_YAML },
      { downloadMirror: 'http://10.0.0.2:8080' },
    );
    expect(settings.downloadUrl).toBe(
      `http://10.0.0.2:8080/kubesphere/kubeedge/releases/download/v1.6.1-kubesphere/keadm-v1.6.1-linux-${ARCH}.tar.gz`,
    );
  });

  it('takes input over edge-watcher-config over defaults', () => {
    const cluster = { cloudcoreYaml: CLOUDCORE_YAML, edgeWatcherConfig: { region: 'en', version: 'v1.6.2' } };
    const fromConfig = resolveJoinSettings(request, cluster, { defaultVersion: 'v1.5.0', defaultRegion: 'zh' });
    expect([fromConfig.version, fromConfig.region]).toEqual(['v1.6.2', 'en']);
    const fromInput = resolveJoinSettings({ ...request, kubeedgeVersion: '1.9.2', region: 'zh' }, cluster);
    expect([fromInput.version, fromInput.region, fromInput.profile]).toEqual(['v1.9.2', 'zh', 'fork']);
    const fromDefaults = resolveJoinSettings(
      request,
      { cloudcoreYaml: CLOUDCORE_YAML },
      { defaultVersion: 'v1.15.0', defaultRegion: 'en' },
    );
    expect([fromDefaults.version, fromDefaults.region, fromDefaults.profile]).toEqual(['v1.15.0', 'en', 'upstream']);
  });

  it("uses edge-watcher-config's uri as the whole URL, with $arch as the placeholder, for its own version only", () => {
    const uri = 'https://files.example.com/keadm-v1.6.1-linux-$arch.tar.gz';
    const cluster = { cloudcoreYaml: CLOUDCORE_YAML, edgeWatcherConfig: { region: 'zh', version: 'v1.6.1', uri } };
    expect(resolveJoinSettings(request, cluster).downloadUrl).toBe(
      `https://files.example.com/keadm-v1.6.1-linux-${ARCH}.tar.gz`,
    );
    expect(resolveJoinSettings({ ...request, kubeedgeVersion: 'v1.6.2' }, cluster).downloadUrl).toContain(
      '/bin/v1.6.2/',
    );
  });

  it('prefers the configured public address and ports over cloudcore.yaml', () => {
    const ports = { cloudhub: 30000, quic: 30001, https: 30002, stream: 30003, tunnel: 30004 };
    const settings = resolveJoinSettings(
      request,
      { cloudcoreYaml: 'not: [yaml' },
      { cloudcorePublicAddress: 'edge.example.com', cloudcorePorts: ports },
    );
    expect(settings.cloudcore).toEqual({ address: 'edge.example.com', ports });
  });

  it('fails naming the key when cloudcore.yaml has no advertise address', () => {
    const yaml = 'modules:\n  cloudHub:\n    advertiseAddress: []\n';
    expect(() => resolveJoinSettings(request, { cloudcoreYaml: yaml })).toThrow(CloudcoreConfigError);
    expect(() => resolveJoinSettings(request, { cloudcoreYaml: yaml })).toThrow(
      'cloudcore.yaml has no modules.cloudHub.advertiseAddress[0]',
    );
    expect(() => resolveJoinSettings(request, { cloudcoreYaml: 'a: [' })).toThrow('cloudcore.yaml is not valid YAML');
  });
});

describe('joinSettingsOf (validation resolves the settings from the ConfigMaps it has read)', () => {
  const settings = readSettings({});

  it('resolves the settings as readJoinSettings does, from the ConfigMaps as read', () => {
    const edgeWatcherConfig = { region: 'en', version: 'v1.6.2' };
    expect(joinSettingsOf(settings, request, { cloudcoreYaml: CLOUDCORE_YAML, edgeWatcherConfig })).toEqual(
      resolveJoinSettings(
        request,
        { cloudcoreYaml: CLOUDCORE_YAML, edgeWatcherConfig },
        {
          defaultVersion: settings.defaultKubeedgeVersion,
          defaultRegion: settings.defaultRegion,
          cloudcorePublicAddress: settings.cloudcorePublicAddress,
          cloudcorePorts: settings.cloudcorePorts,
          downloadMirror: settings.downloadMirror,
        },
      ),
    );
    expect(joinSettingsOf(settings, request, { cloudcoreYaml: CLOUDCORE_YAML, edgeWatcherConfig }).region).toBe('en');
  });

  it('fails with CloudcoreConfigError, naming the ConfigMap, when cloudcore’s ConfigMap has no cloudcore.yaml', () => {
    expect(() => joinSettingsOf(settings, request, { edgeWatcherConfig: null })).toThrow(
      new CloudcoreConfigError('ConfigMap kubeedge/cloudcore has no key cloudcore.yaml'),
    );
  });
});
