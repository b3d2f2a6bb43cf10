import { PAGE_SIZE } from '../drift-findings/findings';
import type { DaemonSet } from '../shared/daemonset-fence';
import { EDGE_ROLE_LABEL } from '../shared/domain';
import { isNotFound, type KubeClients, translateKubeError } from '../shared/k8s';
import type { ClusterReadPort } from './core';

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
    readDeployment: (namespace, name) =>
      read(`reading Deployment ${namespace}/${name}`, () => apps.readNamespacedDeployment({ namespace, name })),
    readConfigMap: (namespace, name) =>
      read(`reading ConfigMap ${namespace}/${name}`, () => core.readNamespacedConfigMap({ namespace, name })),
  };
}
