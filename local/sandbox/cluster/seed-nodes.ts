import type { V1Node } from '@kubernetes/client-node';
import { registeredNode, withReady } from '../edge/node-object';
import type { KubeObject } from './types';

/** What {@link edgeNodeObjects} builds. */
export interface SeedNodesOptions {
  readonly count: number;
  /** node names are `<prefix><n>`, n from 1 @default 'seeded-' */
  readonly prefix?: string;
  /** the first address's index in 10.128.0.0/9, so several seedings never share an IP @default 0 */
  readonly firstAddress?: number;
  /** every n-th node is NotReady (Ready=Unknown, as when edgecore went away); 0 for none @default 0 */
  readonly notReadyEvery?: number;
  /** the KubeEdge version the nodes report @default v1.6.1 */
  readonly kubeedgeVersion?: string;
}

/**
 * Edge Node objects as cloudcore registers them (edge labels and taint, an InternalIP in 10.128.0.0/9, node info,
 * Ready=True or Unknown) with no host behind them: cluster-side scale for the drift check's bench, not thousands of
 * host namespaces. Add them with `Sandbox.seedObjects`, which runs the controllers once for all of them.
 */
export function edgeNodeObjects(options: SeedNodesOptions): KubeObject[] {
  const now = new Date();
  const prefix = options.prefix ?? 'seeded-';
  const every = options.notReadyEvery ?? 0;
  return Array.from({ length: options.count }, (_, i) => {
    const index = (options.firstAddress ?? 0) + i;
    const name = `${prefix}${i + 1}`;
    const joined = registeredNode(
      {
        nodeName: name,
        internalIP: `10.${128 + Math.floor(index / 65536)}.${Math.floor(index / 256) % 256}.${index % 256}`,
        hostname: name,
        architecture: 'arm64',
        osImage: 'Ubuntu 20.04.6 LTS',
        kernelVersion: '5.4.0-166-generic',
        containerRuntimeVersion: 'docker://20.10.7',
        kubeedgeVersion: options.kubeedgeVersion ?? 'v1.6.1',
        withEdgeTaint: true,
        labels: '',
      },
      undefined,
      now,
    );
    const node: V1Node = withReady(joined, every > 0 && (i + 1) % every === 0 ? 'Unknown' : 'True', now);
    return node as unknown as KubeObject;
  });
}

/** What {@link cloudNodeObjects} builds. */
export interface SeedCloudNodesOptions {
  readonly count: number;
  /** node names are `<prefix><n>`, n from 1 @default 'cloud-' */
  readonly prefix?: string;
  /** the first address's index in 10.0.0.0/9 @default 0 */
  readonly firstAddress?: number;
  /** extra labels of the n-th node (from 1), e.g. a node pool @default none */
  readonly labelsOf?: (n: number) => Record<string, string>;
}

/**
 * Ready worker Node objects, as kubelet registers them on a KubeKey cluster (worker role, an InternalIP in
 * 10.0.0.0/9, node info of Kubernetes v1.21.5): the cloud side of a large cluster for scale benches.
 */
export function cloudNodeObjects(options: SeedCloudNodesOptions): KubeObject[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const prefix = options.prefix ?? 'cloud-';
  return Array.from({ length: options.count }, (_, i) => {
    const index = (options.firstAddress ?? 0) + i;
    const name = `${prefix}${i + 1}`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/os': 'linux',
          'kubernetes.io/hostname': name,
          'node-role.kubernetes.io/worker': '',
          ...options.labelsOf?.(i + 1),
        },
      },
      spec: {},
      status: {
        addresses: [
          {
            type: 'InternalIP',
            address: `10.${Math.floor(index / 65536)}.${Math.floor(index / 256) % 256}.${index % 256}`,
          },
          { type: 'Hostname', address: name },
        ],
        capacity: { cpu: '8', memory: '16393500Ki', pods: '110' },
        allocatable: { cpu: '7600m', memory: '15766812Ki', pods: '110' },
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now },
        ],
        nodeInfo: {
          architecture: 'amd64',
          operatingSystem: 'linux',
          osImage: 'Ubuntu 20.04.3 LTS',
          kernelVersion: '5.4.0-90-generic',
          containerRuntimeVersion: 'docker://20.10.8',
          kubeletVersion: 'v1.21.5',
          kubeProxyVersion: 'v1.21.5',
        },
      },
    } as KubeObject;
  });
}

/** How a seeded DaemonSet stands towards edge nodes. */
export type SeedDaemonSetPlacement =
  /** a required node affinity `node-role.kubernetes.io/edge DoesNotExist`: never on an edge node */
  | 'off-edge'
  /** tolerates every taint and selects only Linux nodes: lands on edge nodes too */
  | 'lands-on-edge';

/** What {@link daemonSetObjects} builds. */
export interface SeedDaemonSetsOptions {
  readonly count: number;
  /** @default 'default' */
  readonly namespace?: string;
  /** DaemonSet names are `<prefix><n>`, n from 1 @default 'addon-' */
  readonly prefix?: string;
  /** where the n-th DaemonSet (from 1) may run */
  readonly placementOf: (n: number) => SeedDaemonSetPlacement;
  /** a nodeSelector of the n-th DaemonSet on top of the OS (a node pool), to bound how many pods it has @default none */
  readonly nodeSelectorOf?: (n: number) => Record<string, string>;
}

/** Add-on DaemonSets (agents, exporters) for scale benches; the controllers give them their pods when seeded. */
export function daemonSetObjects(options: SeedDaemonSetsOptions): KubeObject[] {
  return Array.from({ length: options.count }, (_, i) => {
    const name = `${options.prefix ?? 'addon-'}${i + 1}`;
    const offEdge = options.placementOf(i + 1) === 'off-edge';
    return {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: options.namespace ?? 'default', labels: { app: name } },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux', ...options.nodeSelectorOf?.(i + 1) },
            ...(offEdge
              ? {
                  affinity: {
                    nodeAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [
                          { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] },
                        ],
                      },
                    },
                  },
                }
              : { tolerations: [{ operator: 'Exists' }] }),
            containers: [{ name: 'agent', image: `example.com/${name}:1.0` }],
          },
        },
      },
    } as KubeObject;
  });
}
