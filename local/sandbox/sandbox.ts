import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { COMMAND_WAITS_TABLE } from './aws/dynamodb';
import { type AwsEndpoint, startAwsEndpoint } from './aws/endpoint';
import { type RequestLog, type SandboxCluster, startCluster } from './cluster';
import { type EdgeServices, fallbackPath, startEdgeServices } from './edge';
import { FaultPlan } from './faults';
import {
  type EdgeHosts,
  type HostSpec,
  ISOLATION_MODES,
  type IsolationMode,
  loadHostFixture,
  portInsideHost,
  startEdgeHosts,
} from './hosts';
import { detectIsolationMode } from './hosts/isolation-mode';

export { DEFAULT_SANDBOX_DIR } from './defaults';

/** The region the sandbox's SSM endpoint claims (any region works with an endpoint override). */
export const SANDBOX_REGION = 'us-east-1';

const Port = z.number().int().min(1).max(65_535);

/**
 * `<dir>/sandbox.json`: how to reach a running sandbox. Addresses and ports are those seen from inside a host.
 * `instances` lists edge hosts first, then cloud hosts: pick onboarding hosts by `role: 'edge'`.
 */
export const SandboxInfoSchema = z.object({
  dir: z.string(),
  pid: z.number().int().positive(),
  mode: z.enum(ISOLATION_MODES),
  /** the admin's kubeconfig: test setup, kubectl, cloudcore */
  kubeconfig: z.string(),
  /** ServiceAccount kube-system/edgekeeper's, held to deploy/rbac.yaml: what the workflows' steps use */
  edgekeeperKubeconfig: z.string(),
  ssm: z.object({ endpoint: z.url(), region: z.string() }),
  /** DynamoDB with the table of host-command waits the steps use */
  dynamodb: z.object({ endpoint: z.url(), commandWaitsTable: z.string() }),
  /** SSM's command status-change events, one JSON event per line, while the connection stays open */
  commandEvents: z.url(),
  cloudcore: z.object({
    publicAddress: z.string(),
    ports: z.object({ cloudhub: Port, quic: Port, https: Port, stream: Port, tunnel: Port }),
  }),
  downloadMirror: z.url(),
  instances: z.array(
    z.object({
      instanceId: z.string(),
      name: z.string(),
      os: z.enum(['ubuntu', 'centos']),
      osVersion: z.string(),
      arch: z.string(),
      runtime: z.object({ kind: z.enum(['docker', 'containerd', 'none']), version: z.string().optional() }),
      online: z.boolean(),
      cloudcoreReachable: z.boolean(),
      ipAddress: z.string(),
      /** edge: a device to onboard; cloud: a control-plane host (target it by tag, never onboard it) */
      role: z.enum(['edge', 'cloud']),
      /** the instance's SSM tags, e.g. `{ "edgekeeper-role": "cloud" }` on cloud hosts */
      tags: z.record(z.string(), z.string()),
    }),
  ),
});

/** The contents of `<dir>/sandbox.json`. */
export type SandboxInfo = z.infer<typeof SandboxInfoSchema>;

/** A running sandbox: cluster, edge services, edge hosts and SSM endpoint. */
export interface Sandbox {
  readonly info: SandboxInfo;
  /** the simulated API server's request counters per verb and resource (what `npm run bench` reports) */
  readonly requestLog: RequestLog;
  /** fault hooks of the API server, the SSM endpoint, the command events and the hosts (see local/sandbox/faults.ts) */
  readonly faults: FaultPlan;
  /** the DynamoDB tables and the command events sent so far */
  readonly aws: Pick<AwsEndpoint, 'tables' | 'commandEvents'>;
  /** adds cluster objects straight to the store, controllers run once: scale benches (`seedEdgeNodes`) */
  seedObjects: SandboxCluster['seedObjects'];
  /** stops everything started, in reverse order, and removes `sandbox.json` */
  stop(): Promise<void>;
}

/** `sandbox.json` is missing, unreadable or not a sandbox's. */
export class SandboxInfoError extends Error {
  override readonly name = 'SandboxInfoError';
}

/** A detached sandbox did not start or did not stop. */
export class SandboxProcessError extends Error {
  override readonly name = 'SandboxProcessError';
}

function infoPath(dir: string): string {
  return path.join(dir, 'sandbox.json');
}

