import { randomUUID } from 'node:crypto';
import type { QueueMessage } from '../../functions/inventory-starter/ports';

/*
 * An in-process queue with the SQS semantics the inventory starter is written for, so that `edgekeeper inventory
 * emit` exercises the same paths as the deployed queue:
 * - a received message is invisible for the visibility timeout; not deleted by then, it is delivered again;
 * - each delivery counts (`receiveCount`); a message already delivered `maxReceiveCount` times is moved to the
 *   dead-letter queue instead of being delivered again (SQS's redrive policy);
 * - delivery is at least once: a message may come back once after it was deleted (`duplicate`);
 * - a consumer may send a message to the dead-letter queue itself, with a reason (the starter does for bad fields).
 * Time is read from `now`, so tests step it.
 */

export interface LocalQueueOptions {
  readonly visibilityTimeoutMs: number;
  /** deliveries before a message goes to the dead-letter queue (SQS: maxReceiveCount of the redrive policy) */
  readonly maxReceiveCount: number;
  /** whether a message, once deleted, is delivered once more (SQS standard queues may deliver twice) */
  readonly duplicate?: (body: string) => boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A delivered message: the receipt handle of this delivery is what deletes it. */
export interface ReceivedMessage extends QueueMessage {
  readonly receiptHandle: string;
}

/** A message in the dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  /** the consumer's reason; null when the queue moved it after `maxReceiveCount` deliveries */
  readonly reason: string | null;
}

interface Stored {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | null;
  /** delivered once more after its delete (at-least-once) */
  duplicatePending: boolean;
}

export class LocalQueue {
  private readonly messages: Stored[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly now: () => number;

  constructor(private readonly options: LocalQueueOptions) {
    if (options.maxReceiveCount < 1) throw new Error('maxReceiveCount must be at least 1');
    this.now = options.now ?? Date.now;
  }

  /** Enqueues a body; returns its message id. */
  send(body: string): string {
    const messageId = randomUUID();
    this.messages.push({
      messageId,
      body,
      receiveCount: 0,
      visibleAt: this.now(),
      receiptHandle: null,
      duplicatePending: this.options.duplicate?.(body) ?? false,
    });
    return messageId;
  }

  /**
   * Up to `max` visible messages, oldest first, each now invisible for the visibility timeout. A message that was
   * already delivered `maxReceiveCount` times goes to the dead-letter queue instead.
   */
  receive(max: number): ReceivedMessage[] {
    const now = this.now();
    const received: ReceivedMessage[] = [];
    for (const message of [...this.messages]) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.remove(message);
        this.dead.push({
          messageId: message.messageId,
          body: message.body,
          receiveCount: message.receiveCount,
          reason: null,
        });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
      message.receiptHandle = randomUUID();
      received.push({
        messageId: message.messageId,
        body: message.body,
        receiveCount: message.receiveCount,
        receiptHandle: message.receiptHandle,
      });
    }
    return received;
  }

  /**
   * Deletes the delivery this handle belongs to. A handle of an older delivery deletes nothing (the message was
   * delivered again since), as SQS ignores a stale receipt handle. A message marked as a duplicate comes back once.
   */
  delete(receiptHandle: string): boolean {
    const message = this.messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message) return false;
    if (message.duplicatePending) {
      message.duplicatePending = false;
      message.receiptHandle = null;
      message.visibleAt = this.now();
      return true;
    }
    this.remove(message);
    return true;
  }

  /** SendMessage to the dead-letter queue, as the starter does for an event that can never start. */
  sendToDeadLetters(message: QueueMessage, reason: string): void {
    this.dead.push({ messageId: message.messageId, body: message.body, receiveCount: message.receiveCount, reason });
  }

  /** The dead-letter queue's messages, oldest first. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  /** Messages not yet deleted (visible or in flight). */
  get depth(): number {
    return this.messages.length;
  }

  /** When the next in-flight message becomes visible again, or null when one is visible now or none is left. */
  nextVisibleAt(): number | null {
    if (this.messages.length === 0) return null;
    const now = this.now();
    if (this.messages.some((m) => m.visibleAt <= now)) return null;
    return Math.min(...this.messages.map((m) => m.visibleAt));
  }

  private remove(message: Stored): void {
    this.messages.splice(this.messages.indexOf(message), 1);
  }
}
