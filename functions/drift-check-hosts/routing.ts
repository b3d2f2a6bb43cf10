import { gunzipSync } from 'node:zlib';
import { type FindingCollector, finding, type Page, pages } from '../drift-findings/findings';
import {
  type Clock,
  judgeRouting,
  LIST_ROUTING_SCRIPT,
  RoutingFailedError,
  type RoutingPort,
} from '../route-node-streams/core';
import type { Invocation } from '../shared/host-commands';

/** The kubelet ports the routing script DNATs (route-node-streams.sh `KUBELET_PORTS`). */
export const ROUTED_PORTS: readonly string[] = ['10350', '10250'];

/** A managed edge node as the routing check reads it: its name and InternalIP, the key of its routing. */
export interface RoutedNode {
  readonly name: string;
  readonly ip: string;
}

/** The reads of the routing check: the managed edge nodes, and the listing command on the cloud hosts. */
export interface RoutingCheckPort extends RoutingPort {
  /** one page of the managed edge nodes that have an InternalIP */
  listRoutedNodes(continueToken?: string): Promise<Page<RoutedNode>>;
  /** one host's whole output (listInvocations keeps only 2,500 characters of it) */
  readInvocation(commandId: string, instanceId: string): Promise<Invocation | null>;
}

/** One cloud host's DNAT rules on the kubelet ports: IP → port → destination. */
export type HostRules = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** What a drift check found wrong with one IP's routing, host by host. */
export interface RoutingProblem {
  readonly type: 'routing-missing' | 'routing-stale';
  readonly ip: string;
  /** the managed node with that IP; absent for a rule no managed node explains */
  readonly nodeName?: string;
  /** what each host has wrong, e.g. `i-0abc: no rule for port 10250` */
  readonly hosts: readonly string[];
}

const LIST_MARKER = 'edgekeeper: routing-list: ';

/**
 * Decodes one host's listing (one gzipped, base64 line of `<ip> <port> <destination>`).
 * @throws RoutingFailedError when the line is absent or cut (SSM keeps 24,000 characters of output)
 */
export function parseListing(instanceId: string, stdout: string): HostRules {
  const line = stdout.split('\n').find((text) => text.startsWith(LIST_MARKER));
  if (line === undefined) throw new RoutingFailedError(`cloud host ${instanceId} printed no routing listing`);
  let text: string;
  try {
    text = gunzipSync(Buffer.from(line.slice(LIST_MARKER.length).trim(), 'base64')).toString('utf8');
  } catch (error) {
    throw new RoutingFailedError(`cloud host ${instanceId}'s routing listing cannot be read (cut?): ${String(error)}`);
  }
  const rules = new Map<string, Map<string, string>>();
  for (const entry of text.split('\n')) {
    const [ip, port, destination] = entry.split(' ');
    if (!ip || !port || !destination) continue;
    const ports = rules.get(ip) ?? new Map<string, string>();
    ports.set(port, destination);
    rules.set(ip, ports);
  }
  return rules;
}

/**
 * Sends the read-only listing to every cloud host (one command, whatever the number of nodes) and waits in this
 * process, as the routing step does, until every host answered.
 * @throws RoutingFailedError when no host carries the tag, one failed, or they did not answer within the timeout
 */
