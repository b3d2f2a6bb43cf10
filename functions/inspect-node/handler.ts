import { defineClusterStep } from '../shared/cluster-step';
import { TransientServiceError } from '../shared/errors';
import { joinTokenParameterName, parentOfRollback } from '../shared/join-script';
import { kubeClients } from '../shared/k8s';
import { parseRemoveNodeInput } from '../shared/remove-input';
import { readSettings } from '../shared/settings';
import { deleteParameter } from '../shared/ssm';
import * as z from '../shared/zod';
import { inspectRemoval } from './core';
import { inspectPorts } from './ports';

const Input = z.object({ operationId: z.string().check(z.minLength(1)), request: z.unknown() });

/**
 * Checks a removal or rollback before anything changes: the node (an edge node, or absent), the host to reset
 * (request, node annotation or lock record) unless it serves another node, and whether SSM can reach it. An
 * offline host fails here, naming what would stay on it, unless `force` asks for the cluster side only.
 */
export const handler = defineClusterStep('InspectNode', Input, async ({ operationId, request }) => {
  const parsed = parseRemoveNodeInput(request);
  if (parsed.mode === 'uninstall') throw new Error('uninstall requests take the uninstall branch');
  const settings = readSettings();
  // A rollback follows a join that may have died before its check step deleted the join token parameter. Only a
  // transient failure stops the rollback here (the workflow retries it): the parameter's Expiration policy deletes
  // it anyway, and undoing the join matters more.
  const parent = parsed.mode === 'rollback' ? parentOfRollback(operationId) : undefined;
  if (parent) {
    await deleteParameter(settings, joinTokenParameterName(parent)).catch((error: unknown) => {
      if (error instanceof TransientServiceError) throw error;
    });
  }
  const kube = await kubeClients(settings);
  const inspection = await inspectRemoval(parsed, inspectPorts(kube, settings), settings.defaultKubeedgeVersion);
  return {
    ...inspection,
    request: { ...parsed, drain: parsed.drain || parsed.mode === 'rollback', forceHost: parsed.forceHost ?? null },
  };
});
