import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StarterResult } from '../../../functions/inventory-starter/core';
import type { QueueMessage } from '../../../functions/inventory-starter/ports';
import { drainQueue } from '../../../local/inventory/consumer';
import { LocalInventoryEngine } from '../../../local/inventory/engine';
import { LocalQueue } from '../../../local/inventory/queue';
import type { RunWorkflowOptions, WorkflowResult } from '../../../local/runtime';

/** A queue on a clock the test moves. */
function queueAt(options: { maxReceiveCount?: number; duplicate?: boolean } = {}) {
  const clock = { now: 1_000 };
  const queue = new LocalQueue({
    visibilityTimeoutMs: 30_000,
    maxReceiveCount: options.maxReceiveCount ?? 3,
    duplicate: () => Boolean(options.duplicate),
    now: () => clock.now,
  });
  return { queue, clock };
}

describe('the local inventory queue', () => {
  it('hides a received message for the visibility timeout, then delivers it again with its receive count', () => {
    // Prepare
    const { queue, clock } = queueAt();
    const id = queue.send('a');

    // Act
    const first = queue.receive(10);
    const during = queue.receive(10);
    clock.now += 30_000;
    const again = queue.receive(10);

    // Assess
    expect(first).toEqual([expect.objectContaining({ messageId: id, body: 'a', receiveCount: 1 })]);
    expect(during).toEqual([]);
    expect(again).toEqual([expect.objectContaining({ messageId: id, receiveCount: 2 })]);
    expect(again[0]?.receiptHandle).not.toBe(first[0]?.receiptHandle);
  });

  it('deletes by the current delivery’s receipt handle only', () => {
    // Prepare
    const { queue, clock } = queueAt();
    queue.send('a');
    const [stale] = queue.receive(1);
    clock.now += 30_000;
    const [current] = queue.receive(1);

    // Act
    const staleDeleted = queue.delete(stale?.receiptHandle ?? '');
    const currentDeleted = queue.delete(current?.receiptHandle ?? '');

    // Assess
    expect([staleDeleted, currentDeleted, queue.depth]).toEqual([false, true, 0]);
  });

  it('moves a message delivered maxReceiveCount times to the dead-letter queue instead of a further delivery', () => {
    // Prepare
    const { queue, clock } = queueAt({ maxReceiveCount: 2 });
    queue.send('poison');

    // Act
    const deliveries: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      deliveries.push(queue.receive(1).length);
      clock.now += 30_000;
    }

    // Assess
    expect(deliveries).toEqual([1, 1, 0]);
    expect(queue.deadLetters()).toEqual([expect.objectContaining({ body: 'poison', receiveCount: 2, reason: null })]);
    expect(queue.depth).toBe(0);
  });

  it('delivers a duplicate once more after the delete, at least once as SQS does', () => {
    // Prepare
    const { queue } = queueAt({ duplicate: true });
    const id = queue.send('a');

    // Act
    const [first] = queue.receive(1);
    queue.delete(first?.receiptHandle ?? '');
    const [second] = queue.receive(1);
    queue.delete(second?.receiptHandle ?? '');

    // Assess
    expect([first?.messageId, second?.messageId]).toEqual([id, id]);
    expect(queue.depth).toBe(0);
  });

  it('keeps the reason of a message the consumer dead-letters itself', () => {
    // Prepare
    const { queue } = queueAt();
    queue.send('bad');
    const [message] = queue.receive(1);

    // Act
    queue.sendToDeadLetters(message as QueueMessage, 'detail.nodeIp 1.2.3 must be an IPv4 address');

    // Assess
    expect(queue.deadLetters()).toEqual([
      expect.objectContaining({ body: 'bad', reason: 'detail.nodeIp 1.2.3 must be an IPv4 address' }),
    ]);
  });
});

describe('draining the local queue', () => {
  it('deletes what the starter handled, redelivers what it reported failed, and stops when empty', async () => {
    // Prepare: the starter fails message b on its first delivery only
    const { queue, clock } = queueAt();
    queue.send('a');
    const b = queue.send('b');
    const calls: string[][] = [];
    const start = async (messages: readonly QueueMessage[]): Promise<StarterResult> => {
      calls.push(messages.map((m) => `${m.body}#${m.receiveCount}`));
      const failed = messages.filter((m) => m.messageId === b && m.receiveCount === 1);
      return {
        batchItemFailures: failed.map((m) => ({ itemIdentifier: m.messageId })),
        outcomes: messages.map((m) => ({
          messageId: m.messageId,
          eventId: m.body,
          kind: 'onboard',
          nodeName: null,
          result: failed.includes(m) ? 'retry' : 'started',
        })),
      };
    };

    // Act
    const outcomes = await drainQueue(queue, start, {
      batchSize: 10,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
      },
    });

    // Assess
    expect(calls).toEqual([['a#1', 'b#1'], ['b#2']]);
    expect(outcomes.map((o) => `${o.eventId}:${o.result}`)).toEqual(['a:started', 'b:retry', 'b:started']);
    expect(queue.depth).toBe(0);
  });
});

describe('the local inventory engine', () => {
  it('runs a name once: a second start finds the first and tells whether its input is the same', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-inventory-engine-'));
    const ran: string[] = [];
    const fakeRun = async (options: RunWorkflowOptions): Promise<WorkflowResult> => {
      ran.push(`${options.workflow}:${options.executionName}`);
      return { status: 'SUCCEEDED', output: { ok: true }, error: null, events: [] };
    };
    const engine = new LocalInventoryEngine({
      executionsDir: dir,
      environment: {},
      waits: 'compressed',
      runWorkflow: fakeRun,
    });

    try {
      // Act
      const first = await engine.start('onboard-node', 'inv-1', { nodeName: 'edge-a' });
      const again = await engine.start('onboard-node', 'inv-1', { nodeName: 'edge-a' });
      const other = await engine.start('onboard-node', 'inv-1', { nodeName: 'edge-b' });
      const settled = await engine.settled();

      // Assess
      expect([first, again, other]).toEqual([
        { existed: false, sameInput: true },
        { existed: true, sameInput: true },
        { existed: true, sameInput: false },
      ]);
      expect(ran).toEqual(['onboard-node:inv-1']);
      expect(settled.map(({ run, result }) => [run.operationId, result.status])).toEqual([
        ['onboard-node:inv-1', 'SUCCEEDED'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
