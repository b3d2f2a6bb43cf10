import type { V1Node } from '@kubernetes/client-node';
import { INSTANCE_ID_ANNOTATION, MANAGED_LABEL } from '../shared/domain';
import { formatProblem } from '../shared/errors';
import type { InventoryFieldMap } from '../shared/inventory-settings';
import { redactSecrets } from '../shared/redact';
import { BATCH_WORKFLOWS, type BatchItem, batchExecutionName, batchInput } from './batch';
import { type InventoryEvent, type InventoryKind, parseInventoryEvent } from './event';
import type { QueueMessage, StarterPorts } from './ports';

/*
 * The inventory starter: one queue batch of `Device Registered` / `Device Retired` events in, executions started,
 * and the messages to deliver again out (SQS's partial batch response). Each event goes one of these ways:
 * - malformed: sent to the dead-letter queue at once with the reason naming the field, never retried;
 * - nothing to do: its node is already joined and Ready (Registered), or no node carries its instance (Retired);
 * - started: alone, as `onboard-node` / `remove-node` named after the event id; or, when more than one event of
 *   its kind arrived together, as one item of one `batch-onboard` / `batch-remove` execution, the item named after
 *   the event id, so a device can be followed from its event to its per-node result;
 * - already started: a redelivery (SQS delivers at least once) found the execution of that name: nothing new runs;
 * - retried: the engine or the cluster could not be reached, or another event of the burst names the same node,
 *   IP or instance; the queue delivers it again after its visibility timeout, up to its receive count.
 */

/** The workflow each kind starts when it arrives alone. */
export const SINGLE_WORKFLOWS: Readonly<Record<InventoryKind, string>> = Object.freeze({
  onboard: 'onboard-node',
  remove: 'remove-node',
});

/** How one message ended, for the log and for `edgekeeper inventory emit`. */
export interface EventOutcome {
  readonly messageId: string;
  /** null when the body had no readable event id */
  readonly eventId: string | null;
  readonly kind: InventoryKind | null;
  readonly nodeName: string | null;
  readonly result: 'started' | 'already-started' | 'no-op' | 'dead-letter' | 'retry';
  /** `<workflow>:<executionName>` of the execution that carries it */
  readonly operationId?: string;
  /** its item in a batch execution (the batch's per-node result is keyed by it) */
  readonly itemId?: string;
  readonly reason?: string;
}

export interface StarterResult {
  /** SQS partial batch response: these messages are delivered again; every other one is deleted */
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  readonly outcomes: EventOutcome[];
}

export interface StarterOptions {
  readonly fieldMap: InventoryFieldMap;
}

/** An event the batch will start, with every message that carried it (a duplicate delivery shares its fate). */
interface Pending {
  readonly event: InventoryEvent;
  readonly messages: QueueMessage[];
  nodeName: string | null;
}

/** Handles one queue batch. Never throws: a failure is a retried message, and said in the log. */
export async function startFromInventory(
  messages: readonly QueueMessage[],
  ports: StarterPorts,
  options: StarterOptions,
): Promise<StarterResult> {
  const outcomes: EventOutcome[] = [];
  const byEvent = new Map<string, Pending>();
  for (const message of messages) {
    const parsed = parseInventoryEvent(message.body, options.fieldMap);
    if (!parsed.ok) {
      const reason = parsed.problems.map(formatProblem).join('; ');
      outcomes.push(await deadLetter(message, parsed.eventId, reason, ports));
      continue;
    }
    // the same event twice in one batch (at-least-once delivery): one start serves both messages
    const known = byEvent.get(parsed.event.eventId);
    if (known) known.messages.push(message);
    else byEvent.set(parsed.event.eventId, { event: parsed.event, messages: [message], nodeName: null });
  }

  const toStart: Pending[] = [];
  for (const pending of byEvent.values()) {
    const decided = await decide(pending, ports);
    if (decided) outcomes.push(...decided);
    else toStart.push(pending);
  }
  for (const kind of ['onboard', 'remove'] as const) {
    const group = toStart.filter((pending) => pending.event.kind === kind);
    if (group.length === 1) outcomes.push(...(await startAlone(group[0] as Pending, ports)));
    else if (group.length > 1) outcomes.push(...(await startBatch(kind, group, ports)));
  }

  const retried = outcomes.filter((outcome) => outcome.result === 'retry').map((o) => o.messageId);
  return { batchItemFailures: [...new Set(retried)].map((itemIdentifier) => ({ itemIdentifier })), outcomes };
}

