import * as z from './zod';

/*
 * The schemas of the inventory settings (settings.ts declares the settings themselves): which fields a device
 * inventory event carries, and how a site maps its own field names onto them.
 */

/** The fields the inventory starter reads from an event's `detail` (docs/events.md). */
export const INVENTORY_FIELDS = ['deviceId', 'instanceId', 'nodeName', 'nodeIp', 'labels', 'kubeedgeVersion'] as const;
export type InventoryField = (typeof INVENTORY_FIELDS)[number];

/** A dotted path inside the event's `detail`: `hostname`, `network.primaryIp`, `ssm.managedInstanceId`. */
const DETAIL_PATH = z.string().check(
  z.regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, {
    error: 'must be a dotted path inside the event detail, like network.primaryIp',
  }),
  z.maxLength(256, { error: 'must be at most 256 characters' }),
);

/**
 * Where each field is read from, for the fields a site names differently; a field left out is read from `detail`
 * under its own name. Given as an object in the CDK context and as `field=path,…` in the environment.
 */
export const InventoryFieldMap = z.readonly(
  z.partialRecord(z.enum(INVENTORY_FIELDS, { error: `must map one of ${INVENTORY_FIELDS.join(', ')}` }), DETAIL_PATH, {
    error: `must map fields (${INVENTORY_FIELDS.join(', ')}) to dotted paths, as field=path pairs`,
  }),
);
export type InventoryFieldMap = z.output<typeof InventoryFieldMap>;

/**
 * `nodeName=hostname,nodeIp=network.primaryIp`. A pair without `=` is handed to the schema as it is, whose
 * message then says what the value must look like.
 */
export const inventoryFieldMapCodec = {
  decode: (value: string): unknown => {
    const pairs = value
      .split(',')
      .map((pair) => pair.trim())
      .filter(Boolean);
    if (pairs.some((pair) => pair.indexOf('=') <= 0)) return value;
    return Object.fromEntries(pairs.map((pair) => pair.split('=', 2).map((part) => part.trim())));
  },
  encode: (value: InventoryFieldMap): string =>
    Object.entries(value)
      .map(([field, path]) => `${field}=${path}`)
      .join(','),
};

/** A bounded whole number with a default: the message names the bounds. */
export function boundedCount(min: number, max: number, fallback: number) {
  const reason = `must be a whole number from ${min} to ${max}`;
  return z._default(
    z.int({ error: reason }).check(z.minimum(min, { error: reason }), z.maximum(max, { error: reason })),
    fallback,
  );
}

/** An EventBridge event bus name (or `default`). */
export const EVENT_BUS_NAME = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9._/-]{1,256}$/, { error: 'must be an event bus name: 1-256 of letters, digits, . _ / -' }),
  );

/** An EventBridge event source, as the inventory system sets it. */
export const EVENT_SOURCE = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._/-]{1,256}$/, { error: 'must be an event source: 1-256 of letters, digits, . _ / -' }));
