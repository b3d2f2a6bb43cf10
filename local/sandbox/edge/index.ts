/**
 * The sandbox's edge stand-ins: a download mirror of keadm/KubeEdge tarballs (keadm and edgecore are bash
 * stand-ins), a cloudcore stand-in that registers Nodes in the sandbox cluster, and per-host package manager,
 * systemd, runtime and uname stand-ins.
 *
 * How a host uses them (the hosts colleague's side):
 * - Namespace mode (root): in a new mount namespace, after `mount --make-rprivate /`, mount each
 *   {@link HOST_BOUND_PATHS} entry as an overlay (see {@link overlayMounts}): the real tree is the read-only lower
 *   layer, `<root><path>` the upper layer. Everything a host writes under /etc, /usr and /var lands in its root,
 *   the real machine's tools stay visible, the stand-ins in `/usr/local/sbin` come first on {@link HOST_PATH}, and
 *   tools the host must not have are hidden by overlay whiteouts written at provisioning. Leave
 *   `SANDBOX_HOST_ROOT` unset there.
 * - Fallback mode (no namespaces): set `SANDBOX_HOST_ROOT=<root>` and `PATH=` {@link fallbackPath}; the stand-ins
 *   then prefix every path with the root, and the PATH holds only symlinks to allowed tools.
 * Either way the keadm stand-in reads the mirror's URL from `/var/lib/sandbox/mirror-url` (written here as
 * `http://127.0.0.1:<mirror port>`; rewrite it when the mirror is relayed elsewhere) or `SANDBOX_MIRROR_URL`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCloudcore } from './cloudcore';
import { startMirror } from './mirror';
import { FALLBACK_TOOLS_DIR, type HostTraits, STANDIN_DIR, provisionHost as writeHostRoot } from './provision';
import { TarballBuilder } from './tarballs';

export { REAL_DOWNLOAD_BASES } from './mirror';
export type { HostTraits } from './provision';

/** The running edge stand-ins. */
export interface EdgeServices {
  /** services the edge hosts must reach: each listens on 127.0.0.1:<port> in the real network namespace; the hosts
   *  colleague relays them into each host's own network namespace at the "public" ports (cloudhub 10000, quic 10001,
   *  https 10002, stream 10003, tunnel 10004, mirror e.g. 8080) — or, in a fallback mode, hosts use these ports directly */
  readonly endpoints: { name: 'cloudhub' | 'quic' | 'https' | 'stream' | 'tunnel' | 'mirror'; port: number }[];
  /**
   * write the stand-in commands and base files into a host root (called once per host at creation); the fallback
   * PATH ({@link fallbackPath}) unless `fallbackTools` is false, for a host that will have namespaces
   */
  provisionHost(root: string, traits: HostTraits, options?: { fallbackTools?: boolean }): Promise<void>;
  /** PATH for a host in the portable (fallback) mode: {@link fallbackPath} (hosts' optional `portablePath`) */
  portablePath(root: string): string;
  stop(): Promise<void>;
}

/**
 * Real paths that must be host-private for the stand-ins, each backed by `<root><path>`: /etc (os-release, units,
 * /etc/kubeedge), /usr (stand-ins in /usr/local/sbin, whiteouts, edgecore, /usr/lib/systemd/system via /lib) and
 * /var (state, logs, /var/lib/kubeedge, /var/lib/edged). /usr must be an overlay (real tools stay visible,
 * whiteouts hide some); /etc and /var may be overlays ({@link overlayMounts}) or binds of a seeded `<root>/etc`
 * and `<root>/var` (what local/sandbox/hosts does): the stand-ins work with either.
 */
export const HOST_BOUND_PATHS = ['/etc', '/usr', '/var'] as const;

/**
 * Present (inside a host) when the host has a mount namespace of its own, so stand-ins may mount there (the
 * edgecore stand-in's secret-volume tmpfs). Whoever isolates a host writes it; fallback hosts never have it.
 */
export const PRIVATE_MOUNTS_MARKER = '/var/lib/sandbox/private-mounts';

/** Overlay work directories live under `<root>/<OVERLAY_WORK_DIR>/<name>` (same filesystem as the upper layer). */
export const OVERLAY_WORK_DIR = '.overlay-work';

/** PATH inside a namespace-mode host: the stand-ins' directory first, as on a real root shell. */
export const HOST_PATH = `${STANDIN_DIR}:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** One overlay mount of a namespace-mode host: `mount -t overlay overlay -o <options> <target>`. */
export interface OverlayMount {
  readonly target: string;
  readonly options: string;
  /** Directories to create (on the real filesystem, inside the root) before mounting. */
  readonly dirs: readonly string[];
}

/** The overlay mounts that give a host its own /etc, /usr and /var on top of the real ones. */
export function overlayMounts(root: string): OverlayMount[] {
  return HOST_BOUND_PATHS.map((target) => {
    const upper = join(root, target);
    const work = join(root, OVERLAY_WORK_DIR, target.slice(1));
    return { target, options: `lowerdir=${target},upperdir=${upper},workdir=${work}`, dirs: [upper, work] };
  });
}

/**
 * PATH of a fallback-mode host (with `SANDBOX_HOST_ROOT=<root>`): the stand-ins, then symlinks to the allowed real
 * tools. `<root>/usr/local/bin` is left out: it holds the namespace mode's whiteouts, which bash would still try to
 * run; what gets installed there (edgecore) is called by absolute path.
 */
export function fallbackPath(root: string): string {
  return [join(root, STANDIN_DIR), join(root, FALLBACK_TOOLS_DIR)].join(':');
}

/**
 * Starts the download mirror and the cloudcore stand-in (all on 127.0.0.1, random ports).
 * `dir` holds the built tarballs; `kubeconfigPath` points at the sandbox cluster; `readyDelayMs` is how long a
 * joined Node stays Ready=False (default 1000).
 */
export async function startEdgeServices(options: {
  dir: string;
  kubeconfigPath: string;
  readyDelayMs?: number;
}): Promise<EdgeServices> {
  const tarballDir = join(options.dir, 'mirror');
  await mkdir(tarballDir, { recursive: true });
  const mirror = await startMirror(new TarballBuilder(tarballDir));
  try {
    const cloudcore = await startCloudcore({
      kubeconfigPath: options.kubeconfigPath,
      readyDelayMs: options.readyDelayMs,
    });
    const { ports } = cloudcore;
    return {
      endpoints: [
        { name: 'cloudhub', port: ports.cloudhub },
        { name: 'quic', port: ports.quic },
        { name: 'https', port: ports.https },
        { name: 'stream', port: ports.stream },
        { name: 'tunnel', port: ports.tunnel },
        { name: 'mirror', port: mirror.port },
      ],
      provisionHost: (root, traits, options) => writeHostRoot(root, traits, `http://127.0.0.1:${mirror.port}`, options),
      portablePath: fallbackPath,
      stop: async () => {
        await Promise.all([cloudcore.stop(), mirror.stop()]);
      },
    };
  } catch (error) {
    await mirror.stop();
    throw error;
  }
}