/** Reads and validates `<dir>/sandbox.json`. */
export async function readSandboxInfo(dir: string): Promise<SandboxInfo> {
  const file = infoPath(path.resolve(dir));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SandboxInfoError(`no sandbox running in ${path.resolve(dir)}: ${file} not found`);
  }
  const parsed = SandboxInfoSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new SandboxInfoError(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Starts the whole sandbox in this process: the cluster (kubeconfig at `<dir>/kubeconfig`), the edge services,
 * one isolated host per fixture entry and the SSM endpoint; then writes `<dir>/sandbox.json`.
 */
export async function startSandbox(options: {
  dir: string;
  /** how long a joined Node stays Ready=False @default 1000 */
  readyDelayMs?: number;
  /** @default the strongest available */
  mode?: IsolationMode;
  /** see CommandRunner @default 5000 */
  offlineDeliveryTimeoutMs?: number;
  /** fault hooks to start with; tests can also add rules later through `Sandbox.faults` @default none */
  faults?: FaultPlan;
  /** the RBAC manifest the steps' identity is held to @default deploy/rbac.yaml */
  rbacManifest?: string;
  /** the hosts (edge first, then cloud) @default fixtures/hosts.yaml; see fleetHostSpecs for a large fleet */
  hosts?: readonly HostSpec[];
}): Promise<Sandbox> {
  const dir = path.resolve(options.dir);
  const faults = options.faults ?? new FaultPlan();
  await mkdir(dir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const cluster: SandboxCluster = await startCluster({
      dir,
      faults,
      ...(options.rbacManifest === undefined ? {} : { rbacManifest: options.rbacManifest }),
    });
    stops.push(() => cluster.stop());
    const edge: EdgeServices = await startEdgeServices({
      dir,
      // its own identity, so the request log tells its requests from the steps' and a person's
      kubeconfigPath: cluster.cloudcoreKubeconfigPath,
      ...(options.readyDelayMs === undefined ? {} : { readyDelayMs: options.readyDelayMs }),
    });
    stops.push(() => edge.stop());
    const aws = await startAwsEndpoint({ region: SANDBOX_REGION, faults });
    stops.push(() => aws.stop());
    const specs = options.hosts ?? (await loadHostFixture());
    const mode = options.mode ?? detectIsolationMode();
    const hosts: EdgeHosts = await startEdgeHosts({
      dir,
      specs,
      provisioner: {
        endpoints: edge.endpoints,
        // a host with namespaces (online, not portable) never reads the fallback PATH: no thousands of symlinks
        provisionHost: (root, traits) =>
          edge.provisionHost(root, traits, { fallbackTools: mode === 'portable' || !traits.online }),
        portablePath: fallbackPath,
      },
      mode,
      ...(options.offlineDeliveryTimeoutMs === undefined
        ? {}
        : { offlineDeliveryTimeoutMs: options.offlineDeliveryTimeoutMs }),
      faults,
      onInvocationEnded: (invocation) => aws.commandEvents.invocationEnded(invocation),
    });
    stops.push(() => hosts.stop());

    // Relayed hosts see cloudcore at KubeSphere's public ports; portable hosts share the real loopback.
    const seen = (name: EdgeServices['endpoints'][number]['name']): number => {
      const port = edge.endpoints.find((e) => e.name === name)?.port;
      if (port === undefined) throw new SandboxProcessError(`the edge services expose no ${name} endpoint`);
      return hosts.mode === 'portable' ? port : portInsideHost(name, port);
    };
    const info: SandboxInfo = {
      dir,
      pid: process.pid,
      mode: hosts.mode,
      kubeconfig: cluster.kubeconfigPath,
      edgekeeperKubeconfig: cluster.edgekeeperKubeconfigPath,
      ssm: { endpoint: hosts.ssm.url, region: SANDBOX_REGION },
      dynamodb: { endpoint: aws.url, commandWaitsTable: COMMAND_WAITS_TABLE.name },
      commandEvents: aws.commandEventsUrl,
      cloudcore: {
        publicAddress: '127.0.0.1',
        ports: {
          cloudhub: seen('cloudhub'),
          quic: seen('quic'),
          https: seen('https'),
          stream: seen('stream'),
          tunnel: seen('tunnel'),
        },
      },
      downloadMirror: `http://127.0.0.1:${seen('mirror')}`,
      instances: specs.map((s) => ({
        instanceId: s.instanceId,
        name: s.name,
        os: s.os,
        osVersion: s.osVersion,
        arch: s.arch,
        runtime: s.runtime,
        online: s.online,
        cloudcoreReachable: s.cloudcoreReachable,
        ipAddress: s.ipAddress,
        role: s.role,
        tags: s.tags,
      })),
    };
    // Written last and atomically: its presence means "ready" to startDetachedSandbox and the CLI.
    await writeFile(`${infoPath(dir)}.tmp`, `${JSON.stringify(info, null, 2)}\n`);
    await rename(`${infoPath(dir)}.tmp`, infoPath(dir));
    stops.push(() => rm(infoPath(dir), { force: true }));
    return {
      info,
      requestLog: cluster.requestLog,
      faults,
      aws: { tables: aws.tables, commandEvents: aws.commandEvents },
      seedObjects: (objects) => cluster.seedObjects(objects),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the sandbox in a detached background process (`local/sandbox/daemon.ts`, logging to
 * `<dir>/sandbox.log`) and resolves once it wrote `sandbox.json`.
 */
export async function startDetachedSandbox(options: { dir: string; timeoutMs?: number }): Promise<SandboxInfo> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  if (existsSync(infoPath(dir))) {
    const previous = await readSandboxInfo(dir).catch(() => undefined);
    if (previous && isAlive(previous.pid)) {
      throw new SandboxProcessError(`a sandbox already runs in ${dir} (pid ${previous.pid}): stop it first`);
    }
    await rm(infoPath(dir), { force: true });
  }
  const logFile = path.join(dir, 'sandbox.log');
  const log = openSync(logFile, 'a');
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(__dirname, 'daemon.ts'), dir], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  child.unref();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (existsSync(infoPath(dir))) {
      const info = await readSandboxInfo(dir).catch(() => undefined);
      if (info && info.pid === child.pid) return info;
    }
    if (exited) break;
    await sleep(100);
  }
  if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
  throw new SandboxProcessError(`the sandbox did not start (see ${logFile}):\n${tail}`);
}

/**
 * Stops the detached sandbox of `dir` (SIGTERM, then SIGKILL after `timeoutMs`) and waits until its process is
 * gone. Host namespaces end with it: their init processes exit when the sandbox's end of their stdin closes.
 */
export async function stopSandbox(dir: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const info = await readSandboxInfo(dir);
  if (isAlive(info.pid)) {
    process.kill(info.pid, 'SIGTERM');
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (isAlive(info.pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(info.pid)) {
      process.kill(info.pid, 'SIGKILL');
      while (isAlive(info.pid)) await sleep(50);
    }
  }
  await rm(infoPath(path.resolve(dir)), { force: true });
}
