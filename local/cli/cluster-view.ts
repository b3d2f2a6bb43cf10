import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1DaemonSet,
  type V1Node,
} from '@kubernetes/client-node';
import { EDGE_ROLE_LABEL, KUBEEDGE_NAMESPACE, LOCK_NAMESPACE, TOKEN_SECRET } from '../../functions/shared/domain';
import { lockName } from '../../functions/shared/node-lock';

/** kubectl-style snapshots of what the demo changes: nodes, and whether each DaemonSet can land on edge nodes. */
export async function clusterView(kubeconfigPath: string): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const [nodes, daemonSets] = await Promise.all([
    config.makeApiClient(CoreV1Api).listNode(),
    config.makeApiClient(AppsV1Api).listDaemonSetForAllNamespaces(),
  ]);
  return `${table(nodes.items.map(nodeRow), NODE_COLUMNS)}\n${table(daemonSets.items.map(daemonSetRow), DS_COLUMNS)}`;
}

const NODE_COLUMNS = ['NAME', 'STATUS', 'ROLES', 'VERSION', 'INTERNAL-IP', 'TAINTS'];
const DS_COLUMNS = ['NAMESPACE', 'DAEMONSET', 'DESIRED', 'READY', 'EDGE NODES'];

function nodeRow(node: V1Node): string[] {
  const labels = node.metadata?.labels ?? {};
  const roles = Object.keys(labels)
    .filter((key) => key.startsWith('node-role.kubernetes.io/'))
    .map((key) => key.slice('node-role.kubernetes.io/'.length))
    .sort();
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
  return [
    node.metadata?.name ?? '',
    ready ? 'Ready' : 'NotReady',
    roles.join(',') || '<none>',
    node.status?.nodeInfo?.kubeletVersion ?? '',
    node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address ?? '',
    (node.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`).join(',') || '<none>',
  ];
}

function daemonSetRow(daemonSet: V1DaemonSet): string[] {
  return [
    daemonSet.metadata?.namespace ?? '',
    daemonSet.metadata?.name ?? '',
    String(daemonSet.status?.desiredNumberScheduled ?? 0),
    String(daemonSet.status?.numberReady ?? 0),
    edgePolicy(daemonSet),
  ];
}

/** How the DaemonSet's required node affinity treats edge nodes, in words. */
function edgePolicy(daemonSet: V1DaemonSet): string {
  const terms =
    daemonSet.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  const operators = terms.map(
    (term) => term.matchExpressions?.find((expression) => expression.key === EDGE_ROLE_LABEL)?.operator,
  );
  if (terms.length > 0 && operators.every((operator) => operator === 'DoesNotExist')) return 'excluded';
  if (terms.length > 0 && operators.every((operator) => operator === 'Exists' || operator === 'In')) return 'only edge';
  return 'may land';
}

function table(rows: string[][], columns: string[]): string {
  const widths = columns.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]))
      .join('   ')
      .trimEnd();
  return `${[line(columns), ...rows.map(line)].join('\n')}\n`;
}

/** The KubeEdge join token, so the demo can prove it never reached an output, event or log. */
export async function readJoinTokenFrom(kubeconfigPath: string): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const secret = await config
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: TOKEN_SECRET, namespace: KUBEEDGE_NAMESPACE });
  return Buffer.from(secret.data?.tokendata ?? '', 'base64')
    .toString('utf8')
    .trim();
}

/** What a node left in the cluster: its Node object and edgekeeper's lock Lease, if either still exists. */
export async function clusterLeftovers(kubeconfigPath: string, nodeName: string): Promise<string[]> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const found = async (what: string, read: () => Promise<unknown>) =>
    read().then(
      () => [what],
      () => [],
    );
  return [
    ...(await found(`node ${nodeName}`, () => config.makeApiClient(CoreV1Api).readNode({ name: nodeName }))),
    ...(await found(`lock ${LOCK_NAMESPACE}/${lockName(nodeName)}`, () =>
      config
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: lockName(nodeName), namespace: LOCK_NAMESPACE }),
    )),
  ];
}
