import { applyPatch as applyJsonPatch, type Operation } from 'fast-json-patch';
import { ApiError, badRequest } from './errors';
import { isJsonObject, type Json, type JsonObject } from './types';

/** The patch content types the sandbox understands, as sent by kubectl `--type merge|json|strategic`. */
export const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
] as const;

/** One of {@link PATCH_TYPES}. */
export type PatchType = (typeof PATCH_TYPES)[number];

/** Applies a patch of the given content type and returns the new document; the input is not modified. */
export function applyPatch(type: PatchType, target: JsonObject, patch: Json): JsonObject {
  switch (type) {
    case 'application/merge-patch+json':
      return asObject(mergePatch(target, patch));
    case 'application/json-patch+json':
      return jsonPatch(target, patch);
    case 'application/strategic-merge-patch+json':
      return asObject(strategicMerge(target, patch));
  }
}

/** RFC 7386 JSON Merge Patch: objects merge, `null` deletes, everything else (lists too) replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) return structuredClone(patch);
  const result: JsonObject = isJsonObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

function jsonPatch(target: JsonObject, patch: Json): JsonObject {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  try {
    const operations = patch as unknown as Operation[];
    return applyJsonPatch(structuredClone(target), operations, true, false).newDocument as JsonObject;
  } catch (error) {
    // A failed `test` op or a path that does not exist is a request the server cannot apply: 422, as kube does.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
  }
}

/**
 * Merge keys of the lists that Kubernetes merges by key under a strategic merge patch (`patchMergeKey` in the API
 * types). Keyed by field name: in the types the sandbox serves, each of these names means the same list wherever it
 * appears. Lists not named here are replaced whole, as `tolerations`, `taints` and `nodeSelectorTerms` are.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

/** Primitive lists with `patchStrategy: merge` (union instead of replace). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

/**
 * Strategic merge patch for the shapes kubectl sends: objects merge, `null` deletes, keyed lists merge by their
 * key, `$patch: replace|delete` directives on maps and list items, `$deleteFromPrimitiveList/<f>`, and the
 * ordering hints `$setElementOrder/<f>` and `$retainKeys` (accepted; order and retention are not enforced).
 */
export function strategicMerge(target: Json | undefined, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, field);
  if (!isJsonObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return null;
  const base: JsonObject = directive === 'replace' || !isJsonObject(target) ? {} : structuredClone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const listField = k.slice('$deleteFromPrimitiveList/'.length);
      const current = base[listField];
      if (Array.isArray(current) && Array.isArray(v)) base[listField] = current.filter((e) => !v.includes(e));
      continue;
    }
    if (v === null) {
      delete base[k];
      continue;
    }
    const merged = strategicMerge(base[k], v, k);
    if (merged === null) delete base[k];
    else base[k] = merged;
  }
  return base;
}

function mergeList(target: Json[], patch: Json[], field: string): Json[] {
  const mergeKey = MERGE_KEYS[field];
  if (patch.some((item) => isJsonObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isJsonObject(item) && item.$patch === 'replace'));
  }
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    return [...target, ...patch.filter((item) => !target.includes(item))];
  }
  if (!mergeKey) return structuredClone(patch);
  const result = structuredClone(target);
  for (const item of patch) {
    if (!isJsonObject(item)) continue;
    const index = result.findIndex((existing) => isJsonObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item, field);
    } else {
      result.push(strategicMerge({}, item, field));
    }
  }
  return result;
}

function asObject(value: Json): JsonObject {
  if (!isJsonObject(value)) throw badRequest('patch must produce an object');
  return value;
}
