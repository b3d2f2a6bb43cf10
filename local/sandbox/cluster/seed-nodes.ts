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
