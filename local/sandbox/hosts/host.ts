import { execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { PRIVATE_MOUNTS_MARKER } from '../edge';
import { HostStartError, HostStoppedError } from './errors';
import { type Forwarders, openForwarders } from './forwarder';
import { overlaidEtcDirs } from './host-root';
import { hasNamespaces, type IsolationMode, PORTABLE_GID, PORTABLE_UID } from './isolation-mode';
import { type HostNamespace, startHostNamespace } from './namespace';
import { provisionRoot, type RootTemplates } from './root-templates';
import type { SharedNetwork } from './shared-network';
import { type HostProvisioner, type HostSpec, portInsideHost } from './traits';

/** How a script ended: an exit code, or the signal that killed it. */
export interface ScriptExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A script running on a host. */
export interface ScriptRun {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exit: Promise<ScriptExit>;
  /** kills the script and every process it started in its process group */
  kill(): void;
}

/** One edge host: an isolated root that runs shell scripts as root. */
export interface EdgeHost {
  readonly spec: HostSpec;
  /** `<sandbox dir>/hosts/<instanceId>` */
  readonly dir: string;
  /** the host's own files: `<dir>/root` */
  readonly root: string;
  readonly mode: IsolationMode;
  /** runs `script` with bash, as SSM's agent does, from the command's orchestration directory */
  runScript(commandId: string, script: string): Promise<ScriptRun>;
  stop(): Promise<void>;
}

/** PATH of SSM's agent on Linux (a systemd service's default). */
const AGENT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Enters the orchestration directory inside the host, then runs the script unmodified. (`nsenter --wd` would
 * resolve the directory in the real mount namespace, where it does not exist.)
 */
const CD_AND_RUN = 'cd "$1" && exec bash _script.sh';

/** How long output is still collected after the script's bash exited. */
const STREAM_DRAIN_MS = 500;

/** `chown -R` (without following symlinks, which may point at the real machine's files). */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await promisify(execFile)('chown', ['-R', '-h', `${uid}:${gid}`, dir]);
}

/** Where SSM's agent writes a Run Command script, relative to the host root. */
export function orchestrationDir(instanceId: string, commandId: string): string {
  return path.join(
    'var/lib/amazon/ssm',
    instanceId,
    'document/orchestration',
    commandId,
    'awsrunShellScript/0.awsrunShellScript',
  );
}

/**
 * Creates (afresh) and starts one host under `<hostsDir>/<instanceId>`: seeds its root, lets the edge stand-ins
 * provision it, and for an online host creates its namespaces and its relays to the sandbox services.
 */
