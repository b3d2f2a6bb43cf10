/**
 * Writes functions/shared/kube-models/generated/model-types.ts: the attribute lists of every model class of
 * @kubernetes/client-node that the endpoints of kube-endpoints.ts reach (MODEL_ROOTS and the attributes' types, through
 * `Array<…>`, `{ [key: string]: …; }`, `… | null` and `… | undefined`), for kube-models/serializer.ts, which follows
 * client-node's generated ObjectSerializer without loading its ~700 model classes. The classes stay the source of
 * truth; a unit test fails when the generated module is stale (after a client-node upgrade, or a new endpoint).
 *
 * Usage: `npm run embed` (write) or `... --check` (exit 1 when stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as clientNode from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { MODEL_ROOTS } from '../functions/shared/kube-endpoints';
import { type ModelAttribute, type ModelTable, unwrap } from '../functions/shared/kube-models/serializer';

const TARGET = join(__dirname, '..', 'functions', 'shared', 'kube-models', 'generated', 'model-types.ts');

/** A generated model class, as its statics describe it. */
interface ModelClass {
  new (): object;
  getAttributeTypeMap(): { name: string; baseName: string; type: string; format: string }[];
  discriminator?: string;
  mapping?: Record<string, string>;
}

/** What the walk finds: the table, and the other types named along the way, which pass through unchanged. */
export interface ModelWalk {
  models: Record<string, ModelAttribute[]>;
  passedThrough: string[];
}

const exported = clientNode as unknown as Record<string, unknown>;

function modelClass(name: string): ModelClass | undefined {
  const candidate = Object.hasOwn(exported, name) ? exported[name] : undefined;
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate ? (candidate as ModelClass) : undefined;
}

/**
 * @throws Error when a type that is no model class would not pass through the generated serializer unchanged: the
 * table leaves it out, and kube-models/serializer.ts passes it through, so the two must agree
 */
function assertPassedThrough(name: string): void {
  const probe = { probe: true };
  const through =
    ObjectSerializer.deserialize(probe, name, '') === probe && ObjectSerializer.serialize(probe, name, '') === probe;
  if (!through) throw new Error(`${name} is no model class, yet client-node's ObjectSerializer transforms it`);
}

/**
 * Every model class reachable from `roots`, with its attributes in the class's order.
 * @throws Error when a reachable class has a discriminator (the serializer does not follow one), when a class is not
 * the one client-node's ObjectSerializer uses for its name, or when another type would not pass through unchanged
 */
export function walkModels(roots: readonly string[] = MODEL_ROOTS): ModelWalk {
  const models: Record<string, ModelAttribute[]> = {};
  const passedThrough = new Set<string>();
  const pending = [...roots];
  for (let type = pending.pop(); type !== undefined; type = pending.pop()) {
    const wrapped = unwrap(type);
    if (wrapped !== undefined) {
      pending.push(wrapped.inner);
      continue;
    }
    if (Object.hasOwn(models, type) || passedThrough.has(type) || type === 'Date') continue;
    const model = modelClass(type);
    if (model === undefined) {
      assertPassedThrough(type);
      passedThrough.add(type);
      continue;
    }
    if (model.discriminator != null || model.mapping != null) {
      throw new Error(`${type} has a discriminator (${model.discriminator}), which kube-models/serializer.ts ignores`);
    }
    if (!(ObjectSerializer.deserialize({}, type, '') instanceof model)) {
      throw new Error(`client-node's ObjectSerializer does not read ${type} as the model class of that name`);
    }
    models[type] = model.getAttributeTypeMap().map(({ name, baseName, type: attributeType, format }) => {
      pending.push(attributeType);
      const attribute: ModelAttribute =
        baseName !== name
          ? [name, attributeType, format, baseName]
          : format !== ''
            ? [name, attributeType, format]
            : [name, attributeType];
      return attribute;
    });
  }
  const sorted = Object.fromEntries(Object.entries(models).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { models: sorted, passedThrough: [...passedThrough].sort((a, b) => a.localeCompare(b, 'en')) };
}

/** The table the generated module should hold. */
export function modelTypes(): ModelTable {
  return walkModels().models;
}

/** The text of the generated module. */
export function modelTypesModule(): string {
  const { models, passedThrough } = walkModels();
  // a single-quoted literal JSON.parse reads back: escape what would end or change it
  const literal = JSON.stringify(models).replaceAll('\\', '\\\\').replaceAll("'", "\\'");
  return [
    "// Generated from @kubernetes/client-node's model classes by embed-kube-models.ts: run `npm run embed` after",
    '// upgrading client-node or changing kube-endpoints.ts. Biome may reformat this file; only the value matters.',
    '// What it holds and why: kube-models/serializer.ts.',
    "import type { ModelTable } from '../serializer';",
    '',
    '/**',
    ` * The attributes of the ${Object.keys(models).length} model classes the endpoints of kube-endpoints.ts reach, as`,
    ' * [name, type, format?, baseName?]. Date aside, the other types they name pass through unchanged, as in',
    " * client-node's serializer (none is a model class of its type map):",
    ` * ${passedThrough.join(', ')}.`,
    ' * A JSON string for JSON.parse: V8 reads it faster than an object literal of the same size.',
    ' */',
    `export const MODEL_TYPES: ModelTable = JSON.parse('${literal}');`,
    '',
  ].join('\n');
}

/** Whether the generated module exports the table the classes give (the value, not the text: Biome may reformat). */
export function modelTypesCurrent(): boolean {
  try {
    const loaded = require(TARGET) as { MODEL_TYPES?: unknown };
    return isDeepStrictEqual(loaded.MODEL_TYPES, modelTypes());
  } catch {
    return false;
  }
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  if (!modelTypesCurrent()) {
    console.log(`${check ? 'stale' : 'wrote'} ${TARGET}`);
    if (check) process.exit(1);
    writeFileSync(TARGET, modelTypesModule());
  }
}
