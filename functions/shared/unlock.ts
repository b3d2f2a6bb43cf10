import { LOCK_ANNOTATIONS } from './domain';
import { kubeClients } from './k8s';
import { lockPorts } from './leases';
import { type LeaseView, type LockPorts, lockName, viewLease } from './node-lock';
import { readSettings } from './settings';

/** One Lease as `unlock` found it, and what it did with it. */
export interface UnlockedLease extends LeaseView {
  readonly broken: boolean;
  /** why a Lease was left: its holder still runs, or it changed while being broken */
  readonly note?: string;
}

/** What `edgekeeper unlock` prints and publishes: who held what, whether the holder was gone, what was broken. */
export interface UnlockRecord {
  readonly nodeName: string;
  readonly forced: boolean;
  /** `no-lock`: nothing recorded for the name; `refused`: a holder still runs and force was not given */
  readonly outcome: 'no-lock' | 'broken' | 'refused' | 'partly-broken';
  readonly broken: boolean;
  readonly locks: readonly UnlockedLease[];
  readonly message: string;
}

/**
 * Breaks the locks recorded for a node name (its name, instance and IP Leases) once it has shown who holds them and
 * that every holder is gone; with `force`, even while a holder runs (the caller records that in an event). All or
 * nothing: one live holder keeps every Lease unless forced. Each Lease is deleted with the resourceVersion that was
 * shown, so a Lease renewed or taken meanwhile is left and reported.
 */
export async function unlockNodeWith(
  ports: LockPorts,
  request: { readonly name: string; readonly force: boolean; readonly now: Date },
): Promise<UnlockRecord> {
  const all = await ports.leases.listLeases();
  const recorded = all.filter(
    (lease) =>
      lease.metadata?.annotations?.[LOCK_ANNOTATIONS.nodeName] === request.name ||
      lease.metadata?.name === lockName(request.name),
  );
  const views = await Promise.all(recorded.map((lease) => viewLease(ports, lease, request.now)));
  const base = { nodeName: request.name, forced: request.force };
  if (views.length === 0) {
    return { ...base, outcome: 'no-lock', broken: false, locks: [], message: `node ${request.name} holds no lock` };
  }
  const live = views.filter((view) => !view.free);
  if (live.length > 0 && !request.force) {
    return {
      ...base,
      outcome: 'refused',
      broken: false,
      locks: views.map((view) => ({
        ...view,
        broken: false,
        note: view.free ? undefined : `held by ${view.holder ?? 'unknown'} (${view.holderStatus})`,
      })),
      message:
        `node ${request.name} is locked by ${[...new Set(live.map((view) => view.holder ?? 'unknown'))].join(', ')}, ` +
        'which may still be running; wait for it to finish, or pass --force to break the lock anyway',
    };
  }
  const locks: UnlockedLease[] = [];
  for (const view of views) {
    const answer = await ports.leases.deleteLease(view.lease, view.resourceVersion ?? '');
    locks.push(
      answer === 'conflict'
        ? { ...view, broken: false, note: 'changed while being broken (renewed or taken); run unlock again' }
        : { ...view, broken: true },
    );
  }
  const broken = locks.every((lock) => lock.broken);
  const holders = [...new Set(views.map((view) => `${view.holder ?? 'unknown'} (${view.holderStatus})`))].join(', ');
  return {
    ...base,
    outcome: broken ? 'broken' : 'partly-broken',
    broken,
    locks,
    message:
      `${broken ? 'broke' : 'broke part of'} the lock of node ${request.name} held by ${holders}` +
      (live.length > 0 ? ' although its holder may still run (--force)' : ''),
  };
}

/** `unlockNodeWith` against the cluster and the execution status of the current environment. */
export async function unlockNode(request: { readonly name: string; readonly force?: boolean }): Promise<UnlockRecord> {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  return unlockNodeWith(lockPorts(kube, settings), {
    name: request.name,
    force: request.force ?? false,
    now: new Date(),
  });
}
