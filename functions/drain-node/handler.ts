import { z } from 'zod';
import { nextPollDelay } from '../shared/backoff';
import { readNode } from '../shared/cluster-reads';
import { type KubeClients, kubeClients, mergePatch, statusMessage, statusOf, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { assertRemovable, classifyPods, drainProgress, evictionOutcome, type PodLike, planDrain } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  drain: z.boolean(),
  /** when draining began; null on the first turn */
  startedAt: z.iso.datetime().nullable(),
  attempt: z.number().int().min(0),
});

/**
 * One turn of clearing the node of workloads: refuses when workload pods run and `drain` is off; otherwise cordons,
 * asks the Eviction API (honouring PodDisruptionBudgets) for each remaining workload pod, and tells the workflow
 * whether to wait for them to go. DaemonSet pods stay: they leave with the node.
 */
export const handler = defineStep('DrainNode', Input, async ({ nodeName, drain, startedAt, attempt }) => {
  const kube = await kubeClients(readSettings());
  const since = startedAt ?? new Date().toISOString();
  const next = { startedAt: since, attempt: attempt + 1 };
  if (!(await readNode(kube, nodeName))) {
    return {
      ...next,
      done: true,
      waitSeconds: 0,
      outcome: { step: 'drain', result: 'nothing-to-do', detail: 'no node' },
    };
  }
  const pods = await podsOn(kube, nodeName);
  const classified = classifyPods(pods);
  assertRemovable(nodeName, classified, drain);
  if (classified.workload.length === 0) {
    const outcome =
      attempt === 0
        ? { step: 'drain', result: 'nothing-to-do' }
        : { step: 'drain', result: 'done', detail: 'cordoned and evicted every workload pod' };
    return { ...next, done: true, waitSeconds: 0, outcome };
  }
  const plan = planDrain(nodeName, classified);
  await kube.core.patchNode({ name: nodeName, body: plan.cordonPatch }, mergePatch).catch((error: unknown) => {
    throw translateKubeError(error, `cordoning node ${nodeName}`);
  });
  for (const eviction of plan.evictions) {
    try {
      await kube.core.createNamespacedPodEviction({ ...eviction.pod, body: eviction.body });
    } catch (error) {
      // 429 (a PDB says not yet) and 404 (already gone) are fine: the next turn looks again; anything else fails
      evictionOutcome(eviction.pod, statusOf(error) ?? 0, statusMessage(error));
    }
  }
  const elapsedSeconds = (Date.now() - Date.parse(since)) / 1000;
  const progress = drainProgress(plan, await podsOn(kube, nodeName), elapsedSeconds);
  const evicted = classified.workload.map((pod) => `${pod.namespace}/${pod.name}`).join(', ');
  return {
    ...next,
    done: progress === 'done',
    waitSeconds: progress === 'done' ? 0 : nextPollDelay(attempt),
    outcome: { step: 'drain', result: 'done', detail: `cordoned and evicted ${evicted}` },
  };
});

async function podsOn(kube: KubeClients, nodeName: string): Promise<PodLike[]> {
  try {
    const { items } = await kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    return items as PodLike[];
  } catch (error) {
    throw translateKubeError(error, `listing pods on node ${nodeName}`);
  }
}
