import type { V1Node } from '@kubernetes/client-node';
import { readNode } from '../shared/cluster-reads';
import { INSTANCE_ID_ANNOTATION, MANAGED_LABEL } from '../shared/domain';
import { type KubeClients, translateKubeError } from '../shared/k8s';
import type { NodeLookup } from './ports';

/** How many nodes one list call reads while looking for an instance. */
const PAGE = 500;

/** The nodes of a cluster, through the steps' client. */
export function kubeNodeLookup(kube: KubeClients): NodeLookup {
  return {
    readNode: (name) => readNode(kube, name),
    async nodeOfInstance(instanceId) {
      let token: string | undefined;
      do {
        let page: { items: V1Node[]; metadata?: { _continue?: string } };
        try {
          // only nodes edgekeeper joined carry the instance it recorded
          page = await kube.core.listNode({ labelSelector: `${MANAGED_LABEL}=true`, limit: PAGE, _continue: token });
        } catch (error) {
          throw translateKubeError(error, 'listing the managed nodes');
        }
        const found = page.items.find((node) => node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION] === instanceId);
        if (found) return found;
        token = page.metadata?._continue || undefined;
      } while (token);
      return null;
    },
  };
}
