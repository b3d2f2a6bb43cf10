import * as z from 'zod';
import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { drainTurn } from './core';
import { drainPorts } from './ports';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  drain: z.boolean(),
  /** when draining began; null on the first turn */
  startedAt: z.iso.datetime().nullable(),
  attempt: z.number().int().min(0),
});

/**
 * One turn of clearing the node of workloads (see drainTurn): refuses workload pods without `drain`, otherwise
 * cordons, evicts through the Eviction API (PodDisruptionBudgets honoured) and says whether to wait.
 */
export const handler = defineClusterStep('DrainNode', Input, async (input) => {
  const settings = readSettings();
  const ports = drainPorts(await kubeClients(settings));
  return drainTurn(ports, { ...input, timeoutSeconds: settings.drainTimeoutSeconds, now: new Date() });
});
