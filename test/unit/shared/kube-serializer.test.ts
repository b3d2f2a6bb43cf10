import type { V1Lease, V1NodeList } from '@kubernetes/client-node';
import * as clientNode from '@kubernetes/client-node';
// client-node's generated serializer, the reference: only the test loads it (the module under test must not)
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { MODEL_TYPES } from '../../../functions/shared/kube-models/generated/model-types';
import { deserialize, serialize } from '../../../functions/shared/kube-models/serializer';
import { modelTypes, modelTypesCurrent, walkModels } from '../../../scripts/embed-kube-models';

const ARRAY = /^Array<(.*)>$/;
const MAP = /^\{ \[key: string\]: (.*); \}$/;
const WRAPPED = /^(.*) \| (?:null|undefined)$/;

/**
 * A model's attributes as client-node's class declares them, so that the samples do not depend on the table under
 * test (an attribute the table lost would be missing from both sides).
 */
function classAttributes(type: string): ClassAttribute[] | undefined {
  const model = (clientNode as unknown as Record<string, { getAttributeTypeMap?: () => ClassAttribute[] }>)[type];
  return model?.getAttributeTypeMap?.();
}

interface ClassAttribute {
  name: string;
  baseName: string;
  type: string;
}

/**
 * From this depth on a model-typed attribute gets null instead of a sample: bounds a recursive model, and tests null.
 * Every model is sampled from depth 0 too, so none goes unchecked.
 */
const MAX_DEPTH = 8;

/**
 * A wire object of `type` with every attribute filled (by its wire name), arrays of two, maps of two keys, dates
 * alternately as date-time and calendar-day strings, and one property no model declares. `dates` counts the
 * date strings written, which must come back as Dates.
 */
function wireSample(type: string): { wire: unknown; dates: number } {
  let counter = 0;
  let dates = 0;
  const fill = (typeName: string, attribute: string, depth: number): unknown => {
    counter += 1;
    const wrapped = WRAPPED.exec(typeName);
    if (wrapped) return fill(wrapped[1] as string, attribute, depth);
    const array = ARRAY.exec(typeName);
    if (array) return [fill(array[1] as string, attribute, depth), fill(array[1] as string, attribute, depth)];
    const map = MAP.exec(typeName);
    if (map)
      return { first: fill(map[1] as string, attribute, depth), second: fill(map[1] as string, attribute, depth) };
    switch (typeName) {
      case 'string':
        return `${attribute}-${counter}`;
      case 'number':
        return counter;
      case 'boolean':
        return counter % 2 === 0;
      case 'any':
        return { free: [attribute, counter], form: true };
      case 'Date':
        dates += 1;
        return counter % 2 === 0 ? `2024-03-${10 + (counter % 18)}T06:07:08Z` : `2024-03-${10 + (counter % 18)}`;
      case 'V1MicroTime':
        return '2024-03-05T06:07:08.123456Z';
      case 'IntOrString':
        return counter % 2 === 0 ? 8080 : '25%';
    }
    const attributes = classAttributes(typeName);
    if (attributes === undefined) throw new Error(`the sample does not know ${typeName}`);
    if (depth >= MAX_DEPTH) return null;
    const object: Record<string, unknown> = { undeclared: 'left out by both' };
    for (const { name, baseName, type: attributeType } of attributes) {
      object[baseName] = fill(attributeType, name, depth + 1);
    }
    return object;
  };
  const wire = fill(type, type, 0);
  return { wire, dates };
}

/** The values of a model object (property names) at the places its type declares Dates. */
function datesIn(value: unknown, type: string): unknown[] {
  if (value === null || value === undefined) return [];
  const wrapped = WRAPPED.exec(type);
  if (wrapped) return datesIn(value, wrapped[1] as string);
  const array = ARRAY.exec(type);
  if (array) return (value as unknown[]).flatMap((item) => datesIn(item, array[1] as string));
  const map = MAP.exec(type);
  if (map) return Object.values(value as object).flatMap((item) => datesIn(item, map[1] as string));
  if (type === 'Date') return [value];
  return (classAttributes(type) ?? []).flatMap(({ name, type: attributeType }) =>
    datesIn((value as Record<string, unknown>)[name], attributeType),
  );
}

const theirDeserialize = (data: unknown, type: string, format = ''): unknown =>
  ObjectSerializer.deserialize(data, type, format);
const theirSerialize = (data: unknown, type: string, format = ''): unknown =>
  ObjectSerializer.serialize(data, type, format);

