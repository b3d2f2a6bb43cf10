import { spawnSync } from 'node:child_process';

/**
 * How edge hosts are isolated:
 * - `namespaces`: root; each host has its own mount, UTS, IPC, PID and network namespaces (the tested mode, CI).
 * - `rootless`: not root, but `unshare --user --map-root-user` works; the same namespaces inside a user namespace.
 * - `portable`: no namespaces at all; scripts run with `SANDBOX_HOST_ROOT` pointing at the host root, so the
 *   stand-ins keep their state there. System paths are not isolated, so scripts never run as root here: as the
 *   current (unprivileged) user, or as `nobody` when the sandbox itself is root. A script that writes /etc or a
 *   kernel setting then fails with "permission denied" instead of changing the machine.
 * - `shared-network`: root; for fleets of hundreds of hosts (`npm run bench`'s fleet). Each host has its own mount,
 *   UTS, IPC and PID namespaces as in `namespaces`, but all hosts share one network namespace of their own (not the
 *   machine's): one loopback holding every host's address, one set of relays to the sandbox services, and shared
 *   `net.*` sysctls. Hosts alike are copied from one provisioned root. Never picked unless asked for.
 */
export type IsolationMode = 'namespaces' | 'rootless' | 'portable' | 'shared-network';

/** Every mode, as `EDGEKEEPER_SANDBOX_MODE` and `sandbox.json` spell them. */
export const ISOLATION_MODES = [
  'namespaces',
  'rootless',
  'portable',
  'shared-network',
] as const satisfies readonly IsolationMode[];

/** Whether a host gets namespaces of its own: an online one, in every mode but `portable`. */
export function hasNamespaces(spec: { readonly online: boolean }, mode: IsolationMode): boolean {
  return spec.online && mode !== 'portable';
}

/** The unprivileged user (nobody) portable-mode scripts run as when the sandbox runs as root. */
export const PORTABLE_UID = 65_534;
export const PORTABLE_GID = 65_534;

/** Environment variable that forces a mode (e.g. `portable` to try the fallback as root). */
export const ISOLATION_MODE_ENV = 'EDGEKEEPER_SANDBOX_MODE';

const NAMESPACE_FLAGS = ['--mount', '--uts', '--ipc', '--pid', '--net', '--fork', '--mount-proc'];

function unshareWorks(extra: string[]): boolean {
  const probe = spawnSync('unshare', [...extra, ...NAMESPACE_FLAGS, 'true'], { stdio: 'ignore', timeout: 10_000 });
  return probe.status === 0;
}

/** Picks the strongest isolation this process can have (or the one forced by `EDGEKEEPER_SANDBOX_MODE`). */
export function detectIsolationMode(env: NodeJS.ProcessEnv = process.env): IsolationMode {
  const forced = env[ISOLATION_MODE_ENV];
  if ((ISOLATION_MODES as readonly string[]).includes(forced ?? '')) return forced as IsolationMode;
  if (process.getuid?.() === 0 && unshareWorks([])) return 'namespaces';
  if (process.platform === 'linux' && unshareWorks(['--user', '--map-root-user'])) return 'rootless';
  return 'portable';
}
