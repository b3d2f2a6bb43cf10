import type { EventOutcome, StarterResult } from '../../functions/inventory-starter/core';
import type { QueueMessage } from '../../functions/inventory-starter/ports';
import type { LocalQueue } from './queue';

/*
 * The event source mapping of a deployed starter, in-process: receive a batch, hand it to the starter, delete
 * every message it did not report as failed (SQS's partial batch response), and let the failed ones come back
 * after their visibility timeout, until the queue is empty.
 */

export interface DrainOptions {
  /** messages per starter call (setting inventoryBatchSize) */
  readonly batchSize: number;
  /** waits until the next message is visible again @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Every outcome of every delivery, in order: a message delivered twice has two. */
export async function drainQueue(
  queue: LocalQueue,
  start: (messages: readonly QueueMessage[]) => Promise<StarterResult>,
  options: DrainOptions,
): Promise<EventOutcome[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const outcomes: EventOutcome[] = [];
  while (queue.depth > 0) {
    const received = queue.receive(options.batchSize);
    if (received.length === 0) {
      const next = queue.nextVisibleAt();
      // every message left is in flight: wait for the first to come back (or to be redriven)
      if (next !== null) await sleep(Math.max(0, next - now()));
      continue;
    }
    const result = await start(received);
    outcomes.push(...result.outcomes);
    const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
    for (const message of received) if (!failed.has(message.messageId)) queue.delete(message.receiptHandle);
  }
  return outcomes;
}