describe("the Kubernetes model serializer, against client-node's generated one", () => {
  it.each(Object.keys(MODEL_TYPES))('reads and writes %s as client-node does', (type) => {
    // Arrange
    const { wire, dates } = wireSample(type);

    // Act
    const ours = deserialize(wire, type);
    const theirs = theirDeserialize(wire, type);

    // Assess
    expect(ours).toEqual(theirs);
    const found = datesIn(ours, type);
    expect(found).toHaveLength(dates);
    for (const date of found) expect(date).toBeInstanceOf(Date);
    const written = serialize(ours, type);
    expect(written).toEqual(theirSerialize(theirs, type));
    expect(JSON.stringify(written)).toBe(JSON.stringify(theirSerialize(theirs, type)));
  });

  it('covers the models every endpoint sends and answers', () => {
    // Assess
    for (const root of ['V1Lease', 'V1NodeList', 'V1PodList', 'V1DeleteOptions', 'V1Eviction', 'V1APIResourceList']) {
      expect(MODEL_TYPES).toHaveProperty([root]);
    }
    expect(Object.keys(MODEL_TYPES).length).toBeGreaterThan(100);
  });

  it('reads a Lease: metadata dates become Dates, micro-time renew and acquire times stay strings', () => {
    // Arrange: client-node's serializer has no model for V1MicroTime, so it passes those fields through
    const wire = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'edge-1', creationTimestamp: '2024-03-05T06:07:08Z' },
      spec: {
        holderIdentity: 'exec-1',
        leaseDurationSeconds: 300,
        acquireTime: '2024-03-05T06:07:08.123456Z',
        renewTime: '2024-03-05T06:09:08.654321Z',
      },
    };

    // Act
    const lease = deserialize(wire, 'V1Lease') as V1Lease;

    // Assess
    expect(lease.metadata?.creationTimestamp).toEqual(new Date('2024-03-05T06:07:08Z'));
    expect(lease.spec?.acquireTime).toBe('2024-03-05T06:07:08.123456Z');
    expect(lease.spec?.renewTime).toBe('2024-03-05T06:09:08.654321Z');
    expect(lease).toEqual(theirDeserialize(wire, 'V1Lease'));
  });

  it('writes a Lease: Dates of the metadata as ISO strings, micro-time Dates unchanged for JSON to write', () => {
    // Arrange
    const renewed = new Date('2024-03-05T06:09:08.654Z');
    const lease: V1Lease = {
      metadata: { name: 'edge-1', creationTimestamp: new Date('2024-03-05T06:07:08Z') },
      spec: { holderIdentity: 'exec-1', renewTime: renewed, acquireTime: renewed },
    };

    // Act
    const written = serialize(lease, 'V1Lease') as { metadata: Record<string, unknown>; spec: Record<string, unknown> };

    // Assess
    expect(written.metadata.creationTimestamp).toBe('2024-03-05T06:07:08.000Z');
    expect(written.spec.renewTime).toBe(renewed);
    expect(JSON.stringify(written)).toBe(JSON.stringify(theirSerialize(lease, 'V1Lease')));
    expect(JSON.parse(JSON.stringify(written)).spec.renewTime).toBe('2024-03-05T06:09:08.654Z');
  });

  it('maps the wire name continue to the property _continue, and back', () => {
    // Arrange
    const wire = { metadata: { continue: 'next-page', resourceVersion: '42' }, items: [] };

    // Act
    const list = deserialize(wire, 'V1NodeList') as V1NodeList;
    const written = serialize(list, 'V1NodeList') as { metadata: Record<string, unknown> };

    // Assess
    expect(list.metadata).toEqual({ _continue: 'next-page', resourceVersion: '42' });
    expect(list.metadata).not.toHaveProperty('continue');
    expect(written.metadata.continue).toBe('next-page');
    expect(written.metadata).not.toHaveProperty('_continue');
  });

  it('passes unknown types, any, IntOrString and primitives through unchanged, whatever the case', () => {
    // Arrange
    const object = { anything: ['goes', 1], creationTimestamp: '2024-03-05T06:07:08Z' };

    // Assess
    for (const type of ['V1NotAModel', 'any', 'Any', 'IntOrString', 'V1MicroTime', 'object', 'String']) {
      expect(deserialize(object, type)).toBe(object);
      expect(serialize(object, type)).toBe(object);
      expect(theirDeserialize(object, type)).toBe(object);
      expect(theirSerialize(object, type)).toBe(object);
    }
  });

  it('passes an inherited key of Object through rather than reading it as a model', () => {
    // Arrange: client-node's serializer looks the type up in a plain object and throws on `constructor`
    const object = { name: 'x' };

    // Assess
    expect(deserialize(object, 'constructor')).toBe(object);
    expect(serialize(object, 'toString')).toBe(object);
  });

  it('keeps null, answers undefined as undefined and leaves absent attributes out', () => {
    // Arrange
    const wire = { metadata: null, spec: { unschedulable: null, taints: [null, { key: 'k', effect: 'NoSchedule' }] } };

    // Act
    const node = deserialize(wire, 'V1Node');

    // Assess
    expect(deserialize(null, 'V1Node')).toBeNull();
    expect(deserialize(undefined, 'V1Node')).toBeUndefined();
    expect(serialize(null, 'V1Node')).toBeNull();
    expect(serialize(undefined, 'Array<V1Node>')).toBeUndefined();
    expect(node).toStrictEqual({
      metadata: null,
      spec: { unschedulable: null, taints: [null, { key: 'k', effect: 'NoSchedule' }] },
    });
    expect(node).toEqual(theirDeserialize(wire, 'V1Node'));
  });

  it('writes every declared attribute, undefined when absent, in the order of the class', () => {
    // Act
    const written = serialize({ kind: 'Node', apiVersion: 'v1', undeclared: true }, 'V1Node');

    // Assess
    expect(Object.keys(written as object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(JSON.stringify(written)).toBe('{"apiVersion":"v1","kind":"Node"}');
    expect(Object.keys(written as object)).toEqual(Object.keys(theirSerialize({ kind: 'Node' }, 'V1Node') as object));
  });

  it('writes a Date of format date as its local calendar day, through arrays, maps and optional types', () => {
    // Arrange
    const day = new Date(2024, 2, 5, 23, 30);

    // Act
    const written = [
      serialize(day, 'Date', 'date'),
      serialize([day, day], 'Array<Date>', 'date'),
      serialize({ a: day }, '{ [key: string]: Date; }', 'date'),
      serialize(day, 'Date | undefined', 'date'),
      serialize(day, 'Date | null'),
    ];

    // Assess
    expect(written).toEqual([
      '2024-03-05',
      ['2024-03-05', '2024-03-05'],
      { a: '2024-03-05' },
      '2024-03-05',
      day.toISOString(),
    ]);
    expect(written).toEqual([
      theirSerialize(day, 'Date', 'date'),
      theirSerialize([day, day], 'Array<Date>', 'date'),
      theirSerialize({ a: day }, '{ [key: string]: Date; }', 'date'),
      theirSerialize(day, 'Date | undefined', 'date'),
      theirSerialize(day, 'Date | null'),
    ]);
    expect(serialize('not a Date', 'Date')).toBe('not a Date');
  });

  it('reads a date of either format as a Date, through arrays and maps', () => {
    // Act
    const read = [
      deserialize('2024-03-05', 'Date', 'date'),
      deserialize(['2024-03-05T06:07:08Z'], 'Array<Date>'),
      deserialize({ a: '2024-03-05' }, '{ [key: string]: Date; }', 'date'),
    ];

    // Assess
    expect(read).toEqual([new Date('2024-03-05'), [new Date('2024-03-05T06:07:08Z')], { a: new Date('2024-03-05') }]);
    expect(read).toEqual([
      theirDeserialize('2024-03-05', 'Date', 'date'),
      theirDeserialize(['2024-03-05T06:07:08Z'], 'Array<Date>'),
      theirDeserialize({ a: '2024-03-05' }, '{ [key: string]: Date; }', 'date'),
    ]);
  });

  it('answers plain objects where client-node answers instances of its model classes', () => {
    // Arrange
    const wire = { metadata: { name: 'edge-1' } };

    // Act
    const ours = deserialize(wire, 'V1Node') as { metadata: object };

    // Assess
    expect(Object.getPrototypeOf(ours)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(ours.metadata)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(theirDeserialize(wire, 'V1Node'))).not.toBe(Object.prototype);
  });
});

describe('the generated model table', () => {
  it('is what the generator makes of the installed client-node (run `npm run embed` when it is not)', () => {
    // Assess
    expect(MODEL_TYPES).toEqual(modelTypes());
    expect(modelTypesCurrent()).toBe(true);
  });

  it('names no type that client-node would transform but the table leaves out', () => {
    // Act
    const { passedThrough } = walkModels();

    // Assess: a new name here needs a look at how both serializers treat it
    expect(passedThrough).toEqual(['any', 'boolean', 'IntOrString', 'number', 'string', 'V1MicroTime']);
  });

  it('holds only the models reachable from the roots it is given', () => {
    // Act
    const { models } = walkModels(['V1Lease']);

    // Assess
    expect(Object.keys(models)).toEqual([
      'V1Lease',
      'V1LeaseSpec',
      'V1ManagedFieldsEntry',
      'V1ObjectMeta',
      'V1OwnerReference',
    ]);
    expect(models.V1Lease).toEqual(MODEL_TYPES.V1Lease);
  });
});
