import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { nextPollDelay } from '../shared/backoff';
import { bashCommands, describeCommand, listInvocations, sendShellCommandToTagged } from '../shared/host-commands';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { judgeRouting, RoutingFailedError, renderRoutingScript, streamDestination } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  /** null when a rollback never learnt the node's IP: then there is nothing to route */
  nodeIp: z.string().min(1).nullable(),
  action: z.enum(['add', 'remove']),
  /** cloudcore's public address and ports (join settings); needed to add */
  cloudcore: z.object({ address: z.string(), ports: z.object({ stream: z.number() }) }).optional(),
});

/** Overall command statuses after which every invocation has ended. */
const FINISHED = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

/** The iptables commands finish in milliseconds; a minute covers SSM delivery to every cloud host. */
const DEADLINE_MS = 60_000;

/**
 * Adds or removes the node's logs/exec routing on every cloud host (SSM targets by tag) and waits until each has
 * applied it. Off unless the deployment turns routing on.
 */
export const handler = defineStep(
  'RouteNodeStreams',
  Input,
  async ({ operationId, nodeName, nodeIp, action, cloudcore }) => {
    const settings = readSettings();
    const step = 'routing';
    if (settings.routing === 'off') return { outcome: { step, result: 'skipped', detail: 'logs/exec routing is off' } };
    if (!nodeIp) return { outcome: { step, result: 'nothing-to-do', detail: 'no node IP, no routing' } };
    let script: string;
    if (action === 'add') {
      const destination = settings.streamEndpoint ?? (cloudcore && streamDestination(cloudcore));
      if (!destination) throw new RoutingFailedError('cannot add routing: no stream endpoint and no cloudcore address');
      script = renderRoutingScript({ action, nodeIp, destination });
    } else {
      script = renderRoutingScript({ action, nodeIp });
    }
    const commandId = await sendShellCommandToTagged(settings, {
      tag: settings.cloudHostTag,
      commands: bashCommands(script),
      comment: `edgekeeper routing ${action} ${nodeName} (${operationId})`,
    });
    const deadline = Date.now() + DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      // SSM resolves the tag after answering: only a finished command knows how many hosts it reached
      const command = await describeCommand(settings, commandId);
      const hosts = FINISHED.has(command.status)
        ? judgeRouting(await listInvocations(settings, commandId), command.targetCount, settings.cloudHostTag)
        : undefined;
      if (hosts)
        return { outcome: { step, result: 'done', detail: `${action} on ${hosts.length} cloud host(s)` }, hosts };
      if (Date.now() > deadline)
        throw new RoutingFailedError(`cloud hosts did not finish the routing command ${commandId} in time`);
      await sleep(Math.min(nextPollDelay(attempt), 5) * 250);
    }
  },
);
