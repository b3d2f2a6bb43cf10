import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FaultPlan } from '../faults';
import { CommandRunner, type Invocation } from './commands';
import { loadHostFixture } from './fixture';
import { type EdgeHost, startEdgeHost } from './host';
import { detectIsolationMode, type IsolationMode } from './isolation-mode';
import { ParameterStore } from './parameters';
import { RootTemplates } from './root-templates';
import { type SharedNetwork, startSharedNetwork } from './shared-network';
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

  // The SSM endpoint first: each host's relays then include its port, opened with the others in one go. Commands
  // reach no host before the endpoint's URL is returned, once every host has started.
  const started = new Map<string, EdgeHost>();
  const runner = new CommandRunner(
    started,
    options.offlineDeliveryTimeoutMs === undefined
      ? {}
      : { offlineDeliveryTimeoutMs: options.offlineDeliveryTimeoutMs },
  );
  if (options.onInvocationEnded) runner.onEnded(options.onInvocationEnded);
  const parameters = new ParameterStore();
  const ssm = await startSsmEndpoint({
    runner,
    instances: specs,
    parameters,
    ...(options.faults && { faults: options.faults }),
  });

  const shared = mode === 'shared-network';
  let network: SharedNetwork | undefined;
  let hosts: EdgeHost[] = [];
  try {
    network = shared ? await startSharedNetwork(specs.filter((s) => s.online).map((s) => s.ipAddress)) : undefined;
    const templates = shared
      ? new RootTemplates(path.join(hostsDir, '.templates'), options.provisioner, mode)
      : undefined;
    const ssmPort = Number(new URL(ssm.url).port);
    const results = await settleBounded(specs, START_CONCURRENCY, (spec) =>
      startEdgeHost({
        spec,
        hostsDir,
        mode,
        provisioner: options.provisioner,
        ssmPort,
        ...(network && { network }),
        ...(templates && { templates }),
      }),
    );
    hosts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  } catch (err) {
    await ssm.stop();
    await Promise.all(hosts.map((h) => h.stop()));
    await network?.stop();
    throw err;
  }
  for (const host of hosts) started.set(host.spec.instanceId, host);
  options.faults?.attachHosts(runner);
  return {
    mode,
    hosts,
    ssm,
    parameters,
    async stop() {
      await ssm.stop();
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
