import { z } from 'zod';
import { kubeClients } from '../shared/k8s';
import { leasePort } from '../shared/leases';
import { acquireNodeLock } from '../shared/node-lock';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  /** set by a rollback: the onboarding operation that already holds the lock */
  lockHolder: z.string().min(1).optional(),
});

export const handler = defineStep('LockNode', Input, async ({ operationId, nodeName, lockHolder }) => {
  const settings = readSettings();
  const outcome = await acquireNodeLock(leasePort(await kubeClients(settings)), {
    nodeName,
    holder: lockHolder ?? operationId,
    durationSeconds: settings.lockDurationSeconds,
    now: new Date(),
  });
  return { lock: outcome };
});
