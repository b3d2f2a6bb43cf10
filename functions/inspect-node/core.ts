import { MANAGED_ANNOTATIONS } from '../shared/domain';
import type { RemoveRequest } from '../shared/remove-input';
import { type NodeLike, resolveRemoveTarget } from '../shared/remove-target';
import { decideHostReset, HOST_STATE_NOT_CLEANED, type HostResetDecision } from '../shared/reset-script';

/**
 * Core of "Inspect the node": decides, before anything changes, which node, host and IP a removal or rollback works
 * on and whether the host is reset. The host comes from the request, the node's annotation, or (for a node that
 * never got its annotation, or is already gone) the record its lock Lease keeps. A host is never reset when it
 * now serves another node, nor by a rollback whose join never changed it.
 */

/** What the inspection reads; the handler implements it over the Kubernetes API, the lock Leases and SSM. */
export interface InspectPorts {
  /** the Node with its InternalIPs, or null when it does not exist */
  readNode(nodeName: string): Promise<(NodeLike & { readonly internalIps: readonly string[] }) | null>;
  /** what the node name's lock Leases record (instance, IP), or null when it has none */
  ownershipOf(nodeName: string): Promise<{ readonly instanceId?: string; readonly nodeIp?: string } | null>;
  /** other node names that the cluster says use this instance: node annotations and lock Lease records */
  otherClaimsOn(instanceId: string, nodeName: string): Promise<readonly string[]>;
  /** SSM's PingStatus of the instance, or undefined when SSM does not know it */
  pingStatusOf(instanceId: string): Promise<string | undefined>;
}

export interface Inspection {
  readonly nodeExists: boolean;
  /** the host to reset and lock, or null when there is none or it is not this node's to touch */
  readonly instanceId: string | null;
  readonly nodeIp: string | null;
  readonly hostReset: HostResetDecision;
  /** said in the result when the removal does less than usual, and why */
  readonly notice: string | null;
  /** which keadm joined the node (its reset flags depend on it), from the node's annotations or the defaults */
  readonly keadm: { readonly profile: string; readonly version: string };
}

const NOTHING_RECORDED = 'no node and no host recorded for it: nothing to reset';

/**
 * @throws NotAnEdgeNodeError, InstanceIdMismatchError (resolveRemoveTarget)
 * @throws HostCannotBeResetError when the host is offline and `force` was not given
 */
export async function inspectRemoval(
  request: RemoveRequest,
  ports: InspectPorts,
  defaultKubeedgeVersion: string,
): Promise<Inspection> {
  const node = await ports.readNode(request.nodeName);
  const annotations = node?.metadata?.annotations ?? {};
  const keadm = {
    profile: annotations[MANAGED_ANNOTATIONS.keadmProfile] ?? 'fork',
    version: annotations[MANAGED_ANNOTATIONS.kubeedgeVersion] ?? defaultKubeedgeVersion,
  };
  const target = resolveRemoveTarget(request, node ?? undefined);
  const recorded = await ports.ownershipOf(request.nodeName);
  const instanceId = target.instanceId ?? recorded?.instanceId;
  const nodeIp = request.nodeIp ?? node?.internalIps[0] ?? recorded?.nodeIp ?? null;
  const gone =
    !target.nodeExists && request.mode === 'remove'
      ? `node ${request.nodeName} was already gone: cleaning only what edgekeeper left for it (locks, routing` +
        `${instanceId ? `, host ${instanceId}` : ''})`
      : null;
  const skip = (reason: string, keepHost: boolean, notCleaned: readonly string[] = []): Inspection => ({
    nodeExists: target.nodeExists,
    instanceId: keepHost ? (instanceId ?? null) : null,
    nodeIp,
    hostReset: { action: 'skip', reason, notCleaned },
    notice: gone,
    keadm,
  });

  if (request.mode === 'rollback' && !request.hostChanged) {
    return skip(`the failed join changed nothing on host ${instanceId ?? 'unknown'}: not reset`, true);
  }
  if (!instanceId && !target.nodeExists) return skip(NOTHING_RECORDED, false);
  if (!instanceId && annotations[MANAGED_ANNOTATIONS.joinMode] === 'manual') {
    // joined by a person with the rendered command: edgekeeper never had a way onto that device
    const reason = `node ${request.nodeName} was joined by hand: its device is not reset; run "keadm reset" on it`;
    return skip(reason, false, HOST_STATE_NOT_CLEANED);
  }
  if (instanceId && request.forceHost !== instanceId) {
    const others = await ports.otherClaimsOn(instanceId, request.nodeName);
    if (others.length > 0) {
      return skip(
        `host ${instanceId} now serves node ${others.join(', ')}: not reset (forceHost ${instanceId} resets it anyway)`,
        false,
      );
    }
  }
  const pingStatus = instanceId ? await ports.pingStatusOf(instanceId) : undefined;
  const hostReset = decideHostReset({ nodeName: request.nodeName, instanceId, pingStatus, force: request.force });
  return { nodeExists: target.nodeExists, instanceId: instanceId ?? null, nodeIp, hostReset, notice: gone, keadm };
}
