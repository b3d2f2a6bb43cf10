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

interface ProcessInfo {
  readonly ppid: number;
  readonly mnt: string;
  readonly net: string;
  readonly pid: string;
  readonly cmdline: string;
}

/** pid → parent and namespace inodes of every process on the machine (processes that end meanwhile are skipped). */
function processes(): Map<number, ProcessInfo> {
  const result = new Map<number, ProcessInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      result.set(Number(entry), {
        ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]),
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

/** The processes descending from `root` (itself included): what this sandbox started, and nothing else. */
function descendants(all: Map<number, ProcessInfo>, root: number): Map<number, ProcessInfo> {
  const mine = new Map<number, ProcessInfo>();
  const self = all.get(root);
  if (self) mine.set(root, self);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, info] of all) {
      if (!mine.has(pid) && mine.has(info.ppid)) {
        mine.set(pid, info);
        grew = true;
      }
    }
  }
  return mine;
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

    // What belongs to the sandbox: its daemon and the processes it started (other sandboxes may run on this
    // machine meanwhile: their hosts and namespaces are not this one's).
    const key = (p: { mnt: string; net: string; pid: string }) => `${p.mnt} ${p.net} ${p.pid}`;
    const mine = processes().get(process.pid);
    const tree = descendants(processes(), info.pid);
    expect(tree.has(info.pid)).toBe(true);
    const sandboxNamespaces = new Set([...tree.values()].map(key).filter((k) => mine && k !== key(mine)));
    expect(sandboxNamespaces.size).toBeGreaterThanOrEqual(5);
    // PID 1 of each online host's PID namespace (its unshare parent also carries the name, in our namespace):
    // five online edge hosts and the two cloud hosts.
    const hostInits = [...tree.entries()].filter(
      ([, p]) => p.cmdline.includes('edge-host-init') && p.pid !== mine?.pid,
    );
    expect(hostInits).toHaveLength(7);
    expect(hostInits.every(([, p]) => p.cmdline.includes(dir))).toBe(true);

    await stopSandbox(dir);

    const after = processes();
    expect(after.has(info.pid)).toBe(false);
    // a process of the tree that still runs (same pid, same command line: not a reused pid), or anything naming dir
    const leftovers = [...after.entries()].filter(
      ([pid, p]) => tree.get(pid)?.cmdline === p.cmdline || p.cmdline.includes(dir),
    );
    expect(leftovers.map(([pid, p]) => `${pid} ${p.cmdline}`)).toEqual([]);
    const inSandboxNamespaces = [...after.entries()].filter(([, p]) => sandboxNamespaces.has(key(p)));
    expect(inSandboxNamespaces.map(([pid]) => pid)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect(existsSync(path.join(dir, 'sandbox.json'))).toBe(false);
  });
});
