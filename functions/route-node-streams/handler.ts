import { setTimeout as sleep } from 'node:timers/promises';
import { bashCommands } from '../shared/host-commands';
import { readSettings } from '../shared/settings';
import { describeCommand, listInvocations, sendShellCommandToTagged } from '../shared/ssm';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';
import { checkRouting, type RoutingConfig, type RoutingPort, routeNodeStreams, startRouting } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  nodeIp: z.nullable(z.string().check(z.minLength(1))),
  action: z.enum(['add', 'remove']),
  cloudcore: z.optional(z.object({ address: z.string(), ports: z.object({ stream: z.number() }) })),
  /** false: send and return the command for the workflow to check after a Wait, instead of waiting here */
  wait: z._default(z.boolean(), true),
  /** a command an earlier run of this step sent: look at it once */
  command: z.optional(
    z.object({
      action: z.enum(['add', 'remove']),
      commandId: z.string().check(z.minLength(1)),
      startedAt: z.iso.datetime(),
      attempt: z.int().check(z.minimum(0)),
    }),
  ),
});

/** Adds or removes the node's logs/exec routing on every cloud host (SSM, by tag); off unless turned on. */
export const handler = defineStep('RouteNodeStreams', Input, async ({ wait, command, ...request }) => {
  const settings = readSettings();
  const port: RoutingPort = {
    sendToTagged: (tag, script, comment) =>
      sendShellCommandToTagged(settings, { tag, commands: bashCommands(script), comment }),
    describeCommand: (commandId) => describeCommand(settings, commandId),
    listInvocations: (commandId) => listInvocations(settings, commandId),
  };
  const config: RoutingConfig = {
    enabled: settings.routingEnabled,
    cloudHostTag: settings.cloudHostTag,
    streamEndpoint: settings.streamEndpoint,
    timeoutSeconds: settings.routingTimeoutSeconds,
  };
  if (command) return checkRouting(port, command, config, Date.now());
  if (!wait) return startRouting(port, request, config, Date.now());
  return routeNodeStreams(port, request, config, { now: Date.now, sleep: (seconds) => sleep(seconds * 1000) });
});
