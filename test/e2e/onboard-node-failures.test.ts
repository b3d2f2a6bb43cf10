import { E2E, HOSTS } from './harness';

const STOCK_HOSTS_LINE = 'hosts:          files dns';

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-failures-' });
});

afterAll(async () => {
  await e2e?.stop();
});

/** The onboarding failed as the user sees it, left no node and no lock, and published the failure. */
async function expectFailedCleanly(nodeName: string, run: Awaited<ReturnType<E2E['onboard']>>, errorName: string) {
  expect(run.result.status).toBe('FAILED');
  expect(run.result.output).toBeNull();
  expect(run.result.error?.name).toBe(errorName);
  const failed = run.published.filter((event) => event.detailType === 'Edge Node Join Failed');
  expect(failed).toEqual([expect.objectContaining({ detail: expect.objectContaining({ error: errorName }) })]);
  expect(await e2e.node(nodeName)).toBeUndefined();
  expect(await e2e.lease(nodeName)).toBeUndefined();
}

/** The hosts line of the host's nsswitch.conf, read from inside the host. */
async function hostsLine(instanceId: string): Promise<string> {
  const out = await e2e.hostRun(instanceId, "grep '^hosts:' /etc/nsswitch.conf");
  return out.stdout.trim();
}

describe('onboarding failures on the sandbox', () => {
  it('refuses an offline host, naming the instance, and leaves no node and no lock', async () => {
    const run = await e2e.onboard({ nodeName: 'edge-offline', nodeIp: '10.20.0.15', instanceId: HOSTS.offline });
    await expectFailedCleanly('edge-offline', run, 'HostOfflineError');
    expect(run.result.error?.message).toBe(`instanceId ${HOSTS.offline} is ConnectionLost in SSM, expected Online`);
  });

  it('fails the preflight on Docker 18.09, naming the check, and leaves the host as it was', async () => {
    const run = await e2e.onboard({ nodeName: 'edge-old-docker', nodeIp: '10.20.0.14', instanceId: HOSTS.oldDocker });
    await expectFailedCleanly('edge-old-docker', run, 'HostScriptFailedError');
    expect(run.result.error?.message).toMatch(/^preflight failed: docker 18\.09\.9 is older than 19\.3\.0\n/);
    expect(await hostsLine(HOSTS.oldDocker)).toBe(STOCK_HOSTS_LINE);
  });

  it('fails the preflight when cloudcore ports are unreachable, naming the ports', async () => {
    const run = await e2e.onboard({ nodeName: 'edge-firewalled', nodeIp: '10.20.0.16', instanceId: HOSTS.firewalled });
    await expectFailedCleanly('edge-firewalled', run, 'HostScriptFailedError');
    expect(run.result.error?.message).toMatch(
      /^preflight failed: cloudcore 127\.0\.0\.1 is unreachable on TCP port\(s\) 10000 10002 10004\n/,
    );
    expect(await hostsLine(HOSTS.firewalled)).toBe(STOCK_HOSTS_LINE);
  });

  it('refuses a node name already in use', async () => {
    const run = await e2e.onboard({ nodeName: 'worker', nodeIp: '10.20.0.21', instanceId: HOSTS.ubuntuAmd64 });
    await expectFailedCleanly('edge-never-created', run, 'InvalidRequestError');
    expect(run.result.error?.message).toBe('nodeName worker is already the name of a node');
    expect(await e2e.lease('worker')).toBeUndefined();
  });

  it('refuses an IP already used by another node, naming that node', async () => {
    const run = await e2e.onboard({ nodeName: 'edge-dup-ip', nodeIp: '172.31.0.11', instanceId: HOSTS.ubuntuAmd64 });
    await expectFailedCleanly('edge-dup-ip', run, 'InvalidRequestError');
    expect(run.result.error?.message).toBe('nodeIp 172.31.0.11 is already the InternalIP of node worker');
  });

  it('reports both problems at once when name and IP are both in use', async () => {
    const run = await e2e.onboard({ nodeName: 'worker', nodeIp: '172.31.0.11', instanceId: HOSTS.ubuntuAmd64 });
    await expectFailedCleanly('edge-never-created', run, 'InvalidRequestError');
    expect(run.result.error?.message).toBe(
      'nodeName worker is already the name of a node; nodeIp 172.31.0.11 is already the InternalIP of node worker',
    );
    // nothing reached the host the request named
    expect(await hostsLine(HOSTS.ubuntuAmd64)).toBe(STOCK_HOSTS_LINE);
  });
});
