import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  type CommandInvocation,
  DescribeInstanceInformationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  ListTagsForResourceCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { provisionHost } from '../../local/sandbox/edge/provision';
import { type EdgeHosts, type HostProvisioner, startEdgeHosts } from '../../local/sandbox/hosts';

// Fixed ids of local/sandbox/fixtures/hosts.yaml.
const CLOUD_MASTER = 'mi-0c10d0000000000a1';
const CLOUD_WORKER = 'mi-0c10d0000000000a2';
const UBUNTU_AMD64 = 'mi-0ed9e000000000001';
const OFFLINE = 'mi-0ed9e000000000005';
const CLOUD_TARGET = { Key: 'tag:edgekeeper-role', Values: ['cloud'] };

const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];
const BAD_RULE = 'iptables: Bad rule (does a matching rule exist in that chain?).\n';

/** The logs/exec routing of one edge node (docs/kubeedge.md §6), as the lead's step sends it: idempotent. */
function routingScript(edgeIp: string, action: 'add' | 'remove'): string[] {
  const apply =
    action === 'add'
      ? 'iptables -w -t nat -C "$@" 2>/dev/null || iptables -w -t nat -A "$@"'
      : 'while iptables -w -t nat -C "$@" 2>/dev/null; do iptables -w -t nat -D "$@"; done';
  return [
    'set -euo pipefail',
    'for port in 10350 10250; do',
    `  set -- OUTPUT -p tcp --dport "$port" -d ${edgeIp} -j DNAT --to-destination 172.31.0.10:10003`,
    `  ${apply}`,
    'done',
    'iptables -w -t nat -S OUTPUT',
  ];
}

function rulesFor(edgeIp: string): string[] {
  return [10350, 10250].map(
    (port) => `-A OUTPUT -d ${edgeIp}/32 -p tcp -m tcp --dport ${port} -j DNAT --to-destination 172.31.0.10:10003`,
  );
}