/**
 * Whether an event needs no execution: a Registered device whose node is joined, managed and Ready on this very
 * instance; a Retired device that no node carries. Returns its outcomes then, else fills in the node to remove and
 * returns null. A cluster that cannot be read retries the event.
 */
async function decide(pending: Pending, ports: StarterPorts): Promise<EventOutcome[] | null> {
  const { event } = pending;
  try {
    if (event.kind === 'onboard') {
      pending.nodeName = event.request.nodeName;
      const node = await ports.nodes.readNode(event.request.nodeName);
      if (!node || !isHealthyOn(node, event.request.instanceId ?? '')) return null;
      const reason = `node ${event.request.nodeName} is already joined on ${event.request.instanceId} and Ready: nothing to do`;
      ports.log.info('inventory event needs no execution', { ...keysOf(event), reason });
      return outcomesOf(pending, { result: 'no-op', reason });
    }
    const node = event.nodeName
      ? await ports.nodes.readNode(event.nodeName)
      : await ports.nodes.nodeOfInstance(event.instanceId);
    if (node?.metadata?.name) {
      pending.nodeName = node.metadata.name;
      return null;
    }
    if (event.nodeName) {
      // a named node that is gone may still hold locks and routing: remove-node cleans what is left
      pending.nodeName = event.nodeName;
      return null;
    }
    const reason = `no node carries instance ${event.instanceId}: nothing to remove`;
    ports.log.info('inventory event needs no execution', { ...keysOf(event), reason });
    return outcomesOf(pending, { result: 'no-op', reason });
  } catch (error) {
    return retry(pending, `reading the cluster failed: ${messageOf(error)}`, ports);
  }
}

/** Joined by edgekeeper on this instance, and Ready. */
function isHealthyOn(node: V1Node, instanceId: string): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const managed = node.metadata?.labels?.[MANAGED_LABEL] === 'true';
  return ready && managed && node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION] === instanceId;
}

/** The workflow input an event starts. A retired device's workloads move elsewhere: its node is drained. */
export function workflowInput(event: InventoryEvent, nodeName: string): unknown {
  if (event.kind === 'onboard') return event.request;
  return { mode: 'remove', nodeName, instanceId: event.instanceId, drain: true, force: false };
}

async function startAlone(pending: Pending, ports: StarterPorts): Promise<EventOutcome[]> {
  const { event } = pending;
  const workflow = SINGLE_WORKFLOWS[event.kind];
  const operationId = `${workflow}:${event.itemId}`;
  try {
    const started = await ports.engine.start(workflow, event.itemId, workflowInput(event, pending.nodeName ?? ''));
    if (started.existed && !started.sameInput) {
      // an inventory that reuses an event id for another payload: retrying cannot help, a person must look
      const reason = `execution ${event.itemId} already exists with another input: the event id ${event.eventId} was reused for another payload`;
      return Promise.all(pending.messages.map((message) => deadLetter(message, event.eventId, reason, ports)));
    }
    const result = started.existed ? 'already-started' : 'started';
    ports.log.info(started.existed ? 'inventory event already started its execution' : 'inventory event started', {
      ...keysOf(event),
      operationId,
    });
    return outcomesOf(pending, { result, operationId });
  } catch (error) {
    return retry(pending, `starting ${operationId} failed: ${messageOf(error)}`, ports);
  }
}

/**
 * One batch execution for a burst of one kind. The batch refuses requests that share a node, an IP or an
 * instance, so those wait for a later delivery (by then the first has run, and the node is Ready or locked).
 */
