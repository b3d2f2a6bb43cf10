import {
  readSettings,
  runWithEnvironment,
  SETTINGS_ENV,
  SettingsError,
  settingsEnvironment,
  TIMEOUT_BOUNDS,
} from '../../../functions/shared/settings';
import { thrown } from '../../support/thrown';

/** The shape EKS gives `certificateAuthority.data` in: the base64 of a PEM certificate. */
const CA_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIU\n-----END CERTIFICATE-----\n').toString(
  'base64',
);

const DEFAULTS = {
  clusterAuth: 'kubeconfig',
  cloudcorePorts: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  defaultKubeedgeVersion: 'v1.6.1',
  defaultRegion: 'zh',
  nodeReadyTimeoutSeconds: 600,
  hostCommandTimeoutSeconds: 900,
  lockDurationSeconds: 180,
  drainTimeoutSeconds: 300,
  namespaceDeletionTimeoutSeconds: 300,
  routingTimeoutSeconds: 60,
  requestTimeoutSeconds: 10,
  keadmResetTimeoutSeconds: 300,
  manualJoinTimeoutSeconds: 1800,
  daemonSetAllowlist: [],
  helmRelease: 'kubeedge',
  routingEnabled: false,
  cloudHostTag: 'edgekeeper-role=cloud',
  edgeHostTag: 'edgekeeper:role=edge',
  inventoryEventBus: 'default',
  inventorySource: 'edgekeeper.inventory',
  inventoryFieldMap: {},
  inventoryBatchSize: 50,
  inventoryBatchWindow: 10,
  inventoryMaxReceiveCount: 5,
  batchConcurrency: 10,
  batchToleratedFailurePercent: 10,
};

