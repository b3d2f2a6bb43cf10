import type { V1Node } from '@kubernetes/client-node';
import { internalIps } from '../shared/cluster-reads';

/** What deleting a node did, as the workflows record it. */
export interface DeleteOutcome {
  readonly step: 'delete-node';
  readonly result: 'done' | 'nothing-to-do' | 'kept';
  readonly detail: string;
}

/**
 * Whether a failed manual join may delete the node of its name: only when the node registered and reports the
 * request's IP, the node the person's command registered. A node under the name with another IP is someone else's
 * (edgekeeper never harms what it did not create): it is kept, and the outcome says why.
 * @returns 'delete', or the outcome that ends the step without deleting
 */
export function manualJoinDeletion(nodeName: string, node: V1Node | null, nodeIp: string): 'delete' | DeleteOutcome {
  if (!node) return { step: 'delete-node', result: 'nothing-to-do', detail: `node ${nodeName} never registered` };
  const ips = internalIps(node);
  if (ips.includes(nodeIp)) return 'delete';
  return {
    step: 'delete-node',
    result: 'kept',
    detail:
      `node ${nodeName} reports InternalIP ${ips.join(', ') || 'none'}, not ${nodeIp}: it is not the node this ` +
      'join registered, so it was left in place',
  };
}
