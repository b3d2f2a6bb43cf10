import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';

/** What the edgecore stand-in reports when it connects to cloudhub. */
export interface EdgeReport {
  readonly nodeName: string;
  readonly internalIP: string;
  readonly hostname: string;
  /** Kubernetes architecture name (amd64, arm64, arm). */
  readonly architecture: string;
  readonly osImage: string;
  readonly kernelVersion: string;
  readonly containerRuntimeVersion: string;
  /** KubeEdge version with the leading v. */
  readonly kubeedgeVersion: string;
  readonly withEdgeTaint: boolean;
  /** `--labels` as given to keadm: `k=v,k2=v2`. */
  readonly labels: string;
}

/** Ready condition status: False while edgecore starts, True once it reports, Unknown after it went away. */
export type ReadyStatus = 'True' | 'False' | 'Unknown';

/** The taint the fork's `--with-edge-taint` makes edged register with. */
export const EDGE_TAINT = { key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' } as const;

// The Kubernetes version each KubeEdge line vendors: edged reports it as `<k8s>-kubeedge-<kubeedge>`.
const KUBELET_BY_KUBEEDGE_MINOR: Record<string, string> = {
  '1.5': 'v1.19.3',
  '1.6': 'v1.19.3',
  '1.7': 'v1.19.3',
  '1.8': 'v1.21.4',
  '1.9': 'v1.21.4',
  '1.12': 'v1.22.6',
  '1.13': 'v1.23.15',
  '1.15': 'v1.26.10',
  '1.17': 'v1.27.15',
  '1.20': 'v1.30.7',
};

/** `status.nodeInfo.kubeletVersion` of an edge node, e.g. `v1.19.3-kubeedge-v1.6.2`. */
export function kubeletVersion(kubeedgeVersion: string): string {
  const withV = kubeedgeVersion.startsWith('v') ? kubeedgeVersion : `v${kubeedgeVersion}`;
  const minor = withV.slice(1).split('.').slice(0, 2).join('.');
  return `${KUBELET_BY_KUBEEDGE_MINOR[minor] ?? 'v1.19.3'}-kubeedge-${withV}`;
}

function parseLabels(labels: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of labels.split(',')) {
    const [key, value = ''] = pair.split('=', 2);
    if (key?.trim()) out[key.trim()] = value.trim();
  }
  return out;
}

/** The Ready condition edged posts, with KubeEdge's reasons. */
export function readyCondition(status: ReadyStatus, now: Date, previous?: V1NodeCondition): V1NodeCondition {
  const reasons: Record<ReadyStatus, [string, string]> = {
    True: ['EdgeReady', 'edge is posting ready status'],
    False: ['EdgeNotReady', 'edgecore is starting'],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  };
  const [reason, message] = reasons[status];
  const transitioned = previous?.status !== status;
  return {
    type: 'Ready',
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: transitioned ? now : (previous?.lastTransitionTime ?? now),
  };
}

/**
 * The Node as edged registers it (or refreshes it on a rejoin after `keadm reset`): edge labels, InternalIP and
 * Hostname addresses, node info, the edge taint when asked (kept when already there), Ready=False until edgecore
 * has settled. Everything else on an existing Node (labels, annotations, taints set by others) is kept.
 */
export function registeredNode(report: EdgeReport, existing: V1Node | undefined, now: Date): V1Node {
  const labels = {
    ...(existing?.metadata?.labels ?? {}),
    ...parseLabels(report.labels),
    'node-role.kubernetes.io/edge': '',
    'node-role.kubernetes.io/agent': '',
    'kubernetes.io/arch': report.architecture,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/hostname': report.nodeName,
  };
  const taints = [...(existing?.spec?.taints ?? [])];
  if (report.withEdgeTaint && !taints.some((t) => t.key === EDGE_TAINT.key && t.effect === EDGE_TAINT.effect)) {
    taints.push({ ...EDGE_TAINT });
  }
  const previousReady = existing?.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { ...(existing?.metadata ?? {}), name: report.nodeName, labels },
    spec: { ...(existing?.spec ?? {}), ...(taints.length > 0 ? { taints } : {}) },
    status: {
      ...(existing?.status ?? {}),
      addresses: [
        { type: 'InternalIP', address: report.internalIP },
        { type: 'Hostname', address: report.hostname || report.nodeName },
      ],
      nodeInfo: {
        architecture: report.architecture,
        operatingSystem: 'linux',
        osImage: report.osImage,
        kernelVersion: report.kernelVersion,
        containerRuntimeVersion: report.containerRuntimeVersion,
        kubeletVersion: kubeletVersion(report.kubeedgeVersion),
        kubeProxyVersion: '',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 10350 } },
      conditions: [readyCondition('False', now, previousReady)],
    },
  };
}

/** The Node with its Ready condition set to `status` (other conditions kept). */
export function withReady(node: V1Node, status: ReadyStatus, now: Date): V1Node {
  const conditions = node.status?.conditions ?? [];
  const previous = conditions.find((c) => c.type === 'Ready');
  return {
    ...node,
    status: {
      ...(node.status ?? {}),
      conditions: [...conditions.filter((c) => c.type !== 'Ready'), readyCondition(status, now, previous)],
    },
  };
}
