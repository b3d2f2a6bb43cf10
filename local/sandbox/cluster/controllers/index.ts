import type { Store } from '../store';
import { reconcileDaemonSets } from './daemonset';
import { reconcileDeployments } from './deployment';
import { collectGarbage } from './garbage';
import { PodIpAllocator } from './pods';

/**
 * The sandbox's kube-controller-manager. Instead of watching, it runs synchronously after every write the API
 * server accepts, so a client sees the controllers' effects in its very next request (tests need no polling).
 */
export class ControllerManager {
  private readonly ips = new PodIpAllocator();
  constructor(private readonly store: Store) {}

  /** Runs every controller until none has anything left to do (bounded: controllers may feed each other). */
  reconcile(): void {
    for (let round = 0; round < 10; round += 1) {
      const gc = collectGarbage(this.store);
      const ds = reconcileDaemonSets(this.store, this.ips);
      const deploy = reconcileDeployments(this.store, this.ips);
      if (!gc && !ds && !deploy) return;
    }
  }
}
