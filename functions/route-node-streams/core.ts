import { nodeIpRule } from '../shared/domain';
import { EdgekeeperError } from '../shared/errors';
import type { Invocation } from '../shared/host-commands';
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

/** The drift check's read-only listing of every node's rules (`list`: no node, no destination). */
export const LIST_ROUTING_SCRIPT: string = withValues(routingTemplate, 'route-node-streams.sh', [
  '# list: rendered by edgekeeper drift-check-hosts; changes nothing',
  assign('ACTION', 'list'),
  assign('NODE_IP', ''),
  assign('DESTINATION', ''),
]);

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

/** The narrow SSM port of this step: Run Command to every cloud host by tag. */
export interface RoutingPort {
  /** sends the script to every managed instance with the tag; returns the command id */
  sendToTagged(tag: string, script: string, comment: string): Promise<string>;
  /** the command as a whole; SSM knows how many hosts it targets only once it resolved the tag */
  describeCommand(commandId: string): Promise<{ status: string; targetCount: number }>;
  listInvocations(commandId: string): Promise<(Invocation & { instanceId: string })[]>;
}

/** The deployment settings the step reads. */
export interface RoutingConfig {
  readonly enabled: boolean;
  /** the SSM tag of the cloud hosts, `key=value` */
  readonly cloudHostTag: string;
  /** cloudcore's stream server as cloud hosts reach it; default the public address and stream port */
  readonly streamEndpoint?: string;
  /** how long the cloud hosts may take to apply it, SSM delivery included */
  readonly timeoutSeconds: number;
}

/** What the workflow asks of one run of the step. */
export interface RoutingRequest {
  readonly operationId: string;
  readonly nodeName: string;
  /** null when a rollback never learnt the node's IP: then there is nothing to route */
  readonly nodeIp: string | null;
  readonly action: 'add' | 'remove';
  /** cloudcore's public address and ports (join settings); needed to add */
  readonly cloudcore?: { readonly address: string; readonly ports: { readonly stream: number } };
}

/** A routing command in flight, as the workflow carries it between checks. */
export interface RoutingCommand {
  readonly action: 'add' | 'remove';
  readonly commandId: string;
  readonly startedAt: string;
  readonly attempt: number;
}

/** The step's answer: done (with what happened), or a command to check again after `waitSeconds`. */
export type RoutingResult =
  | {
      readonly status: 'Done';
      readonly outcome: {
        readonly step: 'routing';
        readonly result: 'skipped' | 'nothing-to-do' | 'done';
        readonly detail: string;
      };
      readonly hosts?: RoutedHost[];
    }
  | { readonly status: 'InProgress'; readonly command: RoutingCommand; readonly waitSeconds: number };

/** Overall command statuses after which every invocation has ended. */
const FINISHED = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

/**
 * Renders the node's routing change and sends it to every cloud host; Done at once when routing is off or there is
 * no node IP to route.
 * @throws RoutingFailedError when there is no stream endpoint to add, or the values cannot go into the script
 */
export async function startRouting(
  port: RoutingPort,
  request: RoutingRequest,
  config: RoutingConfig,
  nowMs: number,
): Promise<RoutingResult> {
  const { nodeIp, action } = request;
  if (!config.enabled) return done('skipped', 'logs/exec routing is off');
  if (!nodeIp) return done('nothing-to-do', 'no node IP, no routing');
  let change: RoutingChange = { action: 'remove', nodeIp };
  if (action === 'add') {
    const destination = config.streamEndpoint ?? (request.cloudcore && streamDestination(request.cloudcore));
    if (!destination) throw new RoutingFailedError('cannot add routing: no stream endpoint and no cloudcore address');
    change = { action, nodeIp, destination };
  }
  const comment = `edgekeeper routing ${action} ${request.nodeName} (${request.operationId})`;
  const commandId = await port.sendToTagged(config.cloudHostTag, renderRoutingScript(change), comment);
  // iptables answers in milliseconds: the first look comes soon
  return {
    status: 'InProgress',
    command: { action, commandId, startedAt: new Date(nowMs).toISOString(), attempt: 0 },
    waitSeconds: 1,
  };
}

/**
 * Looks once at a routing command: Done when every targeted cloud host applied it, else when to look again.
 * @throws RoutingFailedError when a host failed, none is tagged, or the hosts did not finish within the timeout
 */
export async function checkRouting(
  port: RoutingPort,
  command: RoutingCommand,
  config: Pick<RoutingConfig, 'cloudHostTag' | 'timeoutSeconds'>,
  nowMs: number,
): Promise<RoutingResult> {
  // SSM resolves the tag after answering: only a finished command knows how many hosts it reached
  const { status, targetCount } = await port.describeCommand(command.commandId);
  if (FINISHED.has(status) && targetCount === 0 && command.action === 'remove') {
    // no host carries the tag, so none can hold a route to remove: a rollback must not fail on it
    return done('nothing-to-do', `no cloud host carries the SSM tag ${config.cloudHostTag}: no routing to remove`);
  }
  const hosts = FINISHED.has(status)
    ? judgeRouting(await port.listInvocations(command.commandId), targetCount, config.cloudHostTag)
    : undefined;
  if (hosts) return { ...done('done', `${command.action} on ${hosts.length} cloud host(s)`), hosts };
  const remainingMs = Date.parse(command.startedAt) + config.timeoutSeconds * 1000 - nowMs;
  if (remainingMs <= 0) {
    throw new RoutingFailedError(
      `cloud hosts did not finish the routing command ${command.commandId} within ${config.timeoutSeconds} s`,
    );
  }
  const waitSeconds = Math.max(1, Math.min(ROUTING_POLL_SECONDS[command.attempt] ?? 5, Math.ceil(remainingMs / 1000)));
  return { status: 'InProgress', command: { ...command, attempt: command.attempt + 1 }, waitSeconds };
}

/** Looks after 1, 1, 2, 3 and then every 5 seconds: hosts usually answer within the first seconds. */
const ROUTING_POLL_SECONDS: readonly number[] = [1, 1, 2, 3];

/** Time as the waiting loop sees it, so that tests run it in no time. */
export interface Clock {
  now(): number;
  sleep(seconds: number): Promise<void>;
}

/**
 * Sends the routing and waits in this process until every cloud host applied it: the form the workflows use while
 * they call the step once. A workflow that loops over `startRouting`/`checkRouting` with a Wait state instead
 * spends no Lambda time waiting.
 */
export async function routeNodeStreams(
  port: RoutingPort,
  request: RoutingRequest,
  config: RoutingConfig,
  clock: Clock,
): Promise<Extract<RoutingResult, { status: 'Done' }>> {
  let result = await startRouting(port, request, config, clock.now());
  while (result.status === 'InProgress') {
    await clock.sleep(result.waitSeconds);
    result = await checkRouting(port, result.command, config, clock.now());
  }
  return result;
}

function done(
  result: 'skipped' | 'nothing-to-do' | 'done',
  detail: string,
): Extract<RoutingResult, { status: 'Done' }> {
  return { status: 'Done', outcome: { step: 'routing', result, detail } };
}
