import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type EdgeHosts, startEdgeHosts } from '../../local/sandbox/hosts';
import type { HostProvisioner } from '../../local/sandbox/hosts/traits';

// Fixed ids of local/sandbox/fixtures/hosts.yaml.
const UBUNTU_AMD64 = 'mi-0ed9e000000000001';
const UBUNTU_ARM64 = 'mi-0ed9e000000000002';
const CENTOS_ARMV7 = 'mi-0ed9e000000000003';
const OFFLINE = 'mi-0ed9e000000000005';
const FIREWALLED = 'mi-0ed9e000000000006';

const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

/** Stand-in for local/sandbox/edge: a mirror that answers "mirror ok" and a cloudhub that answers "cloudhub ok". */
async function startStubServices(): Promise<HostProvisioner & { stop(): Promise<void> }> {
  const mirror = http.createServer((_req, res) => res.end('mirror ok\n'));
  const cloudhub = net.createServer((socket) => socket.end('cloudhub ok\n'));
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => cloudhub.listen(0, '127.0.0.1', () => r()));
  return {
    endpoints: [
      { name: 'mirror', port: (mirror.address() as AddressInfo).port },
      { name: 'cloudhub', port: (cloudhub.address() as AddressInfo).port },
    ],
    provisionHost: async () => undefined,
    async stop() {
      mirror.closeAllConnections();
      await new Promise<void>((r) => mirror.close(() => r()));
      await new Promise<void>((r) => cloudhub.close(() => r()));
    },
  };
}

function mountTable(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ').slice(3, 5).join(' '))
    .sort();
}

