import { E2E, HOSTS, type OnboardInput, type OnboardRun } from './harness';

const STOCK_HOSTS_LINE = 'hosts:          files dns';

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-failures-' });
});

afterAll(async () => {
  await e2e?.stop();
});

/** Name → resourceVersion of every Node, and of every Lease in kube-system (where the onboarding locks live). */
async function clusterState(): Promise<{ nodes: Record<string, string>; leases: Record<string, string> }> {
  const versions = (items: { metadata?: { name?: string; resourceVersion?: string } }[]) =>
    Object.fromEntries(items.map((item) => [item.metadata?.name ?? '', item.metadata?.resourceVersion ?? '']));
  const nodes = await e2e.core.listNode();
  const leases = await e2e.coordination.listNamespacedLease({ namespace: 'kube-system' });
  return { nodes: versions(nodes.items), leases: versions(leases.items) };
}

/**
 * Runs one onboarding that must fail, and checks what the user sees and what it left: the failure, named, as the
 * result and as the one published event; no Node created and none changed (a name already in use keeps its Node
 * as it was); no lock left behind, and none held on the name.
 */
async function onboardFailing(input: OnboardInput, errorName: string): Promise<OnboardRun> {
  const before = await clusterState();
  const run = await e2e.onboard(input);
  expect(run.result.status).toBe('FAILED');
  expect(run.result.output).toBeNull();
  expect(run.result.error?.name).toBe(errorName);
  const failed = run.published.filter((event) => event.detailType === 'Edge Node Join Failed');
  expect(failed).toEqual([expect.objectContaining({ detail: expect.objectContaining({ error: errorName }) })]);
  expect(await clusterState()).toEqual(before);
  expect(await e2e.lease(input.nodeName)).toBeUndefined();
  return run;
}

/** The hosts line of the host's nsswitch.conf, read from inside the host. */
async function hostsLine(instanceId: string): Promise<string> {
  const out = await e2e.hostRun(instanceId, "grep '^hosts:' /etc/nsswitch.conf");
  return out.stdout.trim();
}

describe('onboarding failures on the sandbox', () => {
  it('refuses an offline host, naming the instance, and leaves no node and no lock', async () => {
    const run = await onboardFailing(
      { nodeName: 'edge-offline', nodeIp: '10.20.0.15', instanceId: HOSTS.offline },
      'HostOfflineError',
    );
    expect(await e2e.node('edge-offline')).toBeUndefined();
    expect(run.result.error?.message).toBe(`instanceId ${HOSTS.offline} is ConnectionLost in SSM, expected Online`);
  });

  it('fails the preflight on Docker 18.09, naming the check, and leaves the host as it was', async () => {
    const run = await onboardFailing(
      { nodeName: 'edge-old-docker', nodeIp: '10.20.0.14', instanceId: HOSTS.oldDocker },
      'JoinPreflightFailedError',
    );
    expect(await e2e.node('edge-old-docker')).toBeUndefined();
    expect(run.result.error?.message).toMatch(/^preflight failed: docker 18\.09\.9 is older than 19\.3\.0\n/);
    expect(await hostsLine(HOSTS.oldDocker)).toBe(STOCK_HOSTS_LINE);
  });

  it('fails the preflight when cloudcore ports are unreachable, naming the ports', async () => {
    const run = await onboardFailing(
      { nodeName: 'edge-firewalled', nodeIp: '10.20.0.16', instanceId: HOSTS.firewalled },
      'JoinPreflightFailedError',
    );
    expect(await e2e.node('edge-firewalled')).toBeUndefined();
    expect(run.result.error?.message).toMatch(
      /^preflight failed: cloudcore 127\.0\.0\.1 is unreachable on TCP port\(s\) 10000 10002 10004\n/,
    );
    expect(await hostsLine(HOSTS.firewalled)).toBe(STOCK_HOSTS_LINE);
  });

  it('refuses a node name already in use, and leaves that node as it was', async () => {
    const worker = await e2e.node('worker');
    const run = await onboardFailing(
      { nodeName: 'worker', nodeIp: '10.20.0.21', instanceId: HOSTS.ubuntuAmd64 },
      'InvalidRequestError',
    );
    expect(run.result.error?.message).toBe('nodeName worker is already the name of a node');
    expect(await e2e.node('worker')).toEqual(worker);
    expect(await hostsLine(HOSTS.ubuntuAmd64)).toBe(STOCK_HOSTS_LINE);
  });

  it('refuses an IP already used by another node, naming that node', async () => {
    const run = await onboardFailing(
      { nodeName: 'edge-dup-ip', nodeIp: '172.31.0.11', instanceId: HOSTS.ubuntuAmd64 },
      'InvalidRequestError',
    );
    expect(await e2e.node('edge-dup-ip')).toBeUndefined();
    expect(run.result.error?.message).toBe('nodeIp 172.31.0.11 is already the InternalIP of node worker');
  });

  it("reports both problems at once when the name is one node's and the IP another's", async () => {
    const worker = await e2e.node('worker');
    const run = await onboardFailing(
      { nodeName: 'worker', nodeIp: '172.31.0.10', instanceId: HOSTS.ubuntuAmd64 },
      'InvalidRequestError',
    );
    expect(run.result.error?.message).toBe(
      `nodeName worker is already the name of a node; nodeIp 172.31.0.10 is already the InternalIP of node master`,
    );
    expect(await e2e.node('worker')).toEqual(worker);
    // nothing reached the host the request named
    expect(await hostsLine(HOSTS.ubuntuAmd64)).toBe(STOCK_HOSTS_LINE);
  });
});
