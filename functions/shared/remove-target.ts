import { EdgekeeperError } from './errors';
import type { RemoveRequest } from './remove-input';

/**
 * Pure core of "Validate the removal" (remove and rollback modes): which node, which host, and what a rollback
 * undid. The later steps have their own cores: drain-node, send-reset-script, plan-uninstall.
 */

/** The annotation onboarding writes with the node's SSM managed instance id. */
export const INSTANCE_ID_ANNOTATION = 'edgekeeper.io/instance-id';
/** The label KubeEdge's edgecore registers edge nodes with. */
export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';

/** The slice of a `V1Node` read here. */
export interface NodeLike {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
}

/** The node to remove does not exist (remove mode only: a rollback tolerates it). */
export class NodeNotFoundError extends EdgekeeperError {
  override readonly name = 'NodeNotFoundError';
  constructor(readonly nodeName: string) {
    super(
      `nodeName ${nodeName} does not exist: nothing to remove (already removed?); to clean a host whose node is ` +
        'gone, run mode rollback with its instanceId',
    );
  }
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
 * Validates the removal against the Node as read from the cluster (undefined when it does not exist).
 * Remove mode needs an existing edge node; rollback mode accepts a missing node (the join may have failed before
 * edgecore registered it) but still refuses a node that is not an edge node.
 * @throws NodeNotFoundError, NotAnEdgeNodeError, InstanceIdMismatchError
 */
export function resolveRemoveTarget(request: RemoveRequest, node: NodeLike | undefined): RemoveTarget {
  if (!node) {
    if (request.mode === 'remove') throw new NodeNotFoundError(request.nodeName);
    return { nodeName: request.nodeName, nodeExists: false, ...optionalInstanceId(request.instanceId) };
  }
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
