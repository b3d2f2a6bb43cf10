/*
 * @kubernetes/client-node's generated ObjectSerializer (dist/gen/models/ObjectSerializer.js), rule for rule, over a
 * type table of only the models the endpoints of kube-endpoints.ts reach (generated/model-types.ts, written by
 * scripts/embed-kube-models.ts). The generated serializer imports all ~700 model classes to read their attribute
 * lists, ~30 ms of a Lambda's cold start; the table holds the same lists as data. Nothing here may import
 * client-node at run time: that is the whole point of the module.
 *
 * The one difference: deserialize answers plain objects, not instances of the model classes. The classes have no
 * methods (their statics describe the attributes), and nothing in edgekeeper tests an answer's class.
 *
 * Not carried over, because no model in the table needs it (the generator throws if one did): the discriminator
 * lookup (`findCorrectType`) and the enum set (empty in client-node 1.4.0).
 */
import { MODEL_TYPES } from './generated/model-types';

/**
 * One attribute of a model: its property name, its type as the generated classes spell it (`V1ObjectMeta`,
 * `Array<V1Taint>`, `{ [key: string]: string; }`, `Date`, `string`, …), its format when it has one (only `date`
 * changes anything: a Date serializes as a calendar day), and the name on the wire when it differs from the
 * property name (`_continue` is `continue`).
 */
export type ModelAttribute = readonly [name: string, type: string, format?: string, baseName?: string];

/** The attributes of every model class the endpoints reach, by class name, in the classes' order. */
export type ModelTable = Readonly<Record<string, readonly ModelAttribute[]>>;

// The generated serializer's own spellings. Primitives compare case-insensitively, as there; that shows only for a
// model named like one (none is), since any other type not in the table passes through as well.
const PRIMITIVES = new Set(['string', 'boolean', 'double', 'integer', 'long', 'float', 'number', 'any']);
const MAP_PREFIX = '{ [key: string]: ';

/** A type that wraps another, as the generated classes spell it: `T | null`, `T | undefined`, `Array<T>`, a map. */
export interface WrappedType {
  readonly wrapper: 'nullable' | 'optional' | 'array' | 'map';
  readonly inner: string;
}

/** The wrapper and the type it holds, tried in the generated serializer's order; undefined: no wrapper. */
export function unwrap(type: string): WrappedType | undefined {
  if (type.endsWith(' | null')) return { wrapper: 'nullable', inner: type.slice(0, -' | null'.length) };
  if (type.endsWith(' | undefined')) return { wrapper: 'optional', inner: type.slice(0, -' | undefined'.length) };
  if (type.startsWith('Array<')) return { wrapper: 'array', inner: type.slice('Array<'.length, -'>'.length) };
  if (type.startsWith(MAP_PREFIX)) return { wrapper: 'map', inner: type.slice(MAP_PREFIX.length, -'; }'.length) };
  return undefined;
}

/**
 * The attributes of a model, or undefined for any other type (unknown types pass through unchanged, as in the
 * generated serializer). Own keys only: the table is a parsed object, and `constructor` is no model.
 */
function attributesOf(type: string): readonly ModelAttribute[] | undefined {
  return Object.hasOwn(MODEL_TYPES, type) ? MODEL_TYPES[type] : undefined;
}

/** The value of a property of whatever `data` is (the generated serializer indexes it unchecked, too). */
function propertyOf(data: unknown, key: string): unknown {
  return (data as Record<string, unknown>)[key];
}

/**
 * `data` (a model object with Dates) as the API server's JSON wants it: wire property names, Dates as ISO strings
 * (`YYYY-MM-DD` in local time for format `date`), attributes the model does not declare left out, anything of an
 * unknown type unchanged. A declared attribute without a value is kept as an undefined property (JSON drops it).
 */
export function serialize(data: unknown, type: string, format?: string): unknown {
  if (data === undefined || data === null) return data;
  if (PRIMITIVES.has(type.toLowerCase())) return data;
  const wrapped = unwrap(type);
  if (wrapped?.wrapper === 'array') {
    const items: unknown[] = [];
    for (const item of data as Iterable<unknown>) items.push(serialize(item, wrapped.inner, format));
    return items;
  }
  if (wrapped?.wrapper === 'map') {
    const map: Record<string, unknown> = {};
    // for…in as the generated serializer: inherited enumerable keys count too
    for (const key in data as object) map[key] = serialize(propertyOf(data, key), wrapped.inner, format);
    return map;
  }
  if (wrapped) return serialize(data, wrapped.inner, format);
  if (type === 'Date') {
    if (!(data instanceof Date)) return data;
    return format === 'date' ? calendarDay(data) : data.toISOString();
  }
  const attributes = attributesOf(type);
  if (attributes === undefined) return data;
  const wire: Record<string, unknown> = {};
  for (const [name, attributeType, attributeFormat, baseName = name] of attributes) {
    wire[baseName] = serialize(propertyOf(data, name), attributeType, attributeFormat);
  }
  return wire;
}

/**
 * The API server's JSON `data` as the model object of `type`: property names for wire names, Dates for date
 * strings (whatever the format), attributes the model does not declare and absent ones left out, null kept,
 * anything of an unknown type unchanged. A model answers a plain object, not an instance of its class.
 */
export function deserialize(data: unknown, type: string, format?: string): unknown {
  if (data === undefined || data === null) return data;
  if (PRIMITIVES.has(type.toLowerCase())) return data;
  const wrapped = unwrap(type);
  if (wrapped?.wrapper === 'array') {
    const items: unknown[] = [];
    for (const item of data as Iterable<unknown>) items.push(deserialize(item, wrapped.inner, format));
    return items;
  }
  if (wrapped?.wrapper === 'map') {
    const map: Record<string, unknown> = {};
    for (const key in data as object) map[key] = deserialize(propertyOf(data, key), wrapped.inner, format);
    return map;
  }
  if (wrapped) return deserialize(data, wrapped.inner, format);
  // the generated serializer parses any date string (and number) this way, format `date` included
  if (type === 'Date') return new Date(data as string);
  const attributes = attributesOf(type);
  if (attributes === undefined) return data;
  const model: Record<string, unknown> = {};
  for (const [name, attributeType, attributeFormat, baseName = name] of attributes) {
    const value = deserialize(propertyOf(data, baseName), attributeType, attributeFormat);
    if (value !== undefined) model[name] = value;
  }
  return model;
}

/** `YYYY-MM-DD` of the date in local time, as the generated serializer writes format `date` (year unpadded). */
function calendarDay(date: Date): string {
  const month = date.getMonth() + 1;
  const day = date.getDate();
  return `${date.getFullYear()}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}
