import type { DriftSummary } from '../../functions/drift-report/core';
import { runWorkflow } from '../../local/runtime';
import { CLOUD_HOSTS, E2E, HOSTS } from './harness';
import { removeNode } from './removal-helpers';

/** The nat OUTPUT rules of a cloud host that DNAT a node's kubelet ports, read from inside the host. */
async function routingRules(e2e: E2E, host: string, nodeIp: string): Promise<string[]> {
  const { stdout } = await e2e.hostRun(host, 'iptables -w -t nat -S OUTPUT');
  return stdout.split('\n').filter((line) => line.includes(`-d ${nodeIp}/32`));
}

describe('logs/exec routing on the cloud hosts (EDGEKEEPER_ROUTING=on)', () => {
  let e2e: E2E;
  let destination: string;

  beforeAll(async () => {
    e2e = await E2E.start({ env: { EDGEKEEPER_ROUTING: 'on' } });
    destination = `${e2e.info.cloudcore.publicAddress}:${e2e.info.cloudcore.ports.stream}`;
  });
  afterAll(async () => {
    await e2e?.stop();
  });

  it('sends kubelet ports 10350 and 10250 of a joined node to cloudcore’s stream server on every cloud host', async () => {
    const { result } = await e2e.onboard({ nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });
    expect(result.status).toBe('SUCCEEDED');
    for (const host of Object.values(CLOUD_HOSTS)) {
      expect(await routingRules(e2e, host, '10.20.0.11')).toEqual([
        `-A OUTPUT -d 10.20.0.11/32 -p tcp -m tcp --dport 10350 -j DNAT --to-destination ${destination}`,
        `-A OUTPUT -d 10.20.0.11/32 -p tcp -m tcp --dport 10250 -j DNAT --to-destination ${destination}`,
      ]);
    }
    // edge hosts are not cloud hosts: nothing is routed there
    expect(await routingRules(e2e, HOSTS.ubuntuArm64Containerd, '10.20.0.11')).toEqual([]);
  });

  it('finds a rule deleted by hand as routing-missing, and --remediate restores it', async () => {
    const drift = async (remediate: boolean) => {
      const result = await runWorkflow({
        workflow: 'drift-check',
        input: { remediate },
        waits: 'compressed',
        compressedWaitMs: 50,
        environment: e2e.environment,
        executionsDir: e2e.executionsDir,
      });
      expect(result.error).toBeNull();
      const summary = result.output as DriftSummary;
      return summary.findings.filter((item) => item.type.startsWith('routing-'));
    };
    expect(await drift(false)).toEqual([]);
    await e2e.hostRun(
      CLOUD_HOSTS.worker,
      `iptables -w -t nat -D OUTPUT -d 10.20.0.11/32 -p tcp -m tcp --dport 10250 -j DNAT --to-destination ${destination}`,
    );
    expect(await drift(false)).toEqual([
      expect.objectContaining({
        type: 'routing-missing',
        object: 'node/edge-1',
        seen: expect.stringMatching(/^10\.20\.0\.11: .*no rule for port 10250$/),
      }),
    ]);
    expect(await drift(true)).toEqual([expect.objectContaining({ type: 'routing-missing', fixed: true })]);
    for (const host of Object.values(CLOUD_HOSTS)) {
      expect((await routingRules(e2e, host, '10.20.0.11')).sort()).toEqual([
        `-A OUTPUT -d 10.20.0.11/32 -p tcp -m tcp --dport 10250 -j DNAT --to-destination ${destination}`,
        `-A OUTPUT -d 10.20.0.11/32 -p tcp -m tcp --dport 10350 -j DNAT --to-destination ${destination}`,
      ]);
    }
  });

  it('removes the node’s rules, and only them, when the node is removed', async () => {
    await e2e.hostRun(
      CLOUD_HOSTS.master,
      'iptables -w -t nat -A OUTPUT -p tcp --dport 10350 -d 10.99.0.1 -j DNAT --to-destination 192.0.2.1:1',
    );
    const { result } = await removeNode(e2e, { nodeName: 'edge-1' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ routing: { step: 'routing', result: 'done' } });
    for (const host of Object.values(CLOUD_HOSTS)) {
      expect(await routingRules(e2e, host, '10.20.0.11')).toEqual([]);
    }
    expect(await routingRules(e2e, CLOUD_HOSTS.master, '10.99.0.1')).toHaveLength(1);
  });

  it('rolls the join back when no cloud host carries the tag, naming the tag', async () => {
    const { result } = await e2e.onboard(
      { nodeName: 'edge-3', nodeIp: '10.20.0.13', instanceId: HOSTS.ubuntuAmd64 },
      { env: { EDGEKEEPER_CLOUD_HOST_TAG: 'edgekeeper-role=nobody' } },
    );
    expect(result.error).toEqual({
      name: 'RoutingFailedError',
      message:
        'no cloud host carries the SSM tag edgekeeper-role=nobody: tag the control-plane hosts or turn routing off',
    });
    expect(await e2e.node('edge-3')).toBeUndefined();
    expect(await e2e.lease('edge-3')).toBeUndefined();
  });
});
