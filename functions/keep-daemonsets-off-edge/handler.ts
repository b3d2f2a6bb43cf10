import { z } from 'zod';
import { isConflict, isNotFound, jsonPatch, kubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { type DaemonSet, type DaemonSetPort, keepDaemonSetsOffEdge } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  dryRun: z.boolean(),
  /** the node being onboarded, for the logs; the step itself acts on every DaemonSet */
  nodeName: z.string().min(1).optional(),
});

/** Keeps every cloud DaemonSet off edge nodes (see `keepDaemonSetsOffEdge`); a dry run only reports. */
export const handler = defineStep('KeepDaemonSetsOffEdge', Input, async ({ dryRun }) => {
  const settings = readSettings();
  const { apps } = await kubeClients(settings);
  const port: DaemonSetPort = {
    listDaemonSets: () =>
      apps.listDaemonSetForAllNamespaces().then(
        ({ items }) => items as DaemonSet[],
        (error: unknown) => Promise.reject(translateKubeError(error, 'listing DaemonSets')),
      ),
    readDaemonSet: (namespace, name) =>
      apps.readNamespacedDaemonSet({ namespace, name }).then(
        (item) => item as DaemonSet,
        (error: unknown) =>
          isNotFound(error)
            ? null
            : Promise.reject(translateKubeError(error, `reading DaemonSet ${namespace}/${name}`)),
      ),
    async patchDaemonSet(namespace, name, body) {
      try {
        await apps.patchNamespacedDaemonSet({ namespace, name, body: [...body] }, jsonPatch);
        return 'patched';
      } catch (error) {
        if (isNotFound(error)) return 'gone';
        if (isConflict(error) || statusOf(error) === 422) return 'conflict';
        throw translateKubeError(error, `patching DaemonSet ${namespace}/${name}`);
      }
    },
  };
  return keepDaemonSetsOffEdge(port, { allowlist: settings.daemonSetAllowlist }, dryRun);
});
