import { readFileSync } from 'node:fs';
import { runWorkflow } from '../../local/runtime';
import { fleetHostSpecs, loadHostFixture } from '../../local/sandbox/hosts';
import { E2E, internalIps, readyStatus } from './harness';

/**
 * The `shared-network` host mode (`npm run bench`'s fleet): a small fleet of copied hosts that share one network
 * namespace, onboarded by the real batch-onboard workflow with the real handlers and join script.
 */

let e2e: E2E;
const realNsswitch = readFileSync('/etc/nsswitch.conf', 'utf8');
const realIpForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');

beforeAll(async () => {
  const hosts = fleetHostSpecs(2, await loadHostFixture());
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-shared-network-', sandbox: { hosts, mode: 'shared-network' } });
});

afterAll(async () => {
  await e2e?.stop();
});

afterEach(() => {
  // the hosts' edits stay in the hosts: the machine's files and kernel settings are untouched
  expect(readFileSync('/etc/nsswitch.conf', 'utf8')).toBe(realNsswitch);
  expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(realIpForward);
});

describe('edge hosts sharing one network', () => {
  it('keeps each host its own files and name, and shares one loopback with every address on it', async () => {
    expect(e2e.info.mode).toBe('shared-network');
    const first = await e2e.hostRun(
      'mi-0f1ee000000000001',
      "set -e; hostname; uname -m; sed -i 's/^hosts:.*/hosts: mine/' /etc/nsswitch.conf; grep ^hosts: /etc/nsswitch.conf",
    );
    expect(first).toMatchObject({ status: 'Success', stdout: 'fleet-0001\nx86_64\nhosts: mine\n' });
    const second = await e2e.hostRun(
      'mi-0f1ee000000000002',
      'set -e; hostname; uname -m; grep ^hosts: /etc/nsswitch.conf; ip -4 -o addr show dev lo | grep -o "10\\.64\\.[0-9.]*" | sort; ' +
        `timeout 3 bash -c '</dev/tcp/127.0.0.1/10000' && echo cloudhub reachable`,
    );
    expect(second).toMatchObject({
      status: 'Success',
      stdout: 'fleet-0002\naarch64\nhosts:          files dns\n10.64.0.1\n10.64.0.2\ncloudhub reachable\n',
    });
  });

  it('joins the fleet with one batch-onboard', async () => {
    const requests = e2e.info.instances
      .filter((i) => i.role === 'edge')
      .map((i) => ({ nodeName: i.name, nodeIp: i.ipAddress, instanceId: i.instanceId }));
    const result = await runWorkflow({
      workflow: 'batch-onboard',
      input: { requests },
      executionName: 'fleet-e2e',
      waits: 'compressed',
      compressedWaitMs: 50,
      environment: e2e.environment,
      executionsDir: e2e.executionsDir,
    });
    expect(result.output).toMatchObject({ totals: { requested: 2, joined: 2, failed: 0, skipped: 0 } });
    for (const request of requests) {
      const node = await e2e.node(request.nodeName);
      expect([readyStatus(node), internalIps(node)]).toEqual(['True', [request.nodeIp]]);
    }
  }, 120_000);
});
