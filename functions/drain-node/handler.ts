import { defineClusterStep } from '../shared/cluster-step';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { drainTurn } from './core';
import { drainPorts } from './ports';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  drain: z.boolean(),
  /** when draining began; null on the first turn */
  startedAt: z.nullable(z.iso.datetime()),
  attempt: z.int().check(z.minimum(0)),
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
