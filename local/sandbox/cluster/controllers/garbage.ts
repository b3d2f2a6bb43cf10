import { R } from '../resources';
import type { Store } from '../store';

/**
 * The garbage collector and pod GC in one sweep: deletes pods bound to a Node that no longer exists, and objects
 * whose every owner is gone (background cascading deletion). Returns true when it deleted anything.
 */
export function collectGarbage(store: Store): boolean {
  let changed = false;
  const nodeNames = new Set(store.view(R.nodes).map((n) => n.metadata.name));
  // read-only sweep: nothing is copied unless deleted
  const everything = store.allViews();
  const uids = new Set(everything.map(([, o]) => o.metadata.uid));
  for (const [type, object] of everything) {
    const owners = object.metadata.ownerReferences ?? [];
    const orphaned = owners.length > 0 && owners.every((o) => !uids.has(o.uid));
    const nodeName = type === R.pods ? (object.spec as { nodeName?: string } | undefined)?.nodeName : undefined;
    const nodeGone = nodeName !== undefined && nodeName !== '' && !nodeNames.has(nodeName);
    if (orphaned || nodeGone) {
      store.delete(type, object.metadata.namespace, object.metadata.name ?? '');
      changed = true;
    }
  }
  return changed;
}

/** Deletes everything in a namespace, then the namespace itself (the namespace controller's finalizer). */
export function finalizeNamespace(store: Store, name: string): void {
  for (const [type, object] of [...store.all()]) {
    if (type.namespaced && object.metadata.namespace === name) {
      store.delete(type, name, object.metadata.name ?? '');
    }
  }
  if (store.find(R.namespaces, undefined, name)) store.delete(R.namespaces, undefined, name);
}
