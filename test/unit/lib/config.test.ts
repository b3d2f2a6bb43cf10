import { CONTEXT_SETTINGS, readSettings, SETTINGS_ENV, TIMEOUT_BOUNDS } from '../../../functions/shared/settings';
import { parseConfig, stepEnvironment, stepSettings } from '../../../lib/config';
import { thrown } from '../../support/thrown';

describe('parseConfig', () => {
  it('gives every setting its documented default when the context has none', () => {
    // Act
    const config = parseConfig(undefined);

    // Assess
    expect(config).toEqual({
      cluster: { auth: 'kubeconfig', kubeconfigParameterName: '/edgekeeper/kubeconfig' },
      cloudcore: { ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 } },
      keadm: { defaultVersion: 'v1.6.1', defaultRegion: 'zh' },
      lambda: { architecture: 'arm64', logRetentionDays: 30 },
      api: { throttlingRateLimit: 10, throttlingBurstLimit: 20, cloudWatchRole: true },
      network: {},
      drift: { schedule: 'rate(1 hour)', remediate: false, scheduleEnabled: true, reportRetentionDays: 90 },
      alarms: {},
      cloudcoreExposure: {
        enabled: false,
        targets: {},
        allowedCidrs: [],
        subnetIds: [],
        nodePorts: { cloudhub: 30000, quic: 30001, https: 30002, stream: 30003, tunnel: 30004 },
        internetFacing: true,
      },
      timeouts: {
        nodeReadySeconds: 600,
        hostCommandSeconds: 900,
        lockDurationSeconds: 180,
        drainSeconds: 300,
        namespaceDeletionSeconds: 300,
        routingSeconds: 60,
        requestSeconds: 10,
        keadmResetSeconds: 300,
        manualJoinSeconds: 1800,
      },
      daemonSetAllowlist: [],
      routing: { enabled: false, cloudHostTag: 'edgekeeper-role=cloud' },
      edgeHostTag: 'edgekeeper:role=edge',
      helmRelease: 'kubeedge',
      inventory: {
        eventBusName: 'default',
        source: 'edgekeeper.inventory',
        fieldMap: {},
        batchSize: 50,
        batchWindowSeconds: 10,
        maxReceiveCount: 5,
      },
      batch: { concurrency: 10, toleratedFailurePercent: 10 },
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
    expect(config.timeouts.nodeReadySeconds).toBe(120);
    expect(config.timeouts.hostCommandSeconds).toBe(900);
  });

  it('reads the JSON string that `cdk -c edgekeeper=…` passes', () => {
    // Act
    const config = parseConfig('{"cloudcore":{"publicAddress":"203.0.113.10"},"timeouts":{"lockDurationSeconds":300}}');

    // Assess
    expect(config.cloudcore.publicAddress).toBe('203.0.113.10');
    expect(config.timeouts.lockDurationSeconds).toBe(300);
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
      'edgekeeper.timeouts.nodeReadySeconds: must be a whole number of seconds from 1 to 3600 (got -5)',
    ],
    [
      { timeouts: { drainSeconds: 1_000_000_000 } },
      'edgekeeper.timeouts.drainSeconds: must be a whole number of seconds from 1 to 3600 (got 1000000000)',
    ],
    [
      { timeouts: { lockDurationSeconds: '180' } },
      'edgekeeper.timeouts.lockDurationSeconds: must be a whole number of seconds from 60 to 3600 (got "180")',
    ],
    [{ timeouts: { nodeReady: 60 } }, 'edgekeeper.timeouts: Unrecognized key: "nodeReady" (got {"nodeReady":60})'],
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
      'edgekeeper.daemonSetAllowlist.1: must be namespace/name (lowercase letters, digits, "-" and ".") (got "Not A Name")',
    ],
    [{ routing: { cloudHostTag: 'cloud' } }, 'edgekeeper.routing.cloudHostTag: must be key=value (got "cloud")'],
    [{ keadm: { downloadMirror: 'mirror' } }, 'edgekeeper.keadm.downloadMirror: Invalid URL (got "mirror")'],
    [{ kubeconfig: '/x' }, 'edgekeeper: Unrecognized key: "kubeconfig" (got {"kubeconfig":"/x"})'],
    [[], 'edgekeeper: Invalid input: expected object, received array (got [])'],
  ])('fails naming edgekeeper.<path>, the value and the reason for %j', (context, problem) => {
    // Act
    const error = thrown(() => parseConfig(context));

    // Assess
    expect(error.message).toBe(`invalid edgekeeper settings in the CDK context: ${problem}`);
  });

  it('refuses a keadm reset timeout the host command timeout would cut short, naming both keys', () => {
    // Act
    const error = thrown(() => parseConfig({ timeouts: { hostCommandSeconds: 120, keadmResetSeconds: 300 } }));

    // Assess
    expect(error.message).toBe(
      'invalid edgekeeper settings in the CDK context: edgekeeper.timeouts.keadmResetSeconds, ' +
        'edgekeeper.timeouts.hostCommandSeconds: the keadm reset timeout (300 s) must be shorter than the host ' +
        'command timeout (120 s), which bounds the whole reset script',
    );
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

  it('sets every timeout, so a deployed step never falls back to a default of its own', () => {
    // Act
    const env = stepEnvironment(parseConfig({}));

    // Assess
    for (const name of Object.keys(TIMEOUT_BOUNDS) as (keyof typeof TIMEOUT_BOUNDS)[]) {
      expect(env[SETTINGS_ENV[name]]).toMatch(/^\d+$/);
    }
  });

  it('gives the deployed steps the kubeconfig parameter, which a local run has no default for', () => {
    // Act
    const deployed = readSettings(stepEnvironment(parseConfig({})));
    const local = readSettings({});

    // Assess
    expect(deployed.kubeconfigParameter).toBe('/edgekeeper/kubeconfig');
    expect(local.kubeconfigParameter).toBeUndefined();
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
        timeouts: {
          nodeReadySeconds: 120,
          hostCommandSeconds: 1800,
          lockDurationSeconds: 240,
          drainSeconds: 90,
          namespaceDeletionSeconds: 600,
          routingSeconds: 45,
          requestSeconds: 5,
          keadmResetSeconds: 600,
        },
        daemonSetAllowlist: ['monitoring/edge-agent', 'kube-system/edgemesh-agent'],
        routing: { enabled: true, cloudHostTag: 'role=control-plane', streamEndpoint: 'cloudcore.internal:30003' },
        helmRelease: 'cloudcore',
      },
    ],
  ])('carries %s to the handlers unchanged (what CDK sets is what readSettings reads)', (_what, context) => {
    // Prepare
    const config = parseConfig(context);

    // Act
    const settings = stepSettings(config);

    // Assess: every context setting arrives under its step name with the value the context gave
    for (const { name, path } of CONTEXT_SETTINGS) {
      const [group, key] = path;
      const holder = config as unknown as Record<string, unknown>;
      const expected = key === undefined ? holder[group] : (holder[group] as Record<string, unknown>)[key];
      expect([name, settings[name]]).toEqual([name, expected]);
    }
  });

  it('spells out the context of every setting the steps read, except those only a local run or the stack gives', () => {
    // Act
    const fromContext = CONTEXT_SETTINGS.map(({ name }) => name);

    // Assess
    expect(Object.keys(SETTINGS_ENV).filter((name) => !fromContext.includes(name as never))).toEqual([
      'kubeconfigPath',
      'ssmEndpoint',
      // the local stand-ins of event-driven host-command completion, and the stack's own table of waits
      'dynamodbEndpoint',
      'stepFunctionsEndpoint',
      'commandWaitsTable',
      // the stack's own bucket (lib/constructs/drift-report-bucket.ts)
      'driftReportBucket',
      'localExecutionsDir',
    ]);
  });
});
