import { kubeClients } from '../shared/k8s';
import { lockPorts } from '../shared/leases';
import { findOwnership, NodeLockedError, parseExecutionArn, ROLLBACK_SUFFIX } from '../shared/node-lock';
import type { Settings } from '../shared/settings';

/*
 * A request on a node that another operation holds is refused at once (409 NodeLockedError) rather than
 * accepted and failed a moment later by the workflow's lock step, which stays the one that decides: this check
 * only reads the Leases, with the same rule for whether their holder still runs.
 */

/** The executions (ARNs) that hold a live lock recorded for a node name. */
export type LockHolders = (nodeName: string) => Promise<readonly string[]>;

/** The lock Leases of the cluster the settings name; a holder's liveness as the steps read it. */
export function leaseLockHolders(settings: Settings): LockHolders {
  return async (nodeName) => {
    const ownership = await findOwnership(lockPorts(await kubeClients(settings), settings), nodeName);
    return ownership?.liveHolders ?? [];
  };
}

/**
 * @param executionName the execution this request starts or finds: its own lock (a retry while it runs), or its
 * rollback child's, is no conflict
 * @throws NodeLockedError naming the holders and what to do
 */
export async function refuseWhileLocked(
  holdersOf: LockHolders,
  nodeName: string,
  executionName: string,
): Promise<void> {
  const others = (await holdersOf(nodeName)).filter((holder) => {
    const name = parseExecutionArn(holder)?.name;
    return name !== executionName && name !== `${executionName}${ROLLBACK_SUFFIX}`;
  });
  if (others.length === 0) return;
  throw new NodeLockedError(
    `node ${nodeName} is locked by ${others.join(', ')}, which is still running: follow it with ` +
      `GET /operations?node=${nodeName} and retry once it has ended`,
  );
}