async function startBatch(
  kind: InventoryKind,
  group: readonly Pending[],
  ports: StarterPorts,
): Promise<EventOutcome[]> {
  const outcomes: EventOutcome[] = [];
  const accepted: Pending[] = [];
  const claimed = new Map<string, string>();
  for (const pending of group) {
    const keys = collisionKeys(pending);
    const clash = keys.find((key) => claimed.has(key));
    if (clash) {
      const reason = `${clash.replace(':', ' ')} is also named by event ${claimed.get(clash)} of this burst: retried after it`;
      outcomes.push(...retry(pending, reason, ports));
      continue;
    }
    for (const key of keys) claimed.set(key, pending.event.eventId);
    accepted.push(pending);
  }
  if (accepted.length === 1) return [...outcomes, ...(await startAlone(accepted[0] as Pending, ports))];

  const items: BatchItem[] = accepted.map((pending) => ({
    itemId: pending.event.itemId,
    input: workflowInput(pending.event, pending.nodeName ?? ''),
  }));
  const workflow = BATCH_WORKFLOWS[kind];
  const name = batchExecutionName(
    kind,
    items.map((item) => item.itemId),
  );
  const operationId = `${workflow}:${name}`;
  try {
    const started = await ports.engine.start(workflow, name, batchInput(kind, items));
    // a batch's name is a hash of its items' ids: the same name with another input would be a hash collision
    if (started.existed && !started.sameInput) throw new Error(`execution ${name} already exists with another input`);
    for (const pending of accepted) {
      ports.log.info(
        started.existed ? 'inventory event already started its batch' : 'inventory event started in a batch',
        {
          ...keysOf(pending.event),
          operationId,
          itemId: pending.event.itemId,
        },
      );
      outcomes.push(
        ...outcomesOf(pending, {
          result: started.existed ? 'already-started' : 'started',
          operationId,
          itemId: pending.event.itemId,
        }),
      );
    }
  } catch (error) {
    for (const pending of accepted)
      outcomes.push(...retry(pending, `starting ${operationId} failed: ${messageOf(error)}`, ports));
  }
  return outcomes;
}

/** What two requests of one batch must not share. */
function collisionKeys(pending: Pending): string[] {
  const { event } = pending;
  const keys = [`node:${pending.nodeName ?? ''}`];
  if (event.kind === 'onboard') {
    keys.push(`ip:${event.request.nodeIp}`);
    if (event.request.instanceId) keys.push(`instance:${event.request.instanceId}`);
  } else keys.push(`instance:${event.instanceId}`);
  return keys;
}

async function deadLetter(
  message: QueueMessage,
  eventId: string | null,
  reason: string,
  ports: StarterPorts,
): Promise<EventOutcome> {
  const base = { messageId: message.messageId, eventId, kind: null, nodeName: null, reason };
  try {
    await ports.deadLetters.send(message, reason);
    ports.log.warn('inventory event sent to the dead-letter queue', {
      messageId: message.messageId,
      eventId,
      reason,
    });
    return { ...base, result: 'dead-letter' };
  } catch (error) {
    // it comes back and is read again; after the queue's receive count, the queue itself moves it there
    const why = `${reason}; sending it to the dead-letter queue failed: ${messageOf(error)}`;
    ports.log.warn('inventory event could not be sent to the dead-letter queue', {
      messageId: message.messageId,
      eventId,
      reason: why,
    });
    return { ...base, result: 'retry', reason: why };
  }
}

function retry(pending: Pending, reason: string, ports: StarterPorts): EventOutcome[] {
  ports.log.warn('inventory event retried', { ...keysOf(pending.event), reason });
  return outcomesOf(pending, { result: 'retry', reason });
}

function outcomesOf(pending: Pending, fields: Pick<EventOutcome, 'result' | 'operationId' | 'itemId' | 'reason'>) {
  return pending.messages.map(
    (message): EventOutcome => ({
      messageId: message.messageId,
      eventId: pending.event.eventId,
      kind: pending.event.kind,
      nodeName: pending.nodeName,
      ...fields,
    }),
  );
}

/** What every log line of an event carries: enough to find it in the inventory and in the cluster. */
function keysOf(event: InventoryEvent): Record<string, unknown> {
  return {
    eventId: event.eventId,
    deviceId: event.deviceId,
    kind: event.kind,
    instanceId: event.kind === 'onboard' ? event.request.instanceId : event.instanceId,
    nodeName: event.kind === 'onboard' ? event.request.nodeName : event.nodeName,
  };
}

function messageOf(error: unknown): string {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  return redactSecrets(`${name}: ${message}`);
}
