import { readSettings, SETTINGS_ENV, SettingsError } from '../../../functions/shared/settings';
import { parseConfig, stepEnvironment } from '../../../lib/config';
import { thrown } from '../../support/thrown';

describe('readSettings', () => {
  it('falls back to the documented defaults when nothing is set', () => {
    // Act
    const settings = readSettings({});

    // Assess
    expect(settings).toEqual({
      cloudcorePorts: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
      defaultKubeedgeVersion: 'v1.6.1',
      defaultRegion: 'zh',
      nodeReadyTimeoutSeconds: 600,
      hostCommandTimeoutSeconds: 900,
      lockDurationSeconds: 3600,
      daemonSetAllowlist: [],
      helmRelease: 'kubeedge',
      routing: 'off',
      cloudHostTag: 'edgekeeper-role=cloud',
    });
  });

  it('treats an empty variable as unset', () => {
    // Act
    const settings = readSettings({ EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS: '', EDGEKEEPER_DAEMONSET_ALLOWLIST: '' });

    // Assess
    expect(settings.nodeReadyTimeoutSeconds).toBe(600);
    expect(settings.daemonSetAllowlist).toEqual([]);
  });

  it('reads every variable it documents', () => {
    // Prepare
    const env = {
      EDGEKEEPER_KUBECONFIG_PARAMETER: '/site-a/kubeconfig',
      KUBECONFIG: '/home/ops/.kube/config',
      EDGEKEEPER_SSM_ENDPOINT: 'http://127.0.0.1:4583',
      EDGEKEEPER_CLOUDCORE_ADDRESS: '203.0.113.10',
      EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=20000, quic=20001,https=20002,stream=20003,tunnel=10004',
      EDGEKEEPER_DOWNLOAD_MIRROR: 'https://mirror.example.com/kubeedge',
      EDGEKEEPER_DEFAULT_KUBEEDGE_VERSION: 'v1.9.2',
      EDGEKEEPER_DEFAULT_REGION: 'en',
      EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS: '300',
      EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS: '1200',
      EDGEKEEPER_LOCK_DURATION_SECONDS: '7200',
      EDGEKEEPER_DAEMONSET_ALLOWLIST: 'monitoring/edge-agent, kube-system/edgemesh-agent,,',
      EDGEKEEPER_HELM_RELEASE: 'cloudcore',
      EDGEKEEPER_ROUTING: 'on',
      EDGEKEEPER_CLOUD_HOST_TAG: 'role=control-plane',
      EDGEKEEPER_STREAM_ENDPOINT: 'cloudcore.internal:30003',
    };

    // Act
    const settings = readSettings(env);

    // Assess
    expect(settings).toEqual({
      kubeconfigParameter: '/site-a/kubeconfig',
      kubeconfigPath: '/home/ops/.kube/config',
      ssmEndpoint: 'http://127.0.0.1:4583',
      cloudcorePublicAddress: '203.0.113.10',
      cloudcorePorts: { cloudhub: 20000, quic: 20001, https: 20002, stream: 20003, tunnel: 10004 },
      downloadMirror: 'https://mirror.example.com/kubeedge',
      defaultKubeedgeVersion: 'v1.9.2',
      defaultRegion: 'en',
      nodeReadyTimeoutSeconds: 300,
      hostCommandTimeoutSeconds: 1200,
      lockDurationSeconds: 7200,
      daemonSetAllowlist: ['monitoring/edge-agent', 'kube-system/edgemesh-agent'],
      helmRelease: 'cloudcore',
      routing: 'on',
      cloudHostTag: 'role=control-plane',
      streamEndpoint: 'cloudcore.internal:30003',
    });
  });

  it.each([
    ['EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS', 'soon', 'expected number, received NaN'],
    ['EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS', '-5', 'expected number to be >0'],
    ['EDGEKEEPER_LOCK_DURATION_SECONDS', '1.5', 'expected int, received number'],
    ['EDGEKEEPER_DEFAULT_REGION', 'fr', 'expected one of "zh"|"en"'],
    ['EDGEKEEPER_SSM_ENDPOINT', 'ssm endpoint', 'Invalid URL'],
  ])('fails with SettingsError naming %s, the value %s and the reason', (variable, value, reason) => {
    // Act
    const error = thrown(() => readSettings({ [variable]: value }));

    // Assess
    expect(error).toBeInstanceOf(SettingsError);
    expect(error.name).toBe('SettingsError');
    expect(error.message).toMatch(/^invalid settings: /);
    expect(error.message).toContain(`${variable}="${value}": `);
    expect(error.message).toContain(reason);
  });

  it('fails naming the port that is wrong in a port list', () => {
    // Act
    const error = thrown(() =>
      readSettings({ EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=10000,quic=ten,https=10002,stream=10003,tunnel=10004' }),
    );

    // Assess
    expect(error.name).toBe('SettingsError');
    expect(error.message).toBe(
      'invalid settings: EDGEKEEPER_CLOUDCORE_PORTS="cloudhub=10000,quic=ten,https=10002,stream=10003,tunnel=10004": ' +
        'quic: Invalid input: expected number, received NaN',
    );
  });

  it('fails on a port list that leaves a port out or names one it does not know', () => {
    // Act
    const partial = thrown(() => readSettings({ EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=10000' }));
    const unknown = thrown(() =>
      readSettings({ EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=1,quic=2,https=3,stream=4,tunnel=5,edgemesh=6' }),
    );

    // Assess
    expect(partial.message).toContain('tunnel: Invalid input: expected number, received undefined');
    expect(unknown.message).toContain('Unrecognized key: "edgemesh"');
  });

  it('fails on a port outside 1-65535', () => {
    // Act
    const error = thrown(() =>
      readSettings({ EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=70000,quic=2,https=3,stream=4,tunnel=5' }),
    );

    // Assess
    expect(error.message).toContain('cloudhub: Too big: expected number to be <=65535');
  });
});

describe('parseConfig', () => {
  it('gives every setting its documented default when the context has none', () => {
    // Act
    const config = parseConfig(undefined);

    // Assess
    expect(config).toEqual({
      cluster: { kubeconfigParameterName: '/edgekeeper/kubeconfig' },
      cloudcore: { ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 } },
      keadm: { defaultVersion: 'v1.6.1', defaultRegion: 'zh' },
      lambda: { architecture: 'arm64', logRetentionDays: 30 },
      timeouts: { nodeReadySeconds: 600, hostCommandSeconds: 900 },
      daemonSetAllowlist: [],
      routing: { enabled: false, cloudHostTag: 'edgekeeper-role=cloud' },
      helmRelease: 'kubeedge',
    });
  });

  it('fills the defaults around what is given', () => {
    // Act
    const config = parseConfig({ cloudcore: { publicAddress: '203.0.113.10' }, timeouts: { nodeReadySeconds: 120 } });

    // Assess
    expect(config.cloudcore).toEqual({
      publicAddress: '203.0.113.10',
      ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
    });
    expect(config.timeouts).toEqual({ nodeReadySeconds: 120, hostCommandSeconds: 900 });
  });

  it('reads the JSON string that `cdk -c edgekeeper=…` passes', () => {
    // Act
    const config = parseConfig('{"cloudcore":{"publicAddress":"203.0.113.10"}}');

    // Assess
    expect(config.cloudcore.publicAddress).toBe('203.0.113.10');
    expect(config.helmRelease).toBe('kubeedge');
  });

  it('fails naming the context key when `-c edgekeeper=…` is not JSON', () => {
    // Act
    const error = thrown(() => parseConfig('{cloudcore:'));

    // Assess
    expect(error.message).toMatch(/^invalid edgekeeper settings in the CDK context: edgekeeper is not JSON: /);
  });

  it.each([
    [
      { timeouts: { nodeReadySeconds: -5 } },
      'edgekeeper.timeouts.nodeReadySeconds: Too small: expected number to be >0 (got -5)',
    ],
    [
      { cluster: { kubeconfigParameterName: 'kubeconfig' } },
      'edgekeeper.cluster.kubeconfigParameterName: Invalid string: must start with "/" (got "kubeconfig")',
    ],
    [
      { lambda: { architecture: 'mips' } },
      'edgekeeper.lambda.architecture: Invalid option: expected one of "arm64"|"x86_64" (got "mips")',
    ],
    [
      { daemonSetAllowlist: ['monitoring/ok', 'Not A Name'] },
      'edgekeeper.daemonSetAllowlist.1: Invalid string: must match pattern /^[a-z0-9-]+\\/[a-z0-9.-]+$/ (got "Not A Name")',
    ],
    [{ keadm: { downloadMirror: 'mirror' } }, 'edgekeeper.keadm.downloadMirror: Invalid URL (got "mirror")'],
    [[], 'edgekeeper: Invalid input: expected object, received array (got [])'],
  ])('fails naming edgekeeper.<path>, the value and the reason for %j', (context, problem) => {
    // Act
    const error = thrown(() => parseConfig(context));

    // Assess
    expect(error.message).toBe(`invalid edgekeeper settings in the CDK context: ${problem}`);
  });
});

describe('stepEnvironment', () => {
  it('sets only documented variables, as strings', () => {
    // Act
    const env = stepEnvironment(parseConfig({}));

    // Assess
    const documented: string[] = Object.values(SETTINGS_ENV);
    expect(Object.keys(env).filter((name) => !documented.includes(name))).toEqual([]);
    expect(Object.values(env).every((value) => typeof value === 'string')).toBe(true);
  });

  it.each([
    ['the defaults', {}],
    [
      'every setting',
      {
        cluster: { kubeconfigParameterName: '/site-a/kubeconfig' },
        cloudcore: {
          publicAddress: '203.0.113.10',
          ports: { cloudhub: 20000, quic: 20001, https: 20002, stream: 20003, tunnel: 20004 },
        },
        keadm: { defaultVersion: 'v1.9.2', defaultRegion: 'en', downloadMirror: 'https://mirror.example.com/ke' },
        timeouts: { nodeReadySeconds: 120, hostCommandSeconds: 1800 },
        daemonSetAllowlist: ['monitoring/edge-agent', 'kube-system/edgemesh-agent'],
        routing: { enabled: true, cloudHostTag: 'role=control-plane', streamEndpoint: 'cloudcore.internal:30003' },
        helmRelease: 'cloudcore',
      },
    ],
  ])('carries %s to the handlers unchanged (what CDK sets is what readSettings reads)', (_what, context) => {
    // Prepare
    const config = parseConfig(context);

    // Act
    const settings = readSettings(stepEnvironment(config));

    // Assess
    expect(settings).toEqual({
      kubeconfigParameter: config.cluster.kubeconfigParameterName,
      cloudcorePorts: config.cloudcore.ports,
      defaultKubeedgeVersion: config.keadm.defaultVersion,
      defaultRegion: config.keadm.defaultRegion,
      nodeReadyTimeoutSeconds: config.timeouts.nodeReadySeconds,
      hostCommandTimeoutSeconds: config.timeouts.hostCommandSeconds,
      lockDurationSeconds: 3600,
      daemonSetAllowlist: config.daemonSetAllowlist,
      helmRelease: config.helmRelease,
      routing: config.routing.enabled ? 'on' : 'off',
      cloudHostTag: config.routing.cloudHostTag,
      ...(config.routing.streamEndpoint && { streamEndpoint: config.routing.streamEndpoint }),
      ...(config.cloudcore.publicAddress && { cloudcorePublicAddress: config.cloudcore.publicAddress }),
      ...(config.keadm.downloadMirror && { downloadMirror: config.keadm.downloadMirror }),
    });
  });
});
