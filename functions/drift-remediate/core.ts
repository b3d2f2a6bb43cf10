import { type Finding, type FindingCollector, finding } from '../drift-findings/findings';
import { type DaemonSetPort, type KeepOffEdgeConfig, keepDaemonSetsOffEdge } from '../shared/daemonset-fence';
import { LOCK_NAMESPACE } from '../shared/domain';
import { type LockPorts, viewLease } from '../shared/node-lock';

export interface RemediationPorts {
  readonly daemonSets: DaemonSetPort;
  readonly locks: LockPorts;
}

/**
 * Fixes what is safe and idempotent, and nothing else: it fences the DaemonSets that can land on edge nodes with
 * onboarding's own code (the same decision, the same compare-and-swap patch), and deletes the Leases whose holder
 * has ended, each with the resourceVersion it judged (a Lease renewed or taken meanwhile is left). It never
 * deletes a node, never resets a host, never touches a Lease whose holder may still run. Every fix goes to the
 * collector as a finding marked fixed.
 */
export async function remediateDrift(
  ports: RemediationPorts,
  config: KeepOffEdgeConfig,
  collector: FindingCollector,
  now: Date,
): Promise<void> {
  const fenced = await keepDaemonSetsOffEdge(ports.daemonSets, config, false);
  for (const { namespace, name } of fenced.patched) {
    await collector.add(
      fixed(
        finding(
          'daemonset-unfenced',
          `daemonset/${namespace}/${name}`,
          'its pods could be scheduled onto edge nodes',
          'fenced: required node affinity now excludes edge nodes',
        ),
      ),
    );
  }
  for (const lease of await ports.locks.leases.listLeases()) {
    const view = await viewLease(ports.locks, lease, now);
    if (!view.free) continue;
    const answer = await ports.locks.leases.deleteLease(view.lease, view.resourceVersion ?? '');
    const object = `lease/${LOCK_NAMESPACE}/${view.lease}`;
    if (answer === 'conflict') {
      collector.note(`${object} changed while being expired (renewed or taken): left`);
      continue;
    }
    await collector.add(
      fixed(
        finding(
          'stale-lock',
          object,
          `held by ${view.holder ?? 'nobody'} (${view.holderStatus === 'ended' ? 'ended' : 'status unknown, expired'})`,
          'expired: deleted',
        ),
      ),
    );
  }
}

function fixed(item: Finding): Finding {
  return { ...item, fixed: true };
}
