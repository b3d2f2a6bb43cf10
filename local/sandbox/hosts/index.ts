import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FaultPlan } from '../faults';
import { CommandRunner, type Invocation } from './commands';
import { loadHostFixture } from './fixture';
import { type EdgeHost, startEdgeHost } from './host';
import { detectIsolationMode, type IsolationMode } from './isolation-mode';
import { ParameterStore } from './parameters';
import { RootTemplates } from './root-templates';
import { startSharedNetwork } from './shared-network';
import { type SsmEndpoint, startSsmEndpoint } from './ssm-endpoint';
import type { HostProvisioner, HostSpec } from './traits';

export { DEFAULT_HOST_FIXTURE, loadHostFixture, parseHostFixture } from './fixture';
export { canJoin, fleetHostSpecs, MAX_FLEET_HOSTS } from './fleet';
export type { EdgeHost } from './host';
export { ISOLATION_MODES, type IsolationMode } from './isolation-mode';
export { ParameterStore } from './parameters';
export { SsmServiceError } from './ssm-errors';
export type { HostProvisioner, HostRole, HostSpec, HostTraits, ServiceName } from './traits';
export { portInsideHost } from './traits';

/** The sandbox's edge hosts and the SSM endpoint in front of them. */
export interface EdgeHosts {
  readonly mode: IsolationMode;
  readonly hosts: readonly EdgeHost[];
  readonly ssm: SsmEndpoint;
  /** the Parameter Store behind the endpoint (the hosts' `aws ssm get-parameter` reads it too) */
  readonly parameters: ParameterStore;
  /** stops the endpoint, kills every script and removes every host namespace */
  stop(): Promise<void>;
}

/**
 * Creates one isolated host per fixture entry under `<dir>/hosts/<instanceId>` and an SSM endpoint on
 * 127.0.0.1 that runs commands on them.
 */
export async function startEdgeHosts(options: {
  dir: string;
  provisioner: HostProvisioner;
  /** the hosts; default: `fixtures/hosts.yaml` */
  specs?: readonly HostSpec[];
  /** default: the strongest available (see detectIsolationMode) */
  mode?: IsolationMode;
  /** see CommandRunner */
  offlineDeliveryTimeoutMs?: number;
  /** fault hooks: SSM request faults and hosts going offline */
  faults?: FaultPlan;
  /** told of every invocation that ends: SSM's status-change events (local/sandbox/aws/command-events.ts) */
  onInvocationEnded?: (invocation: Invocation) => void;
}): Promise<EdgeHosts> {
  const specs = options.specs ?? (await loadHostFixture());
  const mode = options.mode ?? detectIsolationMode();
  const hostsDir = path.resolve(options.dir, 'hosts');
  await mkdir(hostsDir, { recursive: true });

  const shared = mode === 'shared-network';
  const network = shared ? await startSharedNetwork(specs.filter((s) => s.online).map((s) => s.ipAddress)) : undefined;
  const templates = shared ? new RootTemplates(path.join(hostsDir, '.templates'), options.provisioner) : undefined;
  const started = await settleBounded(specs, START_CONCURRENCY, (spec) =>
    startEdgeHost({
      spec,
      hostsDir,
      mode,
      provisioner: options.provisioner,
      ...(network && { network }),
      ...(templates && { templates }),
    }),
  );
  const hosts = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all(hosts.map((h) => h.stop()));
    await network?.stop();
    throw failure.reason;
  }

  const runner = new CommandRunner(
    new Map(hosts.map((h) => [h.spec.instanceId, h])),
    options.offlineDeliveryTimeoutMs === undefined
      ? {}
      : { offlineDeliveryTimeoutMs: options.offlineDeliveryTimeoutMs },
  );
  if (options.onInvocationEnded) runner.onEnded(options.onInvocationEnded);
  let ssm: SsmEndpoint | undefined;
  const parameters = new ParameterStore();
  try {
    ssm = await startSsmEndpoint({
      runner,
      instances: specs,
      parameters,
      ...(options.faults && { faults: options.faults }),
    });
    options.faults?.attachHosts(runner);
    const url = ssm.url;
    await Promise.all(hosts.filter((h) => h.spec.online).map((h) => h.connectSsm(url)));
  } catch (err) {
    await ssm?.stop();
    await Promise.all(hosts.map((h) => h.stop()));
    await network?.stop();
    throw err;
  }
  const endpoint = ssm;
  return {
    mode,
    hosts,
    ssm: endpoint,
    parameters,
    async stop() {
      await endpoint.stop();
      await runner.stop();
      await Promise.all(hosts.map((h) => h.stop()));
      await network?.stop();
    },
  };
}

/** Hosts started at once: each start spawns a few processes; a fleet of hundreds must not spawn them all at once. */
const START_CONCURRENCY = 16;

/** Promise.allSettled over `items`, with at most `limit` of `start` running at a time, results in item order. */
async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  start: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await start(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
