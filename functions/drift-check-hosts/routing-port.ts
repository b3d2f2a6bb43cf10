import { setTimeout as sleep } from 'node:timers/promises';
import { PAGE_SIZE } from '../drift-findings/findings';
import { streamDestination } from '../route-node-streams/core';
import { readConfigMap } from '../shared/cluster-reads';
import { CLOUDCORE_CONFIGMAP, EDGE_ROLE_LABEL, KUBEEDGE_NAMESPACE, MANAGED_LABEL } from '../shared/domain';
import { bashCommands } from '../shared/host-commands';
import { advertiseAddress } from '../shared/join-settings/core';
import { type KubeClients, translateKubeError } from '../shared/k8s';
import type { Settings } from '../shared/settings';
import { describeCommand, listInvocations, readInvocation, sendShellCommandToTagged } from '../shared/ssm';
import type { RoutingCheckConfig, RoutingCheckPort } from './routing';

/** The routing check's port on SSM (Run Command by tag) and the cluster (managed edge nodes, page by page). */
export function routingCheckPort(settings: Settings, kube: KubeClients): RoutingCheckPort {
  return {
    sendToTagged: (tag, script, comment) =>
      sendShellCommandToTagged(settings, { tag, commands: bashCommands(script), comment }),
    describeCommand: (commandId) => describeCommand(settings, commandId),
    listInvocations: (commandId) => listInvocations(settings, commandId),
    readInvocation: (commandId, instanceId) => readInvocation(settings, commandId, instanceId),
    async listRoutedNodes(token) {
      try {
        const answer = await kube.core.listNode({
          labelSelector: `${EDGE_ROLE_LABEL},${MANAGED_LABEL}=true`,
          limit: PAGE_SIZE,
          _continue: token,
        });
        return {
          items: answer.items.flatMap((node) => {
            const ip = node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address;
            return ip ? [{ name: node.metadata?.name ?? '', ip }] : [];
          }),
          continue: answer.metadata?._continue,
        };
      } catch (error) {
        throw translateKubeError(error, 'listing managed edge nodes');
      }
    },
  };
}

/**
 * The routing settings, with the destination onboarding uses: `routing.streamEndpoint`, else cloudcore's public
 * address (the setting, else cloudcore.yaml's advertiseAddress) and stream port. Read only when routing is on.
 */
export async function routingCheckConfig(settings: Settings, kube: KubeClients): Promise<RoutingCheckConfig> {
  const base = {
    enabled: settings.routingEnabled,
    cloudHostTag: settings.cloudHostTag,
    timeoutSeconds: settings.routingTimeoutSeconds,
  };
  if (!settings.routingEnabled) return { ...base, destination: '' };
  if (settings.streamEndpoint) return { ...base, destination: settings.streamEndpoint };
  const address =
    settings.cloudcorePublicAddress ??
    advertiseAddress(
      (await readConfigMap(kube, KUBEEDGE_NAMESPACE, CLOUDCORE_CONFIGMAP))?.data?.['cloudcore.yaml'] ?? '',
    );
  return { ...base, destination: streamDestination({ address, ports: settings.cloudcorePorts }) };
}

/** Real time, for the in-process wait. */
export const REAL_CLOCK = { now: Date.now, sleep: (seconds: number) => sleep(seconds * 1000) };