describe('sandbox SSM endpoint and edge hosts', () => {
  let dir: string;
  let services: Awaited<ReturnType<typeof startStubServices>>;
  let sandbox: EdgeHosts;
  let ssm: SSMClient;
  const realNsswitch = readFileSync('/etc/nsswitch.conf', 'utf8');
  const realIpForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const realMounts = mountTable();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgekeeper-ssm-'));
    services = await startStubServices();
    sandbox = await startEdgeHosts({ dir, provisioner: services, offlineDeliveryTimeoutMs: 1_000 });
    ssm = new SSMClient({
      endpoint: sandbox.ssm.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
  });

  afterAll(async () => {
    ssm?.destroy();
    await sandbox?.stop();
    await services?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function send(instanceId: string, commands: string[], executionTimeout?: number): Promise<string> {
    const out = await ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Parameters: { commands, ...(executionTimeout ? { executionTimeout: [String(executionTimeout)] } : {}) },
      }),
    );
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SendCommand returned no CommandId');
    return id;
  }

  async function waitFor(commandId: string, instanceId: string): Promise<GetCommandInvocationCommandOutput> {
    for (;;) {
      const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      if (TERMINAL.includes(out.Status ?? '')) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function run(instanceId: string, commands: string[]): Promise<GetCommandInvocationCommandOutput> {
    return waitFor(await send(instanceId, commands), instanceId);
  }

  it('runs in the namespaces mode as root', () => {
    expect(sandbox.mode).toBe('namespaces');
  });

  it('keeps EdgeMesh preparation inside the host and leaves the real machine alone', async () => {
    const prepared = await run(UBUNTU_AMD64, [
      'set -euo pipefail',
      "sed -i 's/^hosts:.*/hosts:          dns files mdns4_minimal [NOTFOUND=return]/' /etc/nsswitch.conf",
      "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-edgemesh.conf",
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl --system >/dev/null',
      'sysctl -p',
      'mkdir -p /var/lib/edged/pods/secret && mount -t tmpfs tmpfs /var/lib/edged/pods/secret',
      'rm /etc/sysctl.conf',
    ]);
    expect(prepared.StandardErrorContent).toBe('');
    expect(prepared.Status).toBe('Success');

    const hostNsswitch = await readFile(path.join(dir, 'hosts', UBUNTU_AMD64, 'root/etc/nsswitch.conf'), 'utf8');
    expect(hostNsswitch).toContain('hosts:          dns files mdns4_minimal [NOTFOUND=return]');
    const after = await run(UBUNTU_AMD64, [
      'cat /proc/sys/net/ipv4/ip_forward',
      'mountpoint -q /var/lib/edged/pods/secret && echo mounted',
      'test -e /etc/sysctl.conf || echo deleted',
    ]);
    expect(after.StandardOutputContent).toBe('1\nmounted\ndeleted\n');

    expect(readFileSync('/etc/nsswitch.conf', 'utf8')).toBe(realNsswitch);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(realIpForward);
    expect(readFileSync('/etc/sysctl.conf', 'utf8')).toBeDefined();
    expect(mountTable()).toEqual(realMounts);
  });

  it('refuses kernel settings that are not the host network namespace', async () => {
    const out = await run(UBUNTU_AMD64, ['sysctl -w kernel.pid_max=4194303']);
    expect(out.Status).toBe('Failed');
    expect(out.StandardErrorContent).toMatch(/kernel.pid_max/);
  });

  it.each([
    [UBUNTU_AMD64, 'x86_64', 'edge-ubuntu-amd64', 'ubuntu'],
    [UBUNTU_ARM64, 'aarch64', 'edge-ubuntu-arm64', 'ubuntu'],
    [CENTOS_ARMV7, 'armv7l', 'edge-centos-armv7', 'centos'],
  ])('gives %s its arch, hostname and OS', async (instanceId, arch, name, osId) => {
    const out = await run(instanceId, ['uname -m', 'hostname', '. /etc/os-release && echo "$ID"', 'id -u']);
    expect(out.StandardOutputContent).toBe(`${arch}\n${name}\n${osId}\n0\n`);
  });

  it('reaches the sandbox services from a host, and not cloudcore from a firewalled one', async () => {
    const [mirror] = services.endpoints;
    const probe = [
      `curl -fsS http://127.0.0.1:${mirror?.port}/`,
      'if exec 3<>/dev/tcp/127.0.0.1/10000; then cat <&3; else echo cloudhub unreachable; fi',
    ];
    expect((await run(UBUNTU_AMD64, probe)).StandardOutputContent).toBe('mirror ok\ncloudhub ok\n');
    expect((await run(FIREWALLED, probe)).StandardOutputContent).toBe('mirror ok\ncloudhub unreachable\n');
  });

  it('reports a failing script as Failed with its exit code and stderr', async () => {
    const out = await run(UBUNTU_AMD64, ['echo starting', 'echo "docker too old" >&2', 'exit 3']);
    expect(out).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 3,
      StandardOutputContent: 'starting\n',
      StandardErrorContent: 'docker too old\n',
    });
    const logged = await readFile(path.join(dir, 'hosts', UBUNTU_AMD64, `commands/${out.CommandId}.err`), 'utf8');
    expect(logged).toBe('docker too old\n');
  });

  it('accepts a command for an offline host and lets its delivery time out', async () => {
    const commandId = await send(OFFLINE, ['echo never']);
    const first = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: OFFLINE }));
    expect(first.Status).toBe('Pending');
    const out = await waitFor(commandId, OFFLINE);
    expect(out).toMatchObject({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', ResponseCode: -1 });
    expect(out.StandardOutputContent).toBe('');
  });

  it('kills a script at its executionTimeout', async () => {
    const out = await waitFor(await send(UBUNTU_AMD64, ['echo before', 'sleep 60', 'echo after'], 1), UBUNTU_AMD64);
    expect(out).toMatchObject({ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut', ResponseCode: 137 });
    expect(out.StandardOutputContent).toBe('before\n');
  });

  it('cancels a running command', async () => {
    const commandId = await send(UBUNTU_AMD64, ['sleep 60']);
    await ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    expect((await waitFor(commandId, UBUNTU_AMD64)).Status).toBe('Cancelled');
  });

  it('truncates output like SSM and keeps all of it in the command log', async () => {
    const out = await run(UBUNTU_AMD64, [
      "head -c 30000 /dev/zero | tr '\\0' o",
      "head -c 9000 /dev/zero | tr '\\0' e >&2",
    ]);
    expect(out.StandardOutputContent).toHaveLength(24_000);
    expect(out.StandardErrorContent).toHaveLength(8_000);
    const logged = await readFile(path.join(dir, 'hosts', UBUNTU_AMD64, `commands/${out.CommandId}.out`), 'utf8');
    expect(logged).toHaveLength(30_000);
  });

  it('lists invocations with plugin details', async () => {
    const commandId = await send(UBUNTU_ARM64, ['echo listed']);
    await waitFor(commandId, UBUNTU_ARM64);
    const out = await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));
    expect(out.CommandInvocations).toHaveLength(1);
    expect(out.CommandInvocations?.[0]).toMatchObject({
      InstanceId: UBUNTU_ARM64,
      Status: 'Success',
      CommandPlugins: [{ Name: 'aws:runShellScript', ResponseCode: 0, Output: 'listed\n' }],
    });
  });

  it('rejects unknown instances and unknown invocations with SSM error names', async () => {
    await expect(send('mi-00000000000000bad', ['true'])).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    await expect(
      ssm.send(
        new GetCommandInvocationCommand({
          CommandId: '00000000-0000-4000-8000-000000000000',
          InstanceId: UBUNTU_AMD64,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
  });

  it('describes the instances as SSM does, filtered by id', async () => {
    const all = await ssm.send(new DescribeInstanceInformationCommand({}));
    // Six edge hosts and two cloud hosts (sandbox-cloud-hosts.test.ts).
    expect(all.InstanceInformationList).toHaveLength(8);
    const out = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [CENTOS_ARMV7, OFFLINE] }] }),
    );
    expect(out.InstanceInformationList).toEqual([
      expect.objectContaining({
        InstanceId: CENTOS_ARMV7,
        PingStatus: 'Online',
        PlatformType: 'Linux',
        PlatformName: 'CentOS Linux',
        PlatformVersion: '7.9.2009',
        ComputerName: 'edge-centos-armv7',
        IPAddress: '192.168.100.13',
      }),
      expect.objectContaining({ InstanceId: OFFLINE, PingStatus: 'ConnectionLost', PlatformName: 'Ubuntu' }),
    ]);
    const legacy = await ssm.send(
      new DescribeInstanceInformationCommand({
        InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [FIREWALLED] }],
      }),
    );
    expect(legacy.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([FIREWALLED]);
  });
});
