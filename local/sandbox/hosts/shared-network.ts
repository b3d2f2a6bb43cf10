import { spawn } from 'node:child_process';
import { HostStartError } from './errors';
import { type Forwarders, type ForwardRoute, openForwarders } from './forwarder';

/**
 * One network namespace (not the machine's) that the hosts of the `shared-network` mode all join: its loopback
 * holds every host's address, and the relays into it are opened once for all hosts.
 */
export interface SharedNetwork {
  /** `nsenter` arguments (before `--`) that join this network namespace */
  nsenterArgs(): string[];
  /** opens relays for the routes whose inside port has none yet (each port is relayed once, for every host) */
  relay(routes: readonly ForwardRoute[]): Promise<void>;
  /** closes the relays and ends the namespace's holder (the namespace goes with its last process) */
  stop(): Promise<void>;
}

/**
 * Holds the namespace: brings up its loopback, adds the addresses (its arguments, one `ip -batch` for all) and reads
 * stdin until the sandbox closes it. `unshare` without `--fork` execs bash, so the spawned pid is the holder.
 */
const HOLDER_SCRIPT = `set -euo pipefail
ip link set lo up
if (($# > 0)); then printf 'address add %s/32 dev lo\\n' "$@" | ip -batch -; fi
echo ready
while read -r _; do :; done
`;

/** Creates the shared network namespace with `addresses` (IPv4, /32) on its loopback. */
export async function startSharedNetwork(addresses: readonly string[]): Promise<SharedNetwork> {
  const unique = [...new Set(addresses)];
  const holder = spawn('unshare', ['--net', 'bash', '-c', HOLDER_SCRIPT, 'edge-network', ...unique], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
  });
  holder.stdin.on('error', () => undefined);
  let stderr = '';
  holder.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const ready = await new Promise<boolean>((resolve) => {
    let stdout = '';
    holder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve(true);
    });
    holder.once('exit', () => resolve(false));
    holder.once('error', () => resolve(false));
  });
  if (!ready || holder.pid === undefined) {
    holder.kill('SIGKILL');
    throw new HostStartError(`cannot create the hosts' shared network: ${stderr.trim() || 'no holder'}`);
  }
  const pid = holder.pid;
  const nsenterArgs = () => ['--target', String(pid), '--net'];
  const relayed = new Map<number, Promise<Forwarders>>();
  return {
    nsenterArgs,
    async relay(routes) {
      const fresh = routes.filter((r) => !relayed.has(r.insidePort));
      if (fresh.length > 0) {
        const opening = openForwarders(nsenterArgs(), fresh);
        for (const route of fresh) relayed.set(route.insidePort, opening);
      }
      await Promise.all(routes.map((r) => relayed.get(r.insidePort)));
    },
    async stop() {
      const forwarders = await Promise.allSettled(relayed.values());
      for (const f of forwarders) if (f.status === 'fulfilled') await f.value.close();
      relayed.clear();
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.stdin.end();
      const timer = setTimeout(() => holder.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