describe('sandbox cloud hosts: SSM Targets by tag, and the iptables stand-in', () => {
  let dir: string;
  let mirror: http.Server;
  let sandbox: EdgeHosts;
  let ssm: SSMClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgekeeper-cloud-hosts-'));
    mirror = http.createServer((_req, res) => res.end('mirror ok\n'));
    await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', () => r()));
    const mirrorPort = (mirror.address() as AddressInfo).port;
    // The real stand-ins (iptables among them) without the cluster and cloudcore: only the mirror is dialled.
    const provisioner: HostProvisioner = {
      endpoints: [{ name: 'mirror', port: mirrorPort }],
      provisionHost: (root, traits) => provisionHost(root, traits, `http://127.0.0.1:${mirrorPort}`),
    };
    sandbox = await startEdgeHosts({ dir, provisioner, offlineDeliveryTimeoutMs: 1_000 });
    ssm = new SSMClient({
      endpoint: sandbox.ssm.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
  });

  afterAll(async () => {
    ssm?.destroy();
    await sandbox?.stop();
    mirror?.closeAllConnections();
    await new Promise<void>((r) => (mirror ? mirror.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  async function send(target: Partial<SendCommandCommandInput>, commands: string[]): Promise<string> {
    const out = await ssm.send(
      new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', Parameters: { commands }, ...target }),
    );
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SendCommand returned no CommandId');
    return id;
  }

  /** Polls as a step should with Targets: until the command itself ended, then reads every invocation. */
  async function settle(
    commandId: string,
  ): Promise<{ status: string; targets: number; invocations: CommandInvocation[] }> {
    for (;;) {
      const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
      const command = listed.Commands?.[0];
      if (TERMINAL.includes(command?.Status ?? '')) {
        const out = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
        return {
          status: command?.Status ?? '',
          targets: command?.TargetCount ?? -1,
          invocations: [...(out.CommandInvocations ?? [])].sort((a, b) =>
            (a.InstanceId ?? '').localeCompare(b.InstanceId ?? ''),
          ),
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function runOnCloud(commands: string[]): Promise<CommandInvocation[]> {
    const { status, invocations } = await settle(await send({ Targets: [CLOUD_TARGET] }, commands));
    expect(status).toBe('Success');
    return invocations;
  }

  const output = (invocation: CommandInvocation | undefined) => invocation?.CommandPlugins?.[0]?.Output;

  it('sends a command by tag to exactly the two cloud hosts and lists both invocations with their output', async () => {
    const sent = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        Targets: [CLOUD_TARGET],
        Parameters: { commands: ['hostname', 'id -u'] },
      }),
    );
    // As in SSM: targets are resolved after SendCommand answers, so at first there is no invocation to wait for.
    expect(sent.Command).toMatchObject({ InstanceIds: [], Targets: [CLOUD_TARGET], TargetCount: 0, Status: 'Pending' });
    const commandId = sent.Command?.CommandId ?? '';
    const early = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    expect(early.CommandInvocations).toEqual([]);

    const { targets, invocations } = await settle(commandId);
    expect(targets).toBe(2);
    expect(invocations).toEqual([
      expect.objectContaining({
        InstanceId: CLOUD_MASTER,
        InstanceName: 'cloud-master',
        Status: 'Success',
        CommandPlugins: [
          expect.objectContaining({ Name: 'aws:runShellScript', ResponseCode: 0, Output: 'cloud-master\n0\n' }),
        ],
      }),
      expect.objectContaining({
        InstanceId: CLOUD_WORKER,
        InstanceName: 'cloud-worker',
        Status: 'Success',
        CommandPlugins: [expect.objectContaining({ ResponseCode: 0, Output: 'cloud-worker\n0\n' })],
      }),
    ]);
    const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
    expect(listed.Commands?.[0]).toMatchObject({ Status: 'Success', TargetCount: 2, CompletedCount: 2, ErrorCount: 0 });
  });

  it('cuts the plugin output at 2,500 characters and reports a failing host as Failed', async () => {
    const { status, invocations } = await settle(
      await send({ Targets: [CLOUD_TARGET] }, [
        "head -c 3000 /dev/zero | tr '\\0' o",
        '[ "$(hostname)" = cloud-master ] || { echo "worker refused" >&2; exit 4; }',
      ]),
    );
    expect(status).toBe('Failed');
    expect(output(invocations[0])).toHaveLength(2_500);
    expect(invocations.map((i) => [i.InstanceId, i.Status, i.CommandPlugins?.[0]?.ResponseCode])).toEqual([
      [CLOUD_MASTER, 'Success', 0],
      [CLOUD_WORKER, 'Failed', 4],
    ]);
  });

  it('accepts a tag that matches no host and runs the command nowhere', async () => {
    const { status, targets, invocations } = await settle(
      await send({ Targets: [{ Key: 'tag:edgekeeper-role', Values: ['nothing'] }] }, ['echo never']),
    );
    expect({ status, targets, invocations }).toEqual({ status: 'Success', targets: 0, invocations: [] });
  });

  it('gives a targeted offline host the statuses SSM gives it: Pending, then DeliveryTimedOut', async () => {
    const commandId = await send({ Targets: [{ Key: 'InstanceIds', Values: [OFFLINE, CLOUD_MASTER] }] }, [
      'echo reached',
    ]);
    // A lone InstanceIds target is resolved at once, like SendCommand's InstanceIds.
    const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
    expect(listed.Commands?.[0]).toMatchObject({ InstanceIds: [OFFLINE, CLOUD_MASTER], Targets: [], TargetCount: 2 });
    const { status, invocations } = await settle(commandId);
    expect(status).toBe('TimedOut');
    expect(invocations.map((i) => [i.InstanceId, i.Status, i.StatusDetails, output(i)])).toEqual([
      [CLOUD_MASTER, 'Success', 'Success', 'reached\n'],
      [OFFLINE, 'TimedOut', 'DeliveryTimedOut', ''],
    ]);
  });

  it('rejects InstanceIds and Targets together, and a target key it cannot resolve', async () => {
    await expect(send({ InstanceIds: [CLOUD_MASTER], Targets: [CLOUD_TARGET] }, ['true'])).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'specify either InstanceIds or Targets',
    });
    await expect(send({ Targets: [{ Key: 'resource-groups:Name', Values: ['x'] }] }, ['true'])).rejects.toMatchObject({
      name: 'InvalidTarget',
    });
  });

  it('describes the cloud hosts by tag filter and lists their tags', async () => {
    const all = await ssm.send(new DescribeInstanceInformationCommand({}));
    expect(all.InstanceInformationList).toHaveLength(8);
    const cloud = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:edgekeeper-role', Values: ['cloud'] }] }),
    );
    expect(
      cloud.InstanceInformationList?.map((i) => [i.InstanceId, i.ComputerName, i.IPAddress, i.PingStatus]),
    ).toEqual([
      [CLOUD_MASTER, 'cloud-master', '172.31.0.10', 'Online'],
      [CLOUD_WORKER, 'cloud-worker', '172.31.0.11', 'Online'],
    ]);
    const tags = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: CLOUD_WORKER }),
    );
    expect(tags.TagList).toEqual([{ Key: 'edgekeeper-role', Value: 'cloud' }]);
  });

  it('adds the logs/exec DNAT rules once on every cloud host, however often the step runs', async () => {
    const first = await runOnCloud(routingScript('10.20.0.11', 'add'));
    const second = await runOnCloud(routingScript('10.20.0.11', 'add'));
    const listing = ['-P OUTPUT ACCEPT', ...rulesFor('10.20.0.11'), ''].join('\n');
    for (const invocation of [...first, ...second]) expect(output(invocation)).toBe(listing);
    for (const id of [CLOUD_MASTER, CLOUD_WORKER]) {
      const file = path.join(dir, 'hosts', id, 'root/var/lib/sandbox/iptables/nat.rules');
      expect(await readFile(file, 'utf8')).toBe(
        [
          '-P PREROUTING ACCEPT',
          '-P INPUT ACCEPT',
          '-P OUTPUT ACCEPT',
          '-P POSTROUTING ACCEPT',
          ...rulesFor('10.20.0.11'),
          '',
        ].join('\n'),
      );
      const log = await readFile(path.join(dir, 'hosts', id, 'root/var/log/sandbox/iptables.log'), 'utf8');
      // First run: two checks fail and two appends; second run: two checks succeed.
      expect(log.match(/ iptables -w -t nat -A OUTPUT /g)).toHaveLength(2);
      expect(log.match(/ iptables -w -t nat -C OUTPUT /g)).toHaveLength(4);
    }
  });

  it('finds a rule in its canonical form however it was written, and removes it until -C fails', async () => {
    const [master] = await runOnCloud([
      'set -euo pipefail',
      'iptables -t nat -A OUTPUT -d 10.20.0.12/32 -p tcp -m tcp --dport 10350 -j DNAT --to-destination 172.31.0.10:10003',
      'iptables -t nat -A OUTPUT -p tcp --dport 10350 -d 10.20.0.12 -j DNAT --to-destination 172.31.0.10:10003',
      'iptables -t nat -C OUTPUT -p tcp -d 10.20.0.12 --dport 10350 -j DNAT --to-destination 172.31.0.10:10003',
      'echo "check ok"',
      'iptables -t nat -S OUTPUT | grep -c 10.20.0.12/32',
      'while iptables -t nat -C OUTPUT -p tcp --dport 10350 -d 10.20.0.12 -j DNAT --to-destination 172.31.0.10:10003 2>/dev/null; do',
      '  iptables -t nat -D OUTPUT -p tcp --dport 10350 -d 10.20.0.12 -j DNAT --to-destination 172.31.0.10:10003',
      'done',
      'iptables -t nat -C OUTPUT -p tcp --dport 10350 -d 10.20.0.12 -j DNAT --to-destination 172.31.0.10:10003 || echo "check rc=$?"',
      'iptables -t nat -D OUTPUT -p tcp --dport 10350 -d 10.20.0.12 -j DNAT --to-destination 172.31.0.10:10003 || echo "delete rc=$?"',
      'iptables-save -t nat | grep -c "^-A OUTPUT" || true',
    ]);
    expect(output(master)).toBe(
      ['check ok', '2', 'check rc=1', 'delete rc=1', '2', '', '----------ERROR-------', `${BAD_RULE}${BAD_RULE}`].join(
        '\n',
      ),
    );
  });

  it('removes the routing of a deleted node from every cloud host, idempotently', async () => {
    await runOnCloud(routingScript('10.20.0.13', 'add'));
    const removed = await runOnCloud(routingScript('10.20.0.13', 'remove'));
    const again = await runOnCloud(routingScript('10.20.0.13', 'remove'));
    const listing = ['-P OUTPUT ACCEPT', ...rulesFor('10.20.0.11'), ''].join('\n');
    for (const invocation of [...removed, ...again]) expect(output(invocation)).toBe(listing);
  });

  it('answers like iptables on what it does not support', async () => {
    const [master] = await runOnCloud([
      'iptables -t mangle -S >/dev/null 2>&1 || echo "mangle rc=$?"',
      'iptables -t nat -A NOPE -j ACCEPT 2>/dev/null || echo "chain rc=$?"',
      'iptables -t nat -A OUTPUT --dport 1 -j ACCEPT 2>/dev/null || echo "no protocol rc=$?"',
      'iptables -t filter -A OUTPUT -j DNAT --to-destination 1.2.3.4 2>/dev/null || echo "dnat in filter rc=$?"',
      'iptables -L OUTPUT -n | head -1',
    ]);
    expect(output(master)).toBe(
      ['mangle rc=3', 'chain rc=1', 'no protocol rc=2', 'dnat in filter rc=1', 'Chain OUTPUT (policy ACCEPT)', ''].join(
        '\n',
      ),
    );
  });

  it('has iptables on edge hosts too, and leaves the real machine without iptables or rule files', async () => {
    const { invocations } = await settle(
      await send({ InstanceIds: [UBUNTU_AMD64] }, ['command -v iptables iptables-save', 'iptables -t nat -S OUTPUT']),
    );
    expect(output(invocations[0])).toBe('/usr/local/sbin/iptables\n/usr/local/sbin/iptables-save\n-P OUTPUT ACCEPT\n');
    expect(() => execFileSync('bash', ['-c', 'command -v iptables'], { stdio: 'pipe' })).toThrow();
    for (const file of ['/var/lib/sandbox', '/var/log/sandbox', '/usr/local/sbin/iptables']) {
      expect(existsSync(file)).toBe(false);
    }
  });
});
