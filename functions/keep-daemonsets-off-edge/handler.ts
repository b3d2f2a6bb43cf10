import { z } from 'zod';
import { EdgekeeperError } from '../shared/errors';
import { isConflict, jsonPatch, type KubeClients, kubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { classifyDaemonSet, type DaemonSet, type DaemonSetDecision, reportOf } from './core';

/** A DaemonSet kept changing under every attempt to patch it. */
export class DaemonSetPatchError extends EdgekeeperError {
  override readonly name = 'DaemonSetPatchError';
}

const Input = z.object({ operationId: z.string().min(1), dryRun: z.boolean() });

const ATTEMPTS = 5;

/**
 * Adds `node-role.kubernetes.io/edge DoesNotExist` to every cloud DaemonSet whose pods could land on edge nodes —
 * all of them, not only those with pods on the new node — with one compare-and-swap patch per DaemonSet.
 * A dry run reports what it would patch and changes nothing.
 */
export const handler = defineStep('KeepDaemonSetsOffEdge', Input, async ({ dryRun }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const config = { allowlist: settings.daemonSetAllowlist };
  const { items } = await kube.apps.listDaemonSetForAllNamespaces().catch((error: unknown) => {
    throw translateKubeError(error, 'listing DaemonSets');
  });
  const decisions: DaemonSetDecision[] = [];
  for (const item of items) {
    const first = classifyDaemonSet(item as DaemonSet, config);
    decisions.push(dryRun || first.action === 'skip' ? first : await patchUntilSettled(kube, first, config));
  }
  return reportOf(decisions);
});

/** Patches one DaemonSet; when it changed since it was read, reads and decides again (it may need nothing now). */
async function patchUntilSettled(
  kube: KubeClients,
  decision: Extract<DaemonSetDecision, { action: 'patch' }>,
  config: { allowlist: readonly string[] },
): Promise<DaemonSetDecision> {
  let current: DaemonSetDecision = decision;
  for (let attempt = 1; current.action === 'patch'; attempt++) {
    const { namespace, name } = current;
    try {
      await kube.apps.patchNamespacedDaemonSet({ name, namespace, body: current.patch }, jsonPatch);
      return current;
    } catch (error) {
      const raced = isConflict(error) || statusOf(error) === 422;
      if (!raced) throw translateKubeError(error, `patching DaemonSet ${namespace}/${name}`);
      if (attempt === ATTEMPTS)
        throw new DaemonSetPatchError(
          `DaemonSet ${namespace}/${name} kept changing; gave up after ${ATTEMPTS} attempts`,
        );
      const fresh = await kube.apps.readNamespacedDaemonSet({ name, namespace });
      current = classifyDaemonSet(fresh as DaemonSet, config);
    }
  }
  return current;
}
