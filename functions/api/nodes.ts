import type { V1Node } from '@kubernetes/client-node';
import { readNode } from '../shared/cluster-reads';
import { EDGE_ROLE_LABEL, MANAGED_ANNOTATIONS, MANAGED_LABEL } from '../shared/domain';
import { InvalidRequestError } from '../shared/errors';
import { type KubeClients, statusOf, translateKubeError } from '../shared/k8s';
import { type OperationSummary, operationIdOf, type WorkflowEngine } from './engine';
import type { EdgeNode, EdgeNodeList } from './routes';

/*
 * GET /nodes and GET /nodes/{name}: the edge nodes as the cluster shows them (edgecore registers each with the
 * edge role label), what edgekeeper recorded on them, and the newest operation on each.
 */

/** Where the API reads nodes: the Kubernetes API deployed and under `serve`, a fake in the tests. */
export interface NodeSource {
  /** One page of the nodes carrying the edge role label. @throws InvalidRequestError for a stale `continue` */
  listEdgeNodes(page: { readonly limit: number; readonly continue?: string }): Promise<{
    readonly items: readonly V1Node[];
    readonly continue: string | null;
  }>;
  /** The node of that name, edge or not, or null. */
  readNode(name: string): Promise<V1Node | null>;
}

/** The NodeSource of a cluster: the Kubernetes API through the steps' client. */
export function kubeNodeSource(kube: KubeClients): NodeSource {
  return {
    async listEdgeNodes({ limit, continue: token }) {
      try {
        const list = await kube.core.listNode({ labelSelector: EDGE_ROLE_LABEL, limit, _continue: token });
        return { items: list.items, continue: list.metadata?._continue || null };
      } catch (error) {
        // 410: the token outlived the API server's compaction; 400: it is not a token at all
        const status = statusOf(error);
        if (token !== undefined && (status === 410 || status === 400)) {
          const reason =
            status === 410 ? 'has expired: list again from the first page' : 'is not a token a page of nodes gave';
          throw new InvalidRequestError([{ field: 'continue', value: token, reason }]);
        }
        throw translateKubeError(error, 'listing the edge nodes');
      }
    },
    readNode: (name) => readNode(kube, name),
  };
}

/** edgecore's label on every edge node it registers. */
export function isEdgeNode(node: V1Node): boolean {
  return node.metadata?.labels?.[EDGE_ROLE_LABEL] !== undefined;
}

/** How many recent operations GET /nodes looks at to find each node's newest one. */
export const RECENT_OPERATIONS = 100;

/** One page of edge nodes, each with the newest operation found on it. */
export async function listEdgeNodes(
  source: NodeSource,
  engine: WorkflowEngine,
  page: { readonly limit: number; readonly continue?: string },
): Promise<EdgeNodeList> {
  const nodes = await source.listEdgeNodes(page);
  // one look at the recent operations serves the whole page, rather than one search per node
  const recent = nodes.items.length === 0 ? [] : await engine.list({ limit: RECENT_OPERATIONS });
  const newest = new Map<string, OperationSummary>();
  for (const operation of recent) {
    if (operation.node !== null && !newest.has(operation.node)) newest.set(operation.node, operation);
  }
  return {
    items: nodes.items.map((node) => {
      const found = newest.get(node.metadata?.name ?? '');
      return edgeNodeView(node, found ? lastOperationOf(found) : recordedOperation(node));
    }),
    continue: nodes.continue,
  };
}

/** The edge node of that name, or null when there is none (or the node is not an edge node). */
export async function getEdgeNode(source: NodeSource, engine: WorkflowEngine, name: string): Promise<EdgeNode | null> {
  const node = await source.readNode(name);
  if (!node || !isEdgeNode(node)) return null;
  const [newest] = await engine.list({ node: name, limit: 1 });
  if (newest) return edgeNodeView(node, lastOperationOf(newest));
  // older than what the engine lists (or listed by another engine): the onboarding recorded on the node
  const recorded = recordedOperation(node);
  if (!recorded) return edgeNodeView(node, null);
  const operation = await engine.describe(recorded.operationId);
  return edgeNodeView(node, operation ? lastOperationOf(operation) : recorded);
}

type LastOperation = NonNullable<EdgeNode['lastOperation']>;

function lastOperationOf(operation: OperationSummary): LastOperation {
  return { operationId: operation.operationId, status: operation.status, startedAt: operation.startedAt };
}

/** The onboarding edgekeeper recorded on the node (its execution name), with nothing more known about it. */
function recordedOperation(node: V1Node): LastOperation | null {
  const executionName = node.metadata?.annotations?.[MANAGED_ANNOTATIONS.operationId];
  if (!executionName) return null;
  return { operationId: operationIdOf('onboard-node', executionName), status: null, startedAt: null };
}

/** `v1.19.3-kubeedge-v1.6.2`: the kubelet version edgecore reports carries the KubeEdge release after `kubeedge-`. */
const KUBEEDGE_IN_KUBELET_VERSION = /-kubeedge-(v?\d+\.\d+\.\d+)/;

export function edgeNodeView(node: V1Node, lastOperation: LastOperation | null): EdgeNode {
  const annotations = node.metadata?.annotations ?? {};
  const kubeletVersion = node.status?.nodeInfo?.kubeletVersion || null;
  const reported = kubeletVersion?.match(KUBEEDGE_IN_KUBELET_VERSION)?.[1];
  return {
    name: node.metadata?.name ?? '',
    instanceId: annotations[MANAGED_ANNOTATIONS.instanceId] ?? null,
    internalIP: node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address ?? null,
    ready:
      node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false,
    kubeedgeVersion: reported ?? annotations[MANAGED_ANNOTATIONS.kubeedgeVersion] ?? null,
    kubeletVersion,
    managed: node.metadata?.labels?.[MANAGED_LABEL] === 'true',
    lastOperation,
  };
}
