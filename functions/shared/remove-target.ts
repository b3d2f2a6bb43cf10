import { EDGE_ROLE_LABEL, INSTANCE_ID_ANNOTATION } from './domain';
import { EdgekeeperError } from './errors';
import type { RemoveRequest } from './remove-input';

/**
 * What a removal or rollback works on: the node (absent is fine) and the host the request or the node names.
 * functions/inspect-node/core.ts adds what the cluster's other records say about that host.
 */

/** The slice of a `V1Node` read here. */
export interface NodeLike {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
}

/** The node exists but is not an edge node: edgekeeper never removes cloud nodes. */
export class NotAnEdgeNodeError extends EdgekeeperError {
  override readonly name = 'NotAnEdgeNodeError';
  constructor(readonly nodeName: string) {
    super(`nodeName ${nodeName} is not an edge node (no ${EDGE_ROLE_LABEL} label): refusing to remove a cloud node`);
  }
}

/** The request's instance id and the node's annotation disagree: one of them names the wrong host. */
export class InstanceIdMismatchError extends EdgekeeperError {
  override readonly name = 'InstanceIdMismatchError';
  constructor(
    readonly nodeName: string,
    readonly requested: string,
    readonly annotated: string,
  ) {
    super(
      `instanceId ${requested} does not match node ${nodeName}'s ${INSTANCE_ID_ANNOTATION} annotation ${annotated}: ` +
        'refusing to reset a host that may not be this node',
    );
  }
}

/** What the removal works on. */
export interface RemoveTarget {
  readonly nodeName: string;
  /** Whether the Node object exists (a rollback may start before it registered). */
  readonly nodeExists: boolean;
  /** The host to reset; undefined when neither the request nor the node names one. */
  readonly instanceId?: string;
}

/**
 * Validates the removal against the Node as read from the cluster (undefined when it does not exist). A missing
 * node is not an error in either mode: a rollback may start before edgecore registered it, and a removal that
 * finds it gone (a rerun, or a node deleted by hand) still cleans what edgekeeper left for it. A node that is not
 * an edge node is refused in both modes.
 * @throws NotAnEdgeNodeError, InstanceIdMismatchError
 */
export function resolveRemoveTarget(request: RemoveRequest, node: NodeLike | undefined): RemoveTarget {
  if (!node) return { nodeName: request.nodeName, nodeExists: false, ...optionalInstanceId(request.instanceId) };
  if (node.metadata?.labels?.[EDGE_ROLE_LABEL] === undefined) throw new NotAnEdgeNodeError(request.nodeName);
  const annotated = node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION];
  if (request.instanceId && annotated && request.instanceId !== annotated) {
    throw new InstanceIdMismatchError(request.nodeName, request.instanceId, annotated);
  }
  return { nodeName: request.nodeName, nodeExists: true, ...optionalInstanceId(request.instanceId ?? annotated) };
}

function optionalInstanceId(instanceId: string | undefined): { instanceId?: string } {
  return instanceId ? { instanceId } : {};
}
