import {
  compareRouting,
  listCloudRouting,
  type RoutingCheckConfig,
  type RoutingCheckPort,
  reportRoutingProblem,
  routingObject,
} from '../drift-check-hosts/routing';
import type { FindingCollector } from '../drift-findings/findings';
import { type Clock, RoutingFailedError, routeNodeStreams } from '../route-node-streams/core';

/** Routing fixes per run: each is one command to the cloud hosts; the next run restores the rest. */
export const ROUTING_FIXES_PER_RUN = 50;

/**
 * Restores logs/exec routing with onboarding's and removal's own code (route-node-streams): a stale rule is removed
 * by its IP (and re-added to the expected destination when a managed node has that IP), a missing one is added.
 * Nothing else on a host or a node is touched. A fix that fails is a note; the finding stays open.
 */
export async function restoreRouting(
  port: RoutingCheckPort,
  config: RoutingCheckConfig,
  operationId: string,
  collector: FindingCollector,
  clock: Clock,
): Promise<void> {
  if (!config.enabled) return;
  let listings: Awaited<ReturnType<typeof listCloudRouting>>;
  try {
    listings = await listCloudRouting(port, config, clock);
  } catch (error) {
    if (!(error instanceof RoutingFailedError)) throw error;
    collector.note(`logs/exec routing not restored: ${error.message}`);
    return;
  }
  const routing = {
    enabled: true,
    cloudHostTag: config.cloudHostTag,
    streamEndpoint: config.destination,
    timeoutSeconds: config.timeoutSeconds,
  };
  let fixes = 0;
  let left = 0;
  for await (const problem of compareRouting((token) => port.listRoutedNodes(token), listings, config.destination)) {
    if (fixes >= ROUTING_FIXES_PER_RUN) {
      left++;
      continue;
    }
    fixes++;
    const nodeName = problem.nodeName ?? problem.ip;
    try {
      if (problem.type === 'routing-stale') {
        await routeNodeStreams(port, { operationId, nodeName, nodeIp: problem.ip, action: 'remove' }, routing, clock);
      }
      if (problem.nodeName) {
        await routeNodeStreams(port, { operationId, nodeName, nodeIp: problem.ip, action: 'add' }, routing, clock);
      }
    } catch (error) {
      if (!(error instanceof RoutingFailedError)) throw error;
      collector.note(`${routingObject(problem)}: routing not restored: ${error.message}`);
      continue;
    }
    await reportRoutingProblem(collector, problem, config.destination, true);
  }
  if (left > 0)
    collector.note(`${left} more routing problem(s) left for the next run (${ROUTING_FIXES_PER_RUN} per run)`);
}
