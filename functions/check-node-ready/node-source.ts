import type { SeenNode } from '../finish-node/core';
import { readNode } from '../shared/cluster-reads';
import { type KubeClients, translateKubeError } from '../shared/k8s';
import type { NodeSource, NodeView } from './core';

/** The client gives the API server this long past the watch's own `timeoutSeconds` to end the stream. */
export const WATCH_GRACE_SECONDS = 5;

/**
 * The node `name` in the cluster. The watch is one request, `watch=1&fieldSelector=metadata.name=<name>` without a
 * resourceVersion: the API server first sends the node as it is (ADDED), then its changes, so there is no read
 * before it and no change between a read and the watch to miss.
 */
export function clusterNodeSource(kube: KubeClients, name: string): NodeSource {
  return {
    // the parts readiness reads; the API's own type marks every field optional
    read: async () => (await readNode(kube, name)) as NodeView | null,
    async watch(seconds, done) {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), (seconds + WATCH_GRACE_SECONDS) * 1000);
      let node: NodeView | null = null;
      try {
        const query = { fieldSelector: `metadata.name=${name}`, timeoutSeconds: String(seconds) };
        for await (const event of kube.watch('/api/v1/nodes', query, stop.signal)) {
          if (event.type === 'ADDED' || event.type === 'MODIFIED') node = event.object as NodeView;
          else if (event.type === 'DELETED') node = null;
          // the server ended the watch (410 Gone, …): the next check starts a new one
          else if (event.type === 'ERROR') break;
          if (done(node)) break;
        }
      } catch (error) {
        // our own deadline: the watch simply saw nothing more
        if (!stop.signal.aborted) throw translateKubeError(error, `watching node ${name}`);
      } finally {
        clearTimeout(timer);
      }
      return node;
    },
  };
}

/** The source, remembering the node it last saw (null: none, or one without a resourceVersion). */
export function remembering(source: NodeSource): { source: NodeSource; seen(): SeenNode | null } {
  let last: NodeView | null = null;
  return {
    source: {
      read: async () => (last = await source.read()),
      watch: async (seconds, done) => (last = await source.watch(seconds, done)),
    },
    seen: () =>
      last?.metadata.resourceVersion
        ? {
            resourceVersion: last.metadata.resourceVersion,
            labels: last.metadata.labels ?? {},
            annotations: last.metadata.annotations ?? {},
            taints: last.spec?.taints ?? [],
          }
        : null,
  };
}
