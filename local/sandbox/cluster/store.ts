import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, notFound } from './errors';
import { apiVersionOf, type ResourceType } from './resources';
import type { KubeObject } from './types';

/** What happened to an object, as a watch event names it. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A listener told of every stored change, after it happened. */
export type ChangeListener = (type: ResourceType, change: ChangeType, object: KubeObject) => void;

/**
 * The sandbox's etcd: objects per resource type, keyed by `<namespace>/<name>`. It assigns uid, resourceVersion,
 * creationTimestamp and generation, and enforces AlreadyExists / NotFound / Conflict. Every read returns a copy,
 * so callers can never change stored state by accident.
 */
export class Store {
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly listeners = new Set<ChangeListener>();
  /** the keys of each type in list order, kept until a create or delete changes the set of keys */
  private readonly order = new Map<ResourceType, string[]>();
  private revision = 1000;

  /** The resourceVersion of the latest write (lists report it). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All objects of a type, in one namespace or (without one) everywhere, sorted by namespace then name. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.view(type, namespace).map((o) => structuredClone(o));
  }

  /**
   * The stored objects themselves, in {@link list}'s order, without copying them: for the API's paginated lists and
   * the controllers, which copy only what they hand out. Callers must never change them. A list of 30,000 pods read
   * page by page would otherwise copy and sort all of them for every page.
   */
  view(type: ResourceType, namespace?: string): readonly KubeObject[] {
    const bucket = this.bucket(type);
    let keys = this.order.get(type);
    if (!keys) {
      keys = [...bucket.keys()].sort((a, b) => a.localeCompare(b));
      this.order.set(type, keys);
    }
    const items: KubeObject[] = [];
    for (const k of keys) {
      const object = bucket.get(k) as KubeObject;
      if (namespace === undefined || object.metadata.namespace === namespace) items.push(object);
    }
    return items;
  }

  /** The object, or undefined. */
  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(key(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  /** The object, or a 404 ApiError. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.find(type, namespace, name);
    if (!found) throw notFound(type, name);
    return found;
  }

  /** Stores a new object; fills in the server-owned metadata. The name must already be set. */
  create(type: ResourceType, object: KubeObject): KubeObject {
    const name = object.metadata.name ?? '';
    const k = key(object.metadata.namespace, name);
    const bucket = this.bucket(type);
    if (bucket.has(k)) throw alreadyExists(type, name);
    // one copy of the whole object: its metadata is that copy's own
    const copy = structuredClone(object);
    const stored: KubeObject = {
      ...copy,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...copy.metadata,
        uid: randomUUID(),
        resourceVersion: this.nextRevision(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        generation: 1,
      },
    };
    bucket.set(k, stored);
    this.order.delete(type);
    this.emit(type, 'ADDED', stored);
    return structuredClone(stored);
  }

  /**
   * Replaces an object. A resourceVersion in the new object must match the stored one (optimistic concurrency);
   * none means an unconditional update, as the real API server allows for these types.
   * The generation goes up when anything but metadata and status changed.
   */
  update(type: ResourceType, object: KubeObject): KubeObject {
    const name = object.metadata.name ?? '';
    const k = key(object.metadata.namespace, name);
    const bucket = this.bucket(type);
    const current = bucket.get(k);
    if (!current) throw notFound(type, name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    const specChanged = JSON.stringify(withoutMetaAndStatus(current)) !== JSON.stringify(withoutMetaAndStatus(object));
    const stored: KubeObject = {
      ...structuredClone(object),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...structuredClone(object.metadata),
        // Server-owned fields: a client can neither forge nor drop them.
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: this.nextRevision(),
        generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      },
    };
    if (current.metadata.deletionTimestamp) stored.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    bucket.set(k, stored);
    this.emit(type, 'MODIFIED', stored);
    return structuredClone(stored);
  }

  /** Removes an object and returns it, or throws 404. */
  delete(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const bucket = this.bucket(type);
    const k = key(namespace, name);
    const current = bucket.get(k);
    if (!current) throw notFound(type, name);
    bucket.delete(k);
    this.order.delete(type);
    current.metadata.resourceVersion = this.nextRevision();
    this.emit(type, 'DELETED', current);
    return structuredClone(current);
  }

  /** Every stored object of every type, for cross-type sweeps (namespace deletion, garbage collection). */
  *all(): Generator<[ResourceType, KubeObject]> {
    for (const [type, object] of this.allViews()) yield [type, structuredClone(object)];
  }

  /** {@link all} without copies, for sweeps that only read (the garbage collector): callers must never change them. */
  allViews(): [ResourceType, KubeObject][] {
    const found: [ResourceType, KubeObject][] = [];
    for (const [type, bucket] of this.objects) for (const object of bucket.values()) found.push([type, object]);
    return found;
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    let bucket = this.objects.get(type);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(type, bucket);
    }
    return bucket;
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private emit(type: ResourceType, change: ChangeType, object: KubeObject): void {
    for (const listener of this.listeners) listener(type, change, structuredClone(object));
  }
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function withoutMetaAndStatus(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}
