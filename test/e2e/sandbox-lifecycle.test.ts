import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { readSandboxInfo, type SandboxInfo, startDetachedSandbox, stopSandbox } from '../../local/sandbox/sandbox';

const UBUNTU_AMD64 = 'mi-0ed9e000000000001';

/** pid → namespace inodes of every process on the machine (processes that end meanwhile are skipped). */
function processNamespaces(): Map<number, { mnt: string; net: string; pid: string; cmdline: string }> {
  const result = new Map<number, { mnt: string; net: string; pid: string; cmdline: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      result.set(Number(entry), {
        mnt: readlinkSync(`/proc/${entry}/ns/mnt`),
        net: readlinkSync(`/proc/${entry}/ns/net`),
        pid: readlinkSync(`/proc/${entry}/ns/pid`),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '),
      });
    } catch {
      // ended while we looked
    }
  }
  return result;
}

describe('detached sandbox lifecycle', () => {
  let dir: string;
  let info: SandboxInfo | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgekeeper-lifecycle-'));
  });

  afterAll(async () => {
    if (info && existsSync(path.join(dir, 'sandbox.json'))) await stopSandbox(dir);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts in the background, serves the hosts, and stops leaving no process, mount or namespace', async () => {
    const key = (p: { mnt: string; net: string; pid: string }) => `${p.mnt} ${p.net} ${p.pid}`;
    const baseline = new Set([...processNamespaces().values()].map(key));
    info = await startDetachedSandbox({ dir });
    expect(info).toMatchObject({
      dir,
      mode: 'namespaces',
      kubeconfig: path.join(dir, 'kubeconfig'),
      ssm: { region: 'us-east-1' },
      cloudcore: {
        publicAddress: '127.0.0.1',
        ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
      },
    });
    expect(await readSandboxInfo(dir)).toEqual(info);
    expect(info.instances.map((i) => i.name)).toEqual([
      'edge-ubuntu-amd64',
      'edge-ubuntu-arm64',
      'edge-centos-armv7',
      'edge-old-docker',
      'edge-offline',
      'edge-firewalled',
      'cloud-master',
      'cloud-worker',
    ]);
    expect(info.instances.filter((i) => i.role === 'cloud')).toEqual([
      expect.objectContaining({
        instanceId: 'mi-0c10d0000000000a1',
        ipAddress: '172.31.0.10',
        tags: { 'edgekeeper-role': 'cloud' },
      }),
      expect.objectContaining({
        instanceId: 'mi-0c10d0000000000a2',
        ipAddress: '172.31.0.11',
        tags: { 'edgekeeper-role': 'cloud' },
      }),
    ]);
    expect(info.instances.slice(0, 6).every((i) => i.role === 'edge' && Object.keys(i.tags).length === 0)).toBe(true);
    expect(existsSync(info.kubeconfig)).toBe(true);

    const ssm = new SSMClient({
      endpoint: info.ssm.endpoint,
      region: info.ssm.region,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    try {
      const described = await ssm.send(new DescribeInstanceInformationCommand({}));
      expect(described.InstanceInformationList).toHaveLength(8);
      // From inside a host, the addresses in sandbox.json lead to the edge services.
      const sent = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [UBUNTU_AMD64],
          Parameters: {
            commands: [
              `curl -s -o /dev/null -w '%{http_code}\\n' ${info.downloadMirror}/`,
              `(exec 3<>/dev/tcp/${info.cloudcore.publicAddress}/${info.cloudcore.ports.cloudhub}) && echo cloudhub open`,
            ],
          },
        }),
      );
      const commandId = sent.Command?.CommandId ?? '';
      let status = 'Pending';
      let output = '';
      while (!['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(status)) {
        await new Promise((r) => setTimeout(r, 100));
        const got = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: UBUNTU_AMD64 }));
        status = got.Status ?? '';
        output = got.StandardOutputContent ?? '';
      }
      expect(status).toBe('Success');
      expect(output).toMatch(/^\d{3}\ncloudhub open\n$/);
    } finally {
      ssm.destroy();
    }

    // What belongs to the sandbox: its daemon, and every namespace that appeared since it started.
    const mine = processNamespaces().get(process.pid);
    const before = processNamespaces();
    const sandboxNamespaces = new Set([...before.values()].map(key).filter((k) => !baseline.has(k)));
    expect(sandboxNamespaces.size).toBeGreaterThanOrEqual(5);
    // PID 1 of each online host's PID namespace (its unshare parent also carries the name, in our namespace):
    // five online edge hosts and the two cloud hosts.
    const hostInits = [...before.entries()].filter(
      ([, p]) => p.cmdline.includes('edge-host-init') && p.cmdline.includes(dir) && p.pid !== mine?.pid,
    );
    expect(hostInits).toHaveLength(7);
    expect(before.has(info.pid)).toBe(true);

    await stopSandbox(dir);

    const after = processNamespaces();
    expect(after.has(info.pid)).toBe(false);
    const leftovers = [...after.entries()].filter(
      ([, p]) => p.cmdline.includes(dir) || p.cmdline.includes('edge-host-init'),
    );
    expect(leftovers.map(([pid]) => pid)).toEqual([]);
    const inSandboxNamespaces = [...after.entries()].filter(([, p]) => sandboxNamespaces.has(key(p)));
    expect(inSandboxNamespaces.map(([pid]) => pid)).toEqual([]);
    for (const [pid] of hostInits) expect(after.has(pid)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect(existsSync(path.join(dir, 'sandbox.json'))).toBe(false);
  });
});