describe('readSettings', () => {
  it('falls back to the documented defaults when nothing is set', () => {
    // Act
    const settings = readSettings({});

    // Assess
    expect(settings).toEqual(DEFAULTS);
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
      EDGEKEEPER_CLUSTER_AUTH: 'eks',
      EDGEKEEPER_EKS_CLUSTER_NAME: 'edge-prod_1',
      EDGEKEEPER_CLUSTER_ENDPOINT: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      EDGEKEEPER_CLUSTER_CA: CA_DATA,
      EDGEKEEPER_SSM_ENDPOINT: 'http://127.0.0.1:4583',
      EDGEKEEPER_CLOUDCORE_ADDRESS: '203.0.113.10',
      EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=20000, quic=20001,https=20002,stream=20003,tunnel=10004',
      EDGEKEEPER_DOWNLOAD_MIRROR: 'https://mirror.example.com/kubeedge',
      EDGEKEEPER_DEFAULT_KUBEEDGE_VERSION: 'v1.9.2',
      EDGEKEEPER_DEFAULT_REGION: 'en',
      EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS: '300',
      EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS: '1200',
      EDGEKEEPER_LOCK_DURATION_SECONDS: '240',
      EDGEKEEPER_DRAIN_TIMEOUT_SECONDS: '120',
      EDGEKEEPER_NAMESPACE_DELETION_TIMEOUT_SECONDS: '600',
      EDGEKEEPER_ROUTING_TIMEOUT_SECONDS: '30',
      EDGEKEEPER_REQUEST_TIMEOUT_SECONDS: '5',
      EDGEKEEPER_KEADM_RESET_TIMEOUT_SECONDS: '200',
      EDGEKEEPER_MANUAL_JOIN_TIMEOUT_SECONDS: '3600',
      EDGEKEEPER_DAEMONSET_ALLOWLIST: 'monitoring/edge-agent, kube-system/edgemesh-agent,,',
      EDGEKEEPER_HELM_RELEASE: 'cloudcore',
      EDGEKEEPER_ROUTING: 'on',
      EDGEKEEPER_CLOUD_HOST_TAG: 'role=control-plane',
      EDGEKEEPER_EDGE_HOST_TAG: 'fleet=edge',
      EDGEKEEPER_STREAM_ENDPOINT: 'cloudcore.internal:30003',
      EDGEKEEPER_LOCAL_EXECUTIONS_DIR: '/var/lib/edgekeeper/executions',
      EDGEKEEPER_BATCH_CONCURRENCY: '4',
      EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '25',
    };

    // Act
    const settings = readSettings(env);

    // Assess
    expect(settings).toEqual({
      kubeconfigParameter: '/site-a/kubeconfig',
      kubeconfigPath: '/home/ops/.kube/config',
      clusterAuth: 'eks',
      eksClusterName: 'edge-prod_1',
      clusterEndpoint: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
      clusterCertificateAuthority: CA_DATA,
      ssmEndpoint: 'http://127.0.0.1:4583',
      cloudcorePublicAddress: '203.0.113.10',
      cloudcorePorts: { cloudhub: 20000, quic: 20001, https: 20002, stream: 20003, tunnel: 10004 },
      downloadMirror: 'https://mirror.example.com/kubeedge',
      defaultKubeedgeVersion: 'v1.9.2',
      defaultRegion: 'en',
      nodeReadyTimeoutSeconds: 300,
      hostCommandTimeoutSeconds: 1200,
      lockDurationSeconds: 240,
      drainTimeoutSeconds: 120,
      namespaceDeletionTimeoutSeconds: 600,
      routingTimeoutSeconds: 30,
      requestTimeoutSeconds: 5,
      keadmResetTimeoutSeconds: 200,
      manualJoinTimeoutSeconds: 3600,
      daemonSetAllowlist: ['monitoring/edge-agent', 'kube-system/edgemesh-agent'],
      helmRelease: 'cloudcore',
      routingEnabled: true,
      cloudHostTag: 'role=control-plane',
      edgeHostTag: 'fleet=edge',
      streamEndpoint: 'cloudcore.internal:30003',
      localExecutionsDir: '/var/lib/edgekeeper/executions',
      // the inventory settings keep their defaults here; test/unit/inventory/settings.test.ts reads them
      inventoryEventBus: 'default',
      inventorySource: 'edgekeeper.inventory',
      inventoryFieldMap: {},
      inventoryBatchSize: 50,
      inventoryBatchWindow: 10,
      inventoryMaxReceiveCount: 5,
      batchConcurrency: 4,
      batchToleratedFailurePercent: 25,
    });
  });

  it.each([
    ['EDGEKEEPER_DEFAULT_REGION', 'fr', 'expected one of "zh"|"en"'],
    ['EDGEKEEPER_SSM_ENDPOINT', 'ssm endpoint', 'Invalid URL'],
    ['EDGEKEEPER_ROUTING', 'yes', 'must be on or off'],
    ['EDGEKEEPER_CLOUD_HOST_TAG', 'cloud', 'must be key=value'],
    ['EDGEKEEPER_EDGE_HOST_TAG', 'edge', 'must be key=value'],
    ['EDGEKEEPER_STREAM_ENDPOINT', 'cloudcore', 'must be host:port'],
    ['EDGEKEEPER_DAEMONSET_ALLOWLIST', 'monitoring/ok,Not A Name', '1: must be namespace/name'],
    ['EDGEKEEPER_CLUSTER_AUTH', 'token', 'expected one of "kubeconfig"|"eks"'],
    ['EDGEKEEPER_EKS_CLUSTER_NAME', '-edge', 'must be an EKS cluster name'],
    ['EDGEKEEPER_EKS_CLUSTER_NAME', 'x'.repeat(101), 'must be an EKS cluster name'],
    ['EDGEKEEPER_CLUSTER_ENDPOINT', 'http://api.example.com', 'must be an https URL'],
    ['EDGEKEEPER_CLUSTER_ENDPOINT', 'api.example.com', 'must be an https URL'],
    ['EDGEKEEPER_CLUSTER_CA', '-----BEGIN CERTIFICATE-----', 'must be the base64 of a PEM certificate'],
    ['EDGEKEEPER_CLUSTER_CA', Buffer.from('not a certificate').toString('base64'), 'must be the base64 of a PEM'],
    ['EDGEKEEPER_BATCH_CONCURRENCY', '41', 'must be a whole number from 1 to 40'],
    ['EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT', '12.5', 'must be a whole number from 0 to 100'],
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

  it('names every bad variable at once, not only the first', () => {
    // Act
    const error = thrown(() => readSettings({ EDGEKEEPER_DEFAULT_REGION: 'fr', EDGEKEEPER_ROUTING: 'yes' }));

    // Assess
    expect(error.message).toContain('EDGEKEEPER_DEFAULT_REGION="fr"');
    expect(error.message).toContain('EDGEKEEPER_ROUTING="yes": must be on or off');
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

describe('cluster credential settings', () => {
  const EKS = {
    EDGEKEEPER_CLUSTER_AUTH: 'eks',
    EDGEKEEPER_EKS_CLUSTER_NAME: 'edge-prod',
    EDGEKEEPER_CLUSTER_ENDPOINT: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
    EDGEKEEPER_CLUSTER_CA: CA_DATA,
  };

  it('accepts auth eks with the cluster name, endpoint and certificate authority', () => {
    // Act
    const settings = readSettings(EKS);

    // Assess
    expect(settings).toMatchObject({
      clusterAuth: 'eks',
      eksClusterName: 'edge-prod',
      clusterEndpoint: EKS.EDGEKEEPER_CLUSTER_ENDPOINT,
      clusterCertificateAuthority: CA_DATA,
    });
  });

  it.each([['EDGEKEEPER_EKS_CLUSTER_NAME'], ['EDGEKEEPER_CLUSTER_ENDPOINT'], ['EDGEKEEPER_CLUSTER_CA']])(
    'refuses auth eks without %s, naming the auth and the missing setting',
    (variable) => {
      // Act
      const error = thrown(() => readSettings({ ...EKS, [variable]: '' }));

      // Assess
      expect(error.name).toBe('SettingsError');
      expect(error.message).toBe(
        `invalid settings: EDGEKEEPER_CLUSTER_AUTH="eks", ${variable}="": cluster auth eks needs the EKS cluster's ` +
          'name, API endpoint and certificate authority: set the ones named after the auth',
      );
    },
  );

  it('names every missing EKS setting at once', () => {
    // Act
    const error = thrown(() => readSettings({ EDGEKEEPER_CLUSTER_AUTH: 'eks' }));

    // Assess
    expect(error.message).toMatch(
      /^invalid settings: EDGEKEEPER_CLUSTER_AUTH="eks", EDGEKEEPER_EKS_CLUSTER_NAME="", EDGEKEEPER_CLUSTER_ENDPOINT="", EDGEKEEPER_CLUSTER_CA="": /,
    );
  });

  it('keeps auth kubeconfig free of the EKS settings, as before they existed', () => {
    // Act
    const settings = readSettings({ EDGEKEEPER_KUBECONFIG_PARAMETER: '/site-a/kubeconfig' });

    // Assess
    expect(settings.clusterAuth).toBe('kubeconfig');
    expect(settings.eksClusterName).toBeUndefined();
  });
});

describe('timeout settings', () => {
  const timeouts = Object.entries(TIMEOUT_BOUNDS) as [keyof typeof TIMEOUT_BOUNDS, { min: number; max: number }][];

  it('covers every setting whose name says it is a timeout or a duration', () => {
    // Act
    const named = Object.keys(SETTINGS_ENV).filter((name) => /Seconds$/.test(name));

    // Assess
    expect(named.sort()).toEqual(timeouts.map(([name]) => name).sort());
  });

  it.each(timeouts)('accepts %s at both of its bounds', (name, bounds) => {
    // Prepare: the keadm reset must stay below the host command timeout, so give that its maximum
    const base = { EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS: String(TIMEOUT_BOUNDS.hostCommandTimeoutSeconds.max) };
    const atMin = name === 'hostCommandTimeoutSeconds' ? { EDGEKEEPER_KEADM_RESET_TIMEOUT_SECONDS: '10' } : {};

    // Act
    const low = readSettings({ ...base, ...atMin, [SETTINGS_ENV[name]]: String(bounds.min) });
    const high = readSettings({ ...base, [SETTINGS_ENV[name]]: String(bounds.max) });

    // Assess
    expect(low[name]).toBe(bounds.min);
    expect(high[name]).toBe(bounds.max);
  });

  it.each(
    timeouts.flatMap(([name, bounds]) => [
      [name, String(bounds.min - 1), bounds],
      [name, String(bounds.max + 1), bounds],
      [name, '1000000000', bounds],
      [name, '1.5', bounds],
      [name, 'soon', bounds],
    ]) as [keyof typeof TIMEOUT_BOUNDS, string, { min: number; max: number }][],
  )('refuses %s=%s, naming the variable, the value and the bounds', (name, value, bounds) => {
    // Act
    const error = thrown(() => readSettings({ [SETTINGS_ENV[name]]: value }));

    // Assess
    expect(error.name).toBe('SettingsError');
    expect(error.message).toBe(
      `invalid settings: ${SETTINGS_ENV[name]}="${value}": must be a whole number of seconds from ${bounds.min} to ${bounds.max}`,
    );
  });

  it('refuses a keadm reset timeout that is not shorter than the host command that runs it', () => {
    // Act
    const error = thrown(() =>
      readSettings({ EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS: '300', EDGEKEEPER_KEADM_RESET_TIMEOUT_SECONDS: '300' }),
    );

    // Assess
    expect(error.name).toBe('SettingsError');
    expect(error.message).toBe(
      'invalid settings: EDGEKEEPER_KEADM_RESET_TIMEOUT_SECONDS="300", EDGEKEEPER_HOST_COMMAND_TIMEOUT_SECONDS="300": ' +
        'the keadm reset timeout (300 s) must be shorter than the host command timeout (300 s), which bounds the whole ' +
        'reset script',
    );
  });
});

describe('runWithEnvironment', () => {
  const variable = SETTINGS_ENV.helmRelease;
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env[variable];
    process.env[variable] = 'from-process-env';
  });
  afterEach(() => {
    if (previous === undefined) delete process.env[variable];
    else process.env[variable] = previous;
  });

  it('gives readSettings the environment it was given, not process.env', () => {
    // Act
    const inside = runWithEnvironment({ [variable]: 'cloudcore' }, () => readSettings());
    const outside = readSettings();

    // Assess
    expect(inside.helmRelease).toBe('cloudcore');
    expect(outside.helmRelease).toBe('from-process-env');
    expect(process.env[variable]).toBe('from-process-env');
  });

  it('keeps each concurrent run on its own environment across awaits', async () => {
    // Prepare
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const run = (release: string, delay: number) =>
      runWithEnvironment({ [variable]: release }, async () => {
        await later(delay);
        return readSettings().helmRelease;
      });

    // Act
    const releases = await Promise.all([run('first', 20), run('second', 1)]);

    // Assess
    expect(releases).toEqual(['first', 'second']);
  });

  it('takes the environment whole: a variable it leaves out is unset, whatever process.env says', () => {
    // Act
    const settings = runWithEnvironment({}, () => readSettings());

    // Assess
    expect(settings.helmRelease).toBe('kubeedge');
  });
});

describe('settingsEnvironment', () => {
  it('writes values as the variables readSettings reads back unchanged', () => {
    // Prepare
    const values = {
      kubeconfigPath: '/srv/edge-lab/kubeconfig',
      ssmEndpoint: 'http://127.0.0.1:4583',
      cloudcorePorts: { cloudhub: 1, quic: 2, https: 3, stream: 4, tunnel: 5 },
      routingEnabled: true,
      daemonSetAllowlist: ['monitoring/edge-agent'],
      drainTimeoutSeconds: 42,
    };

    // Act
    const env = settingsEnvironment(values);

    // Assess
    expect(env).toEqual({
      KUBECONFIG: '/srv/edge-lab/kubeconfig',
      EDGEKEEPER_SSM_ENDPOINT: 'http://127.0.0.1:4583',
      EDGEKEEPER_CLOUDCORE_PORTS: 'cloudhub=1,quic=2,https=3,stream=4,tunnel=5',
      EDGEKEEPER_ROUTING: 'on',
      EDGEKEEPER_DAEMONSET_ALLOWLIST: 'monitoring/edge-agent',
      EDGEKEEPER_DRAIN_TIMEOUT_SECONDS: '42',
    });
    expect(readSettings(env)).toEqual({ ...DEFAULTS, ...values });
  });
});
