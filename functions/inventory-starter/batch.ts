import { createHash } from 'node:crypto';
import type { InventoryKind } from './event';

/*
 * A burst as one batch execution, in the batch workflows' contract (docs/workflows.md): `{ requests: [...] }`, each
 * request a workflow input plus its `id`. The batch runs each request as a child execution named `id`, which is
 * the event's item id: the execution the event would start alone. So an event runs once whichever way it arrives
 * (alone, in one burst or, redelivered, in another), and the batch's per-node result carries the id back.
 */

/** The batch workflow of each kind. */
export const BATCH_WORKFLOWS: Readonly<Record<InventoryKind, string>> = Object.freeze({
  onboard: 'batch-onboard',
  remove: 'batch-remove',
});

/** One request of a batch: the event's item id and the input its workflow takes. */
export interface BatchItem {
  readonly itemId: string;
  readonly input: unknown;
}

/** The batch workflows' input. */
export function batchInput(_kind: InventoryKind, items: readonly BatchItem[]): unknown {
  return { requests: items.map((item) => ({ id: item.itemId, ...(item.input as Record<string, unknown>) })) };
}

/**
 * A burst's execution name, from its items' ids in any order: the same burst delivered again finds its first
 * execution. 6 + 7 + 40 characters, well inside Step Functions' 80.
 */
export function batchExecutionName(kind: InventoryKind, itemIds: readonly string[]): string {
  const digest = createHash('sha256')
    .update([...itemIds].sort().join('\n'))
    .digest('hex');
  return `burst-${kind}-${digest.slice(0, 40)}`;
}
