import type { V1Deployment, V1Lease, V1Node, V1NodeSystemInfo, V1Pod } from '@kubernetes/client-node';
import type { ClusterReadPort } from '../../../functions/drift-check-cluster/core';
import { type Finding, FindingCollector, type Page } from '../../../functions/drift-findings/findings';
import type { DaemonSet } from '../../../functions/shared/daemonset-fence';
import type { ExecutionStatus, LeasePort, LockPorts } from '../../../functions/shared/node-lock';

/** Splits items into pages of `size`, with `continue` tokens, as the API server does; records the tokens asked for. */
export function paged<T>(items: readonly T[], size: number, asked: (string | undefined)[] = []) {
  return async (token?: string): Promise<Page<T>> => {
    asked.push(token);
    const offset = token ? Number(token) : 0;
    const next = offset + size;
    return { items: items.slice(offset, next), ...(next < items.length ? { continue: String(next) } : {}) };
  };
}

export function edgeNode(name: string, options: { ready?: string; since?: string; kubeedge?: string } = {}): V1Node {
  return {
    metadata: { name, labels: { 'node-role.kubernetes.io/edge': '', 'node-role.kubernetes.io/agent': '' } },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: options.ready ?? 'True',
          lastTransitionTime: new Date(options.since ?? '2026-12-01T00:00:00Z'),
          ...(options.ready && options.ready !== 'True' ? { reason: 'EdgeNotReady' } : {}),
        },
      ],
      // only the kubelet version matters here: edged reports `<k8s>-kubeedge-<version>`
      nodeInfo: { kubeletVersion: `v1.19.3-kubeedge-${options.kubeedge ?? 'v1.6.1'}` } as V1NodeSystemInfo,
    },
  };
}

export function cloudNode(name: string): V1Node {
  return { metadata: { name, labels: { 'node-role.kubernetes.io/worker': '' } } };
}

export function deployment(image: string): V1Deployment {
  return { spec: { selector: {}, template: { spec: { containers: [{ name: 'main', image }] } } } };
}

export function daemonSet(
  namespace: string,
  name: string,
  spec: DaemonSet['spec']['template']['spec'] = {},
): DaemonSet {
  return { metadata: { namespace, name, resourceVersion: '1' }, spec: { template: { spec } } };
}

export const FENCED = {
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] }],
      },
    },
  },
};

export function pod(namespace: string, name: string, nodeName: string, status: V1Pod['status']): V1Pod {
  return { metadata: { namespace, name }, spec: { nodeName, containers: [] }, status };
}

/** A cluster as the checks read it, each list paginated by `pageSize`. */
export function clusterPort(cluster: {
  nodes?: V1Node[];
  daemonSets?: DaemonSet[];
  pods?: V1Pod[];
  deployments?: Record<string, V1Deployment>;
  configMaps?: Record<string, Record<string, string>>;
  pageSize?: number;
}): ClusterReadPort & { readonly edgeNodeListings: number } {
  const size = cluster.pageSize ?? 2;
  const nodes = cluster.nodes ?? [];
  const listEdgeNodes = paged(
    nodes.filter((node) => 'node-role.kubernetes.io/edge' in (node.metadata?.labels ?? {})),
    size,
  );
  let edgeNodeListings = 0;
  return {
    /** how many times the first page of edge nodes was asked for */
    get edgeNodeListings() {
      return edgeNodeListings;
    },
    listEdgeNodes: (token) => {
      if (token === undefined) edgeNodeListings += 1;
      return listEdgeNodes(token);
    },
    listDaemonSets: paged(cluster.daemonSets ?? [], size),
    listBoundPods: paged(cluster.pods ?? [], size),
    async readDeployment(namespace, name) {
      return cluster.deployments?.[`${namespace}/${name}`] ?? null;
    },
    async readConfigMap(namespace, name) {
      const data = cluster.configMaps?.[`${namespace}/${name}`];
      return data ? { data } : null;
    },
  };
}

export function lease(name: string, holder: string, options: { node?: string; renewed?: string } = {}): V1Lease {
  return {
    metadata: {
      name,
      namespace: 'kube-system',
      resourceVersion: '7',
      labels: { 'app.kubernetes.io/managed-by': 'edgekeeper', 'edgekeeper.io/lock': 'node' },
      annotations: options.node ? { 'edgekeeper.io/node-name': options.node } : {},
    },
    spec: {
      holderIdentity: holder,
      acquireTime: new Date(options.renewed ?? '2026-12-02T07:00:00Z'),
      renewTime: new Date(options.renewed ?? '2026-12-02T07:00:00Z'),
      leaseDurationSeconds: 180,
    },
  };
}

/** Leases in memory with the API's optimistic concurrency on delete, and holders by status. */
export function lockPorts(
  leases: V1Lease[],
  statuses: Record<string, ExecutionStatus>,
): LockPorts & {
  deleted: string[];
} {
  const deleted: string[] = [];
  const port: LeasePort = {
    async readLease(name) {
      return leases.find((item) => item.metadata?.name === name) ?? null;
    },
    async createLease() {
      throw new Error('drift never creates a Lease');
    },
    async replaceLease() {
      throw new Error('drift never replaces a Lease');
    },
    async deleteLease(name, resourceVersion) {
      const at = leases.findIndex((item) => item.metadata?.name === name);
      if (at < 0) return 'gone';
      if (leases[at].metadata?.resourceVersion !== resourceVersion) return 'conflict';
      leases.splice(at, 1);
      deleted.push(name);
      return 'deleted';
    },
    async deleteLeases() {
      throw new Error('drift never deletes Leases by selector');
    },
    async listLeases() {
      return [...leases];
    },
  };
  return { leases: port, executions: { statusOf: async (holder) => statuses[holder] ?? 'unknown' }, deleted };
}

/** A collector whose stored pages are kept, for the assertions. */
export function collector(check = 'test', perTypeSample = 10, pageSize = 500) {
  const stored: Finding[][] = [];
  return {
    stored,
    collector: new FindingCollector(check, async (page) => void stored.push([...page]), perTypeSample, pageSize),
  };
}
