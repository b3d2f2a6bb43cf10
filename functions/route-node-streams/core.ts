import { EdgekeeperError } from '../shared/errors';
import type { Invocation } from '../shared/host-commands';
import { nodeIpRule } from '../shared/schemas';
import { script as routingTemplate } from '../shared/scripts/generated/route-node-streams';
import { assign, withValues } from '../shared/scripts/values-block';

/** A cloud host could not apply the routing, or none is there to apply it. */
export class RoutingFailedError extends EdgekeeperError {
  override readonly name = 'RoutingFailedError';
}

/** Add a node's routing (to a destination), or remove it (found by the node's IP alone). */
export type RoutingChange =
  | { readonly action: 'add'; readonly nodeIp: string; readonly destination: string }
  | { readonly action: 'remove'; readonly nodeIp: string };

const ENDPOINT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * The routing script for one node.
 * @throws RoutingFailedError for a node IP or destination that cannot go into the script
 */
export function renderRoutingScript(change: RoutingChange): string {
  const destination = change.action === 'add' ? change.destination : '';
  const problem =
    nodeIpRule(change.nodeIp) ??
    (change.action === 'add' && !ENDPOINT.test(destination)
      ? `destination ${destination} must be host:port`
      : undefined);
  if (problem) throw new RoutingFailedError(`cannot ${change.action} routing for ${change.nodeIp}: ${problem}`);
  return withValues(routingTemplate, 'route-node-streams.sh', [
    `# ${change.action}: rendered by edgekeeper route-node-streams`,
    assign('ACTION', change.action),
    '# the edge node’s InternalIP: the key of its routing',
    assign('NODE_IP', change.nodeIp),
    '# cloudcore’s stream server as cloud hosts reach it (host:port); unused when removing',
    assign('DESTINATION', destination),
  ]);
}

/** Where cloud hosts send a node's kubelet traffic by default: cloudcore's public address and stream port. */
export function streamDestination(cloudcore: { address: string; ports: { stream: number } }): string {
  return `${cloudcore.address}:${cloudcore.ports.stream}`;
}

/** One host's result in the step's report. */
export interface RoutedHost {
  readonly instanceId: string;
  readonly status: string;
  readonly changes: string[];
}

/**
 * Judges the invocations of a routing command: still running (undefined), or every targeted host done. A host
 * that failed or never ran it fails the step, naming the host and what it printed.
 * @throws RoutingFailedError
 */
export function judgeRouting(
  invocations: readonly (Invocation & { instanceId: string })[],
  targetCount: number,
  tag: string,
): RoutedHost[] | undefined {
  if (targetCount === 0) {
    throw new RoutingFailedError(
      `no cloud host carries the SSM tag ${tag}: tag the control-plane hosts or turn routing off`,
    );
  }
  const running = ['Pending', 'InProgress', 'Delayed'];
  if (invocations.length < targetCount || invocations.some((i) => running.includes(i.status))) return undefined;
  const failed = invocations.filter((invocation) => invocation.status !== 'Success');
  if (failed.length > 0) {
    const detail = failed
      .map((i) => `${i.instanceId} ${i.status} (exit ${i.responseCode}): ${lastLine(i.stdout) || 'no output'}`)
      .join('; ');
    throw new RoutingFailedError(`logs/exec routing failed on ${failed.length} cloud host(s): ${detail}`);
  }
  return invocations.map((invocation) => ({
    instanceId: invocation.instanceId,
    status: invocation.status,
    changes: invocation.stdout
      .split('\n')
      .filter((line) => line.startsWith('edgekeeper: routing: '))
      .map((line) => line.slice('edgekeeper: routing: '.length)),
  }));
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}