export async function startEdgeHost(options: {
  spec: HostSpec;
  hostsDir: string;
  mode: IsolationMode;
  provisioner: HostProvisioner;
  /**
   * The port of the sandbox's SSM endpoint on the real loopback: the host's scripts get it as their AWS
   * configuration (`AWS_ENDPOINT_URL_SSM`, which the `aws` stand-in reads), relayed at the same port inside.
   */
  ssmPort: number;
  /** the `shared-network` mode's network, which the host joins instead of having its own */
  network?: SharedNetwork;
  /** copies the root from the template of hosts alike instead of provisioning it afresh */
  templates?: RootTemplates;
}): Promise<EdgeHost> {
  const { spec, mode, provisioner, network } = options;
  const dir = path.join(options.hostsDir, spec.instanceId);
  const root = path.join(dir, 'root');
  // Synchronous on purpose: a trip through the event loop would wait for whatever keeps it busy (see seedHostRoot).
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['overlay-work', 'commands']) mkdirSync(path.join(dir, sub), { recursive: true });
  if (options.templates) await options.templates.fill(root, spec);
  else await provisionRoot(root, spec, provisioner, mode);
  if (mode !== 'portable') {
    // Tells the stand-ins that mounts made inside this host stay inside it (its own mount namespace).
    const marker = path.join(root, PRIVATE_MOUNTS_MARKER);
    mkdirSync(path.dirname(marker), { recursive: true });
    writeFileSync(marker, `${mode}\n`);
  }

  let namespace: HostNamespace | undefined;
  let forwarders: Forwarders | undefined;
  if (hasNamespaces(spec, mode)) {
    if (network && !spec.cloudcoreReachable) {
      throw new HostStartError(`host ${spec.name}: hosts sharing one network all reach cloudcore`);
    }
    namespace = await startHostNamespace({
      hostDir: dir,
      hostname: spec.name,
      address: spec.ipAddress,
      rootless: mode === 'rootless',
      etcOverlays: overlaidEtcDirs(),
      ...(network && { network }),
    });
    const routes = [
      ...provisioner.endpoints
        .filter((e) => e.name === 'mirror' || spec.cloudcoreReachable)
        .map((e) => ({ insidePort: portInsideHost(e.name, e.port), targetPort: e.port })),
      // The same port inside: the real one is ephemeral, so it meets none of the host's fixed service ports.
      { insidePort: options.ssmPort, targetPort: options.ssmPort },
    ];
    try {
      if (network) await network.relay(routes);
      else forwarders = await openForwarders(namespace.nsenterArgs(['net']), routes);
    } catch (err) {
      await namespace.stop();
      throw new HostStartError(`host ${spec.name}: ${(err as Error).message}`);
    }
  }

  // Without namespaces nothing stands between a script and the real machine: never run it as root.
  const portableUser = mode === 'portable' && process.getuid?.() === 0 ? { uid: PORTABLE_UID, gid: PORTABLE_GID } : {};
  if ('uid' in portableUser) await chownTree(dir, PORTABLE_UID, PORTABLE_GID);

  let stopped = false;
  const running = new Set<ScriptRun>();
  const awsEnvironment = { AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${options.ssmPort}` };
  return {
    spec,
    dir,
    root,
    mode,
    async runScript(commandId, script) {
      if (stopped) throw new HostStoppedError(`host ${spec.name} is stopped`);
      const relativeDir = orchestrationDir(spec.instanceId, commandId);
      const realDir = path.join(root, relativeDir);
      await mkdir(realDir, { recursive: true });
      await writeFile(path.join(realDir, '_script.sh'), script, { mode: 0o700 });
      if ('uid' in portableUser) await chownTree(path.join(root, 'var/lib/amazon'), PORTABLE_UID, PORTABLE_GID);
      const child = namespace
        ? spawn(
            'nsenter',
            [...namespace.nsenterArgs(), '--', 'bash', '-c', CD_AND_RUN, 'ssm-agent', `/${relativeDir}`],
            {
              detached: true,
              stdio: ['ignore', 'pipe', 'pipe'],
              env: {
                PATH: AGENT_PATH,
                HOME: '/root',
                USER: 'root',
                LOGNAME: 'root',
                SHELL: '/bin/bash',
                LANG: 'C.UTF-8',
                ...awsEnvironment,
              },
            },
          )
        : spawn('/bin/bash', ['_script.sh'], {
            cwd: realDir,
            detached: true,
            ...portableUser,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              PATH:
                provisioner.portablePath?.(root) ??
                [`${root}/usr/local/sbin`, `${root}/usr/local/bin`, AGENT_PATH].join(':'),
              HOME: path.join(root, 'root'),
              LANG: 'C.UTF-8',
              SANDBOX_HOST_ROOT: root,
              ...awsEnvironment,
            },
          });
      const exit = new Promise<ScriptExit>((resolve) => {
        child.once('error', () => resolve({ code: 127, signal: null }));
        child.once('close', (code, signal) => resolve({ code, signal }));
        // A daemon the script started in the background may keep stdout open forever; the script is still done
        // once bash exits, so stop waiting for the pipes shortly after.
        child.once('exit', (code, signal) => setTimeout(() => resolve({ code, signal }), STREAM_DRAIN_MS).unref());
      });
      const run: ScriptRun = {
        stdout: child.stdout,
        stderr: child.stderr,
        exit,
        kill() {
          // detached: the script leads its own process group; killing the group takes its children too.
          if (child.pid !== undefined && child.exitCode === null) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        },
      };
      running.add(run);
      void exit.then(() => running.delete(run));
      return run;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const run of running) run.kill();
      await Promise.all([...running].map((r) => r.exit));
      await forwarders?.close();
      await namespace?.stop();
    },
  };
}
