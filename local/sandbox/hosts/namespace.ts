import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { HostStartError } from './errors';
import { HOST_OWNED_DIRS } from './host-root';
import type { SharedNetwork } from './shared-network';

/** Which namespaces a process joins with `nsenter`. */
export type NamespaceKind = 'mount' | 'uts' | 'ipc' | 'net' | 'pid';

/** A host's long-lived set of namespaces; each command enters it with `nsenter`, so mounts persist between them. */
export interface HostNamespace {
  /** pid (in the real PID namespace) of the namespace's init process */
  readonly initPid: number;
  /** `nsenter` arguments (before `--`) that join the given namespaces of this host */
  nsenterArgs(kinds?: readonly NamespaceKind[]): string[];
  /** kills every process of the host; its mounts and namespaces go with the last one */
  stop(): Promise<void>;
}

/**
 * Runs as the namespace's init (PID 1). Mount order matters: a directory that contains the host dir itself
 * (e.g. /tmp when the sandbox lives in /tmp) is covered last, after every source path was used. The overlays of
 * the real /etc's alternatives and ssl (host-root.ts) are mounted on the host's own /etc first, while the real
 * ones are still in sight, and come along with it (`--rbind`).
 * /proc/sys is made read-only except /proc/sys/net, which belongs to the host's own network namespace: a stray
 * `sysctl -w kernel.*` fails instead of changing the real kernel. The loop keeps PID 1 alive until the sandbox
 * closes its stdin (or dies), and bash as PID 1 reaps orphaned daemons. The host's own address (what SSM reports)
 * sits on an `eth0` (on the loopback where veth is unavailable), so `ip addr` and `hostname -I` inside the host list
 * it as on a real machine: upstream keadm, which has no --edgenode-ip, reports it as the node's InternalIP.
 */
const INIT_SCRIPT = `set -euo pipefail
host_dir=$1 hostname=$2 overlay_opts=$3 address=$4 etc_overlays=$5
shift 5
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$host_dir/root/usr,workdir=$host_dir/overlay-work$overlay_opts" /usr
mount --bind "$host_dir/root/usr/lib/sysctl.d" /usr/lib/sysctl.d
for name in $etc_overlays; do
  mkdir -p "$host_dir/overlay-work-etc/$name"
  mount -t overlay overlay -o "lowerdir=/etc/$name,upperdir=$host_dir/root/etc/$name,workdir=$host_dir/overlay-work-etc/$name$overlay_opts" "$host_dir/root/etc/$name"
done
for target in "$@"; do
  if [[ $target == /etc ]]; then
    mount --rbind "$host_dir/root$target" "$target"
  else
    mount --bind "$host_dir/root$target" "$target"
  fi
done
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
mount -o remount,bind,ro /sys
ip link set lo up
if [[ -n $address ]]; then
  # eth0 is one end of a veth pair whose peer stays in the host too: an up interface with no way out.
  if ip link add eth0 type veth peer name eth0-peer 2>/dev/null; then
    ip link set eth0-peer up
    ip link set eth0 up
    ip addr add "$address/24" dev eth0
  else
    ip addr add "$address/32" dev lo
  fi
fi
hostname "$hostname"
echo ready
while read -r _; do :; done
`;

/** The host-owned directories in mount order: the one holding `hostDir` last (see INIT_SCRIPT). */
export function bindOrder(hostDir: string): string[] {
  const targets = HOST_OWNED_DIRS.map((d) => `/${d}`);
  const holder = targets.find((t) => hostDir === t || hostDir.startsWith(`${t}/`));
  return holder ? [...targets.filter((t) => t !== holder), holder] : targets;
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are safe.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Creates a host's namespaces and mounts (`<hostDir>/root/...` over the host-owned directories, an overlay on
 * /usr whose upper layer is `<hostDir>/root/usr`), sets its hostname and brings up its loopback and its address.
 */
export async function startHostNamespace(options: {
  hostDir: string;
  hostname: string;
  /** the host's IPv4 address, added to its loopback; none when omitted */
  address?: string;
  rootless: boolean;
  /** joins this network namespace instead of creating one (the `shared-network` mode; it holds the address) */
  network?: SharedNetwork;
  /** directories of the real /etc the host sees through an overlay, upper layer `<hostDir>/root/etc/<name>` */
  etcOverlays?: readonly string[];
}): Promise<HostNamespace> {
  const hostDir = realpathSync(options.hostDir);
  const userFlags = options.rootless ? ['--user', '--map-root-user'] : [];
  // Overlayfs inside a user namespace keeps its metadata in user.* xattrs (kernel >= 5.11).
  const overlayOpts = options.rootless ? ',userxattr' : '';
  const args = [
    ...userFlags,
    '--mount',
    '--uts',
    '--ipc',
    '--pid',
    ...(options.network ? [] : ['--net']),
    '--fork',
    '--mount-proc',
    '--kill-child',
    'bash',
    '-c',
    INIT_SCRIPT,
    'edge-host-init',
    hostDir,
    options.hostname,
    overlayOpts,
    options.network ? '' : (options.address ?? ''),
    (options.etcOverlays ?? []).join(' '),
    ...bindOrder(hostDir),
  ];
  // nsenter execs unshare (no --fork for a network namespace), so the spawned pid is still unshare's.
  const [command, commandArgs] = options.network
    ? ['nsenter', [...options.network.nsenterArgs(), '--', 'unshare', ...args]]
    : ['unshare', args];
  const unshare = spawn(command, commandArgs, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
  });
  // PID 1 may already be gone when stop() closes its stdin: that EPIPE is expected.
  unshare.stdin.on('error', () => undefined);
  let stderr = '';
  unshare.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const ready = await new Promise<boolean>((resolve) => {
    let stdout = '';
    unshare.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve(true);
    });
    unshare.once('exit', () => resolve(false));
    unshare.once('error', () => resolve(false));
  });
  const initPid = ready && unshare.pid !== undefined ? childrenOf(unshare.pid)[0] : undefined;
  if (initPid === undefined) {
    unshare.kill('SIGKILL');
    throw new HostStartError(`cannot create the namespaces of host ${options.hostname}: ${stderr.trim() || 'no init'}`);
  }

  const kindFlags: Record<NamespaceKind, string> = {
    mount: '--mount',
    uts: '--uts',
    ipc: '--ipc',
    net: '--net',
    pid: '--pid',
  };
  return {
    initPid,
    nsenterArgs(kinds = ['mount', 'uts', 'ipc', 'net', 'pid']) {
      return ['--target', String(initPid), ...(options.rootless ? ['--user'] : []), ...kinds.map((k) => kindFlags[k])];
    },
    async stop() {
      // Closing stdin ends PID 1's loop; the kernel then kills every process left in the PID namespace.
      unshare.stdin.end();
      if (await waitForExit(unshare, 5_000)) return;
      unshare.kill('SIGKILL'); // --kill-child takes PID 1 (and so the namespace) with it
      await waitForExit(unshare, 5_000);
    },
  };
}
