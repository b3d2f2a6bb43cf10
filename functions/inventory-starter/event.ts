import { createHash } from 'node:crypto';
import { instanceIdRule, nodeNameRule } from '../shared/domain';
import type { Problem } from '../shared/errors';
import type { InventoryField, InventoryFieldMap } from '../shared/inventory-settings';
import { OnboardRequest } from '../shared/schemas';
import { problemsFromIssues } from '../shared/zod-problems';

/*
 * A device inventory event as the starter reads it: the EventBridge envelope that SQS delivers as the message body,
 * its `detail` read through the site's field map, checked with the same schema as every other onboarding request.
 * A problem names the field as the event carries it (`detail.network.primaryIp`), so the inventory's owner can
 * find it in their own payload.
 */

/** The detail-types edgekeeper acts on, and what each does. */
export const DETAIL_TYPES = {
  'Device Registered': 'onboard',
  'Device Retired': 'remove',
} as const;
export type InventoryDetailType = keyof typeof DETAIL_TYPES;
export type InventoryKind = (typeof DETAIL_TYPES)[InventoryDetailType];

/** A Registered event, ready to start onboard-node. */
export interface OnboardEvent {
  readonly kind: 'onboard';
  readonly eventId: string;
  /** the execution (or batch item) this event starts: derived from the event id alone */
  readonly itemId: string;
  readonly deviceId: string | null;
  readonly request: OnboardRequest;
}

/** A Retired event: the instance whose node goes away; the node is found from the instance when not named. */
export interface RemoveEvent {
  readonly kind: 'remove';
  readonly eventId: string;
  readonly itemId: string;
  readonly deviceId: string | null;
  readonly instanceId: string;
  readonly nodeName: string | null;
}

export type InventoryEvent = OnboardEvent | RemoveEvent;

export type ParsedEvent =
  | { readonly ok: true; readonly event: InventoryEvent }
  /** the event id, when the envelope had one: the DLQ entry and the log name it */
  | { readonly ok: false; readonly eventId: string | null; readonly problems: readonly Problem[] };

/** The batch workflows' rule for a request id, which names its child execution. */
const ITEM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Where edgekeeper reads each field by default: `detail.<field>`. */
export const DEFAULT_FIELD_PATHS: Readonly<Record<InventoryField, string>> = Object.freeze({
  deviceId: 'deviceId',
  instanceId: 'instanceId',
  nodeName: 'nodeName',
  nodeIp: 'nodeIp',
  labels: 'labels',
  kubeedgeVersion: 'kubeedgeVersion',
});

/**
 * The execution name an event starts, alone or as a batch item (a batch names its child after the item id): `inv-`
 * and the event id when that fits the batch's id rule (1-64 of A-Z a-z 0-9 - _: a rollback adds a suffix), else
 * `inv-` and a hash of it. The same event, delivered again, gives the same name: Step Functions then starts
 * nothing new.
 */
export function itemIdOf(eventId: string): string {
  const direct = `inv-${eventId}`;
  if (ITEM_ID_PATTERN.test(direct)) return direct;
  return `inv-${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

/** Reads one message body; every problem names the field as the event carries it, its value and the reason. */
export function parseInventoryEvent(body: string, fieldMap: InventoryFieldMap): ParsedEvent {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    return reject(null, [{ field: 'body', value: body, reason: 'is not JSON: expected an EventBridge event' }]);
  }
  if (!isRecord(envelope)) {
    return reject(null, [{ field: 'body', value: envelope, reason: 'must be an EventBridge event (a JSON object)' }]);
  }
  const id = envelope.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    return reject(null, [{ field: 'id', value: id, reason: 'must be the event id: a string of 1-256 characters' }]);
  }
  const detailType = envelope['detail-type'];
  if (typeof detailType !== 'string' || !Object.hasOwn(DETAIL_TYPES, detailType)) {
    return reject(id, [
      { field: 'detail-type', value: detailType, reason: `must be ${Object.keys(DETAIL_TYPES).join(' or ')}` },
    ]);
  }
  const detail = envelope.detail;
  if (!isRecord(detail)) {
    return reject(id, [{ field: 'detail', value: detail, reason: 'must be an object' }]);
  }
  const paths = { ...DEFAULT_FIELD_PATHS, ...fieldMap };
  const read = (field: InventoryField) => valueAtPath(detail, paths[field]);
  const named = (field: string) =>
    Object.hasOwn(paths, field) ? `detail.${paths[field as InventoryField]}` : `detail.${field}`;
  const deviceId = read('deviceId');
  const problems: Problem[] = [];
  if (deviceId !== undefined && (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 256)) {
    problems.push({ field: named('deviceId'), value: deviceId, reason: 'must be a string of 1-256 characters' });
  }
  const itemId = itemIdOf(id);
  const device = typeof deviceId === 'string' ? deviceId : null;

  if (DETAIL_TYPES[detailType as InventoryDetailType] === 'remove') {
    const instanceId = read('instanceId');
    const nodeName = read('nodeName');
    const instanceReason = typeof instanceId === 'string' ? instanceIdRule(instanceId) : 'is required (a string)';
    if (instanceReason) problems.push({ field: named('instanceId'), value: instanceId, reason: instanceReason });
    if (nodeName !== undefined) {
      const nameReason = typeof nodeName === 'string' ? nodeNameRule(nodeName) : 'must be a string';
      if (nameReason) problems.push({ field: named('nodeName'), value: nodeName, reason: nameReason });
    }
    if (problems.length > 0) return reject(id, problems);
    return {
      ok: true,
      event: {
        kind: 'remove',
        eventId: id,
        itemId,
        deviceId: device,
        instanceId: instanceId as string,
        nodeName: (nodeName as string | undefined) ?? null,
      },
    };
  }

  const candidate: Record<string, unknown> = { mode: 'ssm' };
  for (const field of ['instanceId', 'nodeName', 'nodeIp', 'labels', 'kubeedgeVersion'] as const) {
    const value = read(field);
    if (value !== undefined) candidate[field] = value;
  }
  const parsed = OnboardRequest.safeParse(candidate);
  if (!parsed.success) {
    // the schema names its own fields; the inventory's owner needs them as the event names them
    problems.push(
      ...problemsFromIssues(parsed.error.issues, candidate).map((problem) => ({
        ...problem,
        field: renamed(problem.field, named),
      })),
    );
  }
  if (problems.length > 0 || !parsed.success) return reject(id, problems);
  return { ok: true, event: { kind: 'onboard', eventId: id, itemId, deviceId: device, request: parsed.data } };
}

/** `labels.zone` → `detail.attributes.zone` when labels are mapped to `attributes`. */
function renamed(field: string, named: (field: string) => string): string {
  const [head = field, ...rest] = field.split('.');
  return [named(head), ...rest].join('.');
}

function reject(eventId: string | null, problems: readonly Problem[]): ParsedEvent {
  return { ok: false, eventId, problems };
}

function valueAtPath(detail: Record<string, unknown>, path: string): unknown {
  let current: unknown = detail;
  for (const key of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
