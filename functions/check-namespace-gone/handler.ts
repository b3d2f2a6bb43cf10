import { z } from 'zod';
import { nextPollDelay } from '../shared/backoff';
import { exists } from '../shared/cluster-reads';
import { EdgekeeperError } from '../shared/errors';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

/** The namespace is still terminating after the deadline: a finalizer or an unreachable API service holds it. */
export class NamespaceStuckError extends EdgekeeperError {
  override readonly name = 'NamespaceStuckError';
}

const TIMEOUT_SECONDS = 300;

const Input = z.object({
  operationId: z.string().min(1),
  namespace: z.string().min(1),
  startedAt: z.iso.datetime().nullable(),
  attempt: z.number().int().min(0),
});

/** Waits, one check at a time, until a deleted namespace is really gone. */
export const handler = defineStep('CheckNamespaceGone', Input, async ({ namespace, startedAt, attempt }) => {
  const kube = await kubeClients(readSettings());
  const since = startedAt ?? new Date().toISOString();
  const present = await exists(() => kube.core.readNamespace({ name: namespace }), `reading namespace ${namespace}`);
  if (present && Date.now() - Date.parse(since) > TIMEOUT_SECONDS * 1000) {
    throw new NamespaceStuckError(
      `namespace ${namespace} is still terminating after ${TIMEOUT_SECONDS} s; check its finalizers`,
    );
  }
  return { gone: !present, waitSeconds: present ? nextPollDelay(attempt) : 0, startedAt: since, attempt: attempt + 1 };
});
