import { z } from 'zod';
import { FindingCollector, PAGE_SIZE } from '../drift-findings/findings';
import { reportStoreFor } from '../drift-findings/store-for';
import type { DaemonSet } from '../shared/daemonset-fence';
import { EDGE_ROLE_LABEL } from '../shared/domain';
import { isNotFound, type KubeClients, kubeClients, translateKubeError } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { type ClusterReadPort, checkCluster } from './core';

const Input = z.object({ operationId: z.string().min(1) });

/** Checks the cluster for drift; the findings are stored page by page and summarised in the result. */
export const handler = defineStep('DriftCheckCluster', Input, async ({ operationId }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const store = reportStoreFor(settings);
  let page = 0;
  const collector = new FindingCollector('cluster', (findings) =>
    store.writePart(operationId, `cluster-${String(++page).padStart(5, '0')}`, findings),
  );
  await checkCluster(
    clusterReadPort(kube),
    lockPorts(kube, settings),
    { allowlist: settings.daemonSetAllowlist },
    collector,
    new Date(),
  );
  return collector.result();
});

/** The checks' reads over the real API: every list paginated with `limit`/`continue`. */
export function clusterReadPort({ core, apps }: KubeClients): ClusterReadPort {
  const read = async <T>(doing: string, call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw translateKubeError(error, doing);
    }
  };
  const list = async <T>(doing: string, call: () => Promise<{ items: T[]; metadata?: { _continue?: string } }>) => {
    try {
      const answer = await call();
      return { items: answer.items, continue: answer.metadata?._continue };
    } catch (error) {
      throw translateKubeError(error, doing);
    }
  };
  return {
    listEdgeNodes: (token) =>
      list('listing edge nodes', () =>
        core.listNode({ labelSelector: EDGE_ROLE_LABEL, limit: PAGE_SIZE, _continue: token }),
      ),
    listDaemonSets: (token) =>
      list('listing DaemonSets', () =>
        apps.listDaemonSetForAllNamespaces({ limit: PAGE_SIZE, _continue: token }).then((answer) => ({
          ...answer,
          items: answer.items as DaemonSet[],
        })),
      ),
    listBoundPods: (token) =>
      list('listing pods', () =>
        core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=', limit: PAGE_SIZE, _continue: token }),
      ),
    readNode: (name) => read(`reading node ${name}`, () => core.readNode({ name })),
    readDeployment: (namespace, name) =>
      read(`reading Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name })),
    readConfigMap: (namespace, name) =>
      read(`reading ConfigMap ${namespace}/${name}`, () => core.readNamespacedConfigMap({ namespace, name })),
  };
}
