import { z } from 'zod';
import { kubeClients } from '../shared/k8s';
import { leasePort } from '../shared/leases';
import { releaseNodeLock } from '../shared/node-lock';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  lockHolder: z.string().min(1).optional(),
});

export const handler = defineStep('ReleaseNodeLock', Input, async ({ operationId, nodeName, lockHolder }) => {
  const outcome = await releaseNodeLock(
    leasePort(await kubeClients(readSettings())),
    nodeName,
    lockHolder ?? operationId,
  );
  return { lock: outcome };
});