export async function listCloudRouting(
  port: RoutingCheckPort,
  config: { readonly cloudHostTag: string; readonly timeoutSeconds: number },
  clock: Clock,
): Promise<ReadonlyMap<string, HostRules>> {
  const commandId = await port.sendToTagged(config.cloudHostTag, LIST_ROUTING_SCRIPT, 'edgekeeper drift: list routing');
  const deadline = clock.now() + config.timeoutSeconds * 1000;
  for (let attempt = 0; ; attempt++) {
    await clock.sleep(attempt < 2 ? 1 : 2);
    const { status, targetCount } = await port.describeCommand(commandId);
    if (['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(status)) {
      const hosts = judgeRouting(await port.listInvocations(commandId), targetCount, config.cloudHostTag);
      if (hosts) {
        const listings = new Map<string, HostRules>();
        for (const host of hosts) {
          const invocation = await port.readInvocation(commandId, host.instanceId);
          listings.set(host.instanceId, parseListing(host.instanceId, invocation?.stdout ?? ''));
        }
        return listings;
      }
    }
    if (clock.now() >= deadline) {
      throw new RoutingFailedError(
        `cloud hosts did not list their routing (command ${commandId}) within ${config.timeoutSeconds} s`,
      );
    }
  }
}

/**
 * Compares each cloud host's rules with the managed nodes: a node lacking a rule to `destination` on some host is
 * `routing-missing`; a rule for an IP no managed node has, or to another destination, is `routing-stale`. Nodes
 * are read page by page; the listings (a few bytes a rule) are the one thing held whole.
 */
export async function* compareRouting(
  nodes: (token?: string) => Promise<Page<RoutedNode>>,
  listings: ReadonlyMap<string, HostRules>,
  destination: string,
): AsyncGenerator<RoutingProblem> {
  const seen = new Set<string>();
  for await (const page of pages(nodes)) {
    for (const node of page) {
      seen.add(node.ip);
      const missing: string[] = [];
      const stale: string[] = [];
      for (const [instanceId, rules] of listings) {
        const ports = rules.get(node.ip);
        const absent = ROUTED_PORTS.filter((port) => !ports?.has(port));
        if (absent.length > 0) missing.push(`${instanceId}: no rule for port ${absent.join(', ')}`);
        for (const [port, to] of ports ?? []) {
          if (to !== destination) stale.push(`${instanceId}: port ${port} goes to ${to}`);
        }
      }
      // a rule to another destination is stale even when the other port is missing: removing and adding fixes both
      if (stale.length > 0)
        yield { type: 'routing-stale', ip: node.ip, nodeName: node.name, hosts: [...stale, ...missing] };
      else if (missing.length > 0) yield { type: 'routing-missing', ip: node.ip, nodeName: node.name, hosts: missing };
    }
  }
  const orphans = new Map<string, string[]>();
  for (const [instanceId, rules] of listings) {
    for (const [ip, ports] of rules) {
      if (seen.has(ip)) continue;
      const hosts = orphans.get(ip) ?? [];
      hosts.push(
        `${instanceId}: port ${[...ports.keys()].join(', ')} goes to ${[...new Set(ports.values())].join(', ')}`,
      );
      orphans.set(ip, hosts);
    }
  }
  for (const [ip, hosts] of orphans) yield { type: 'routing-stale', ip, hosts };
}

/** The object a routing finding names: the node, or the bare IP when no managed node has it. */
export function routingObject(problem: Pick<RoutingProblem, 'ip' | 'nodeName'>): string {
  return problem.nodeName ? `node/${problem.nodeName}` : `routing/${problem.ip}`;
}

/** Adds the problem to the collector as a finding (`fixed` when remediation restored it). */
export async function reportRoutingProblem(
  collector: FindingCollector,
  problem: RoutingProblem,
  destination: string,
  fixed = false,
): Promise<void> {
  const expected = problem.nodeName
    ? `ports ${ROUTED_PORTS.join(' and ')} of ${problem.ip} DNATed to ${destination} on every cloud host`
    : `no rule for ${problem.ip}: no managed node has that IP`;
  const item = finding(
    problem.type,
    routingObject(problem),
    `${problem.nodeName ? `${problem.ip}: ` : ''}${problem.hosts.join('; ')}`,
    fixed ? `restored: ${expected}` : expected,
  );
  await collector.add(fixed ? { ...item, fixed: true } : item);
}

/**
 * The drift check's routing part: nothing is sent when routing is off (a note says it was not checked); a host
 * that cannot list its rules leaves a note, not a failed check.
 */
export async function checkRouting(
  port: RoutingCheckPort,
  config: RoutingCheckConfig,
  collector: FindingCollector,
  clock: Clock,
): Promise<void> {
  if (!config.enabled) {
    collector.note('logs/exec routing is off: not checked');
    return;
  }
  let listings: ReadonlyMap<string, HostRules>;
  try {
    listings = await listCloudRouting(port, config, clock);
  } catch (error) {
    if (!(error instanceof RoutingFailedError)) throw error;
    collector.note(`logs/exec routing not checked: ${error.message}`);
    return;
  }
  for await (const problem of compareRouting((token) => port.listRoutedNodes(token), listings, config.destination)) {
    await reportRoutingProblem(collector, problem, config.destination);
  }
}

/** The settings the routing check and its remediation read. */
export interface RoutingCheckConfig {
  readonly enabled: boolean;
  readonly cloudHostTag: string;
  readonly timeoutSeconds: number;
  /** where rules must send streams: `routing.streamEndpoint`, else cloudcore's public address and stream port */
  readonly destination: string;
}
