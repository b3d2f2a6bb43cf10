import { z } from 'zod';
import { kubeClients } from '../shared/k8s';
import { parseRemoveNodeInput } from '../shared/remove-input';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { inspectRemoval } from './core';
import { inspectPorts } from './ports';

const Input = z.object({ operationId: z.string().min(1), request: z.unknown() });

/**
 * Checks a removal or rollback before anything changes: the node (an edge node, or absent), the host to reset
 * (request, node annotation or lock record) unless it serves another node, and whether SSM can reach it. An
 * offline host fails here, naming what would stay on it, unless `force` asks for the cluster side only.
 */
export const handler = defineStep('InspectNode', Input, async ({ request }) => {
  const parsed = parseRemoveNodeInput(request);
  if (parsed.mode === 'uninstall') throw new Error('uninstall requests take the uninstall branch');
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const inspection = await inspectRemoval(parsed, inspectPorts(kube, settings), settings.defaultKubeedgeVersion);
  return {
    ...inspection,
    request: { ...parsed, drain: parsed.drain || parsed.mode === 'rollback', forceHost: parsed.forceHost ?? null },
  };
});
