import { z } from 'zod';
import { internalIps, MANAGED_ANNOTATIONS, readNode } from '../shared/cluster-reads';
import { kubeClients } from '../shared/k8s';
import { parseRemoveNodeInput } from '../shared/remove-input';
import { resolveRemoveTarget } from '../shared/remove-target';
import { decideHostReset } from '../shared/reset-script';
import { readSettings } from '../shared/settings';
import { describeInstance } from '../shared/ssm-inventory';
import { defineStep } from '../shared/step';

const Input = z.object({ operationId: z.string().min(1), request: z.unknown() });

/**
 * Checks a removal or rollback before anything changes: the node (an edge node, or absent for a rollback), the
 * host to reset (from the request or the node's annotation) and whether SSM can reach it. An offline host fails
 * here, naming what would stay on it, unless `force` asks for the cluster side only.
 */
export const handler = defineStep('InspectNode', Input, async ({ operationId, request }) => {
  const parsed = parseRemoveNodeInput(request);
  if (parsed.mode === 'uninstall') throw new Error('uninstall requests take the uninstall branch');
  const settings = readSettings();
  const node = await readNode(await kubeClients(settings), parsed.nodeName);
  const target = resolveRemoveTarget(parsed, node ?? undefined);
  const host = target.instanceId ? await describeInstance(settings, target.instanceId) : null;
  const hostReset =
    !target.instanceId && !target.nodeExists
      ? { action: 'skip' as const, reason: 'no node and no host to clean', notCleaned: [] }
      : decideHostReset({
          nodeName: target.nodeName,
          instanceId: target.instanceId,
          pingStatus: host?.pingStatus,
          force: parsed.force,
        });
  const annotations = node?.metadata?.annotations ?? {};
  return {
    request: { ...parsed, drain: parsed.drain || parsed.mode === 'rollback' },
    lockHolder: parsed.lockHolder ?? operationId,
    instanceId: target.instanceId ?? null,
    nodeIp: parsed.nodeIp ?? (node ? (internalIps(node)[0] ?? null) : null),
    nodeExists: target.nodeExists,
    hostReset,
    keadm: {
      profile: annotations[MANAGED_ANNOTATIONS.keadmProfile] ?? 'fork',
      version: annotations[MANAGED_ANNOTATIONS.kubeedgeVersion] ?? settings.defaultKubeedgeVersion,
    },
  };
});
