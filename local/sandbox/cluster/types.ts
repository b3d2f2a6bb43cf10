/** A Kubernetes object as stored: plain JSON with the usual envelope. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The subset of ObjectMeta the sandbox reads or fills in. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [field: string]: unknown;
}

/** metadata.ownerReferences[]: `controller: true` is what `kubectl describe` prints as "Controlled By". */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** JSON value, as found in request bodies and patches. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object (a non-array, non-null value). */
export type JsonObject = { [key: string]: Json };

/** True for plain JSON objects (not arrays, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
