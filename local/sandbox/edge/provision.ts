import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { renderStandin, type StandinName } from './standin-scripts';

const run = promisify(execFile);

/** What a sandbox edge host is like (see index.ts). */
export interface HostTraits {
  instanceId: string;
  name: string;
  os: 'ubuntu' | 'centos';
  arch: 'x86_64' | 'aarch64' | 'armv7l' | string;
  runtime: { kind: 'docker' | 'containerd' | 'none'; version?: string };
  online: boolean;
  cloudcoreReachable: boolean;
  tools?: { wget?: boolean; curl?: boolean; tar?: boolean };
  /** edge (default): a device to onboard; cloud: a control-plane host of the sandbox cluster */
  role?: 'edge' | 'cloud';
}

/** Where the stand-ins go inside a host root: first on a root PATH, so they shadow /usr/bin and /usr/local/bin. */
export const STANDIN_DIR = '/usr/local/sbin';

/** The host's fallback PATH directory of symlinks to the real machine's tools, minus the hidden ones. */
export const FALLBACK_TOOLS_DIR = '/var/lib/sandbox/path-bin';

const REAL_TOOL_DIRS = ['/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

const OS_RELEASE: Record<HostTraits['os'], string> = {
  ubuntu: [
    'NAME="Ubuntu"',
    'VERSION="18.04.6 LTS (Bionic Beaver)"',
    'ID=ubuntu',
    'ID_LIKE=debian',
    'PRETTY_NAME="Ubuntu 18.04.6 LTS"',
    'VERSION_ID="18.04"',
    '',
  ].join('\n'),
  centos: [
    'NAME="CentOS Linux"',
    'VERSION="7 (Core)"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="7"',
    'PRETTY_NAME="CentOS Linux 7 (Core)"',
    '',
  ].join('\n'),
};

/** The stand-ins a host gets (installed name → source), by OS and runtime. */
export function standinsFor(traits: HostTraits): Record<string, StandinName> {
  // Every host has iptables: cloud hosts for the logs/exec DNAT rules (docs/kubeedge.md §6), edge hosts like any
  // Linux machine. The stand-in keeps rules in files: the real one would change the real machine's netfilter.
  const tools: Record<string, StandinName> = {
    systemctl: 'systemctl',
    uname: 'uname',
    iptables: 'iptables',
    'iptables-save': 'iptables',
  };
  if (traits.os === 'ubuntu') Object.assign(tools, { 'apt-get': 'apt-get', apt: 'apt-get', dpkg: 'dpkg' });
  else Object.assign(tools, { yum: 'yum', rpm: 'rpm' });
  if (traits.runtime.kind === 'docker') tools.docker = 'docker';
  if (traits.runtime.kind === 'containerd') Object.assign(tools, { containerd: 'containerd', crictl: 'crictl' });
  return tools;
}

/**
 * Tools the host must not have: those its traits leave out, the other distribution's package tools, and runtimes
 * it does not run. The real machine may have them (this one has /usr/local/bin/docker and /usr/bin/apt-get).
 */
export function hiddenTools(traits: HostTraits): string[] {
  const hidden: string[] = [];
  for (const tool of ['wget', 'curl', 'tar'] as const) if (traits.tools?.[tool] === false) hidden.push(tool);
  hidden.push(...(traits.os === 'ubuntu' ? ['yum', 'rpm'] : ['apt-get', 'apt', 'dpkg']));
  if (traits.runtime.kind !== 'docker') hidden.push('docker', 'dockerd');
  if (traits.runtime.kind !== 'containerd') hidden.push('containerd', 'crictl', 'ctr');
  hidden.push('edgecore', 'keadm', 'mosquitto');
  return hidden;
}

/**
 * Writes a host root: traits, os-release, hostname, the stand-ins, overlay whiteouts hiding tools in namespace
 * mode (root only: a whiteout is a 0/0 character device) and, unless `fallbackTools` is false, the fallback PATH
 * directory: a couple of thousand symlinks, which only a host without namespaces reads.
 */
export async function provisionHost(
  root: string,
  traits: HostTraits,
  mirrorUrl: string,
  options: { fallbackTools?: boolean } = {},
): Promise<void> {
  // Synchronous on purpose, but for the few child processes: a few dozen small files, each too small to be worth a
  // trip through the event loop, which the demo keeps busy loading modules while its hosts start.
  const state = join(root, 'var/lib/sandbox');
  for (const dir of ['etc/systemd/system', 'lib/systemd/system', 'var/log/sandbox', 'usr/local/bin', STANDIN_DIR]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  mkdirSync(join(state, 'payload'), { recursive: true });
  const traitLines = [
    `INSTANCE_ID=${traits.instanceId}`,
    `HOSTNAME=${traits.name}`,
    `OS=${traits.os}`,
    `ARCH=${traits.arch}`,
    `RUNTIME_KIND=${traits.runtime.kind}`,
    `RUNTIME_VERSION=${traits.runtime.version ?? ''}`,
    `ONLINE=${traits.online}`,
    `CLOUDCORE_REACHABLE=${traits.cloudcoreReachable}`,
    `ROLE=${traits.role ?? 'edge'}`,
  ];
  writeFileSync(join(state, 'traits.env'), `${traitLines.join('\n')}\n`);
  writeFileSync(join(state, 'mirror-url'), `${mirrorUrl}\n`);
  writeFileSync(join(root, 'etc/os-release'), OS_RELEASE[traits.os]);
  writeFileSync(join(root, 'etc/hostname'), `${traits.name}\n`);
  writeExecutable(join(state, 'payload/mosquitto'), renderStandin('mosquitto'));
  for (const [tool, source] of Object.entries(standinsFor(traits))) {
    writeExecutable(join(root, STANDIN_DIR, tool), renderStandin(source));
  }
  const hidden = hiddenTools(traits);
  await Promise.all([
    traits.runtime.kind === 'containerd' ? writeSocketFile(join(root, CONTAINERD_SOCKET)) : undefined,
    writeWhiteouts(root, hidden),
  ]);
  if (options.fallbackTools !== false) writeFallbackTools(join(root, FALLBACK_TOOLS_DIR), new Set(hidden));
}

/** Where a running containerd listens; join scripts detect the runtime by this socket, as on a real host. */
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/**
 * Leaves a unix socket file at `path` (nothing listens: the stand-ins never dial it). A child process binds it
 * relative to its working directory, so host roots deeper than the 108-byte sun_path limit still work, and exits
 * without closing the server, which would unlink the file.
 */
async function writeSocketFile(path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await rm(path, { force: true });
  const bind = "require('net').createServer().listen(process.argv[1], () => process.exit(0))";
  await run(process.execPath, ['-e', bind, basename(path)], { cwd: dir, timeout: 10_000 });
}

function writeExecutable(path: string, content: string): void {
  writeFileSync(path, content);
  chmodSync(path, 0o755);
}

// Overlay whiteouts hide a lower file in the merged /usr. Directories that are symlinks (/bin -> usr/bin on
// merged-usr systems) are covered through their target.
async function writeWhiteouts(root: string, hidden: string[]): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const whiteouts: string[] = [];
  for (const dir of REAL_TOOL_DIRS) {
    if (!dir.startsWith('/usr/') || !existsSync(dir) || lstatSync(dir).isSymbolicLink()) continue;
    for (const tool of hidden) {
      if (existsSync(join(dir, tool)) && join(dir, tool) !== join(STANDIN_DIR, tool)) whiteouts.push(join(dir, tool));
    }
  }
  await Promise.all(
    whiteouts.map((path) => {
      const whiteout = join(root, path);
      mkdirSync(dirname(whiteout), { recursive: true });
      rmSync(whiteout, { force: true });
      return run('mknod', [whiteout, 'c', '0', '0']);
    }),
  );
}

// Synchronous on purpose: a few thousand symlinks, each too small to be worth an await.
function writeFallbackTools(dir: string, hidden: Set<string>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const linked = new Set<string>();
  for (const realDir of REAL_TOOL_DIRS) {
    if (!existsSync(realDir)) continue;
    for (const tool of readdirSync(realDir)) {
      if (hidden.has(tool) || linked.has(tool)) continue;
      const target = join(realDir, tool);
      try {
        if (!statSync(target).isFile()) continue;
      } catch {
        continue; // a dangling symlink
      }
      linked.add(tool);
      symlinkSync(target, join(dir, tool));
    }
  }
}
