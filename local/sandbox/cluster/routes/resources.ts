import type { ControllerManager } from '../controllers';
import { finalizeNamespace } from '../controllers/garbage';
import { randomSuffix } from '../controllers/pods';
import { ApiError, badRequest, invalid, notFound, qualifiedName } from '../errors';
import { applyPatch, PATCH_TYPES, type PatchType } from '../patch';
import { apiVersionOf, R, type ResourceType } from '../resources';
import {
  labelSelectorRequirements,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../selectors';
import type { Store } from '../store';
import { isJsonObject, type Json, type JsonObject, type KubeObject } from '../types';
import { decodeProblem, validate } from '../validation';

/** How long a deleted namespace shows as Terminating before its contents and itself are gone. */
const NAMESPACE_TERMINATION_MS = 150;

/** The query parameters of a list request. */
export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
}

/**
 * The verbs on stored resources, with the API server's semantics: namespaces must exist, server-owned metadata is
 * filled in, status is only written through `/status` for types that have it, validation answers 422, and the
 * controllers run after every accepted write.
 */
export class ResourceApi {
  private readonly timers = new Set<NodeJS.Timeout>();
  /**
   * The last list's matches, reused for its next pages while nothing was written: paging through 30,000 pods would
   * otherwise filter all of them again for every page of 500.
   */
  private lastList: { readonly key: string; readonly revision: string; readonly items: readonly KubeObject[] } | null =
    null;

  constructor(
    private readonly store: Store,
    private readonly controllers: ControllerManager,
  ) {}

  /**
   * `GET` a collection, filtered and paginated; returns the items and the list metadata. With `copies: false` the
   * items are the stored objects themselves, for a caller that only serializes them at once and never changes them.
   */
  list(
    type: ResourceType,
    namespace: string | undefined,
    query: ListQuery,
    { copies = true }: { copies?: boolean } = {},
  ): { items: KubeObject[]; metadata: Record<string, unknown> } {
    const all = this.matches(type, namespace, query);
    const offset = query.continue ? decodeContinue(query.continue) : 0;
    const limit = query.limit && query.limit > 0 ? query.limit : all.length;
    const page = all.slice(offset, offset + limit);
    const items = copies ? page.map((o) => structuredClone(o)) : page;
    const rest = all.length - offset - items.length;
    return {
      items,
      metadata: {
        resourceVersion: this.store.resourceVersion,
        ...(rest > 0 ? { continue: encodeContinue(offset + items.length), remainingItemCount: rest } : {}),
      },
    };
  }

  /** The stored objects (not copies) a list selects, in list order; only the page handed out gets copied. */
  private matches(type: ResourceType, namespace: string | undefined, query: ListQuery): readonly KubeObject[] {
    const key = JSON.stringify([type.group, type.name, namespace, query.labelSelector, query.fieldSelector]);
    const revision = this.store.resourceVersion;
    if (this.lastList?.key === key && this.lastList.revision === revision) return this.lastList.items;
    const labels = query.labelSelector ? parseLabelSelector(query.labelSelector) : [];
    const fields = query.fieldSelector ? parseFieldSelector(query.fieldSelector) : [];
    const items = this.store
      .view(type, namespace)
      .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
    this.lastList = { key, revision, items };
    return items;
  }

  /** `GET` one object. */
  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return this.store.get(type, namespace, name);
  }

  /** `POST` a new object. */
  create(type: ResourceType, namespace: string | undefined, body: Json): KubeObject {
    const object = this.asObject(type, body, namespace);
    if (!object.metadata.name && object.metadata.generateName) {
      object.metadata.name = `${object.metadata.generateName}${randomSuffix()}`;
    }
    if (type.namespaced) this.requireLiveNamespace(namespace ?? '');
    this.check(type, object);
    if (type === R.namespaces) {
      object.spec = { finalizers: ['kubernetes'] };
      object.status = { phase: 'Active' };
    }
    if (type.name === 'services') defaultService(object);
    const created = this.store.create(type, object);
    this.controllers.reconcile();
    return this.store.find(type, namespace, created.metadata.name ?? '') ?? created;
  }

  /** `PUT` an object (or its status). */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Json,
    subresource?: string,
  ): KubeObject {
    const object = this.asObject(type, body, namespace);
    if (object.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    return this.write(type, namespace, name, object, subresource);
  }

  /** `PATCH` an object (or its status) with one of the three patch content types. */
  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: Json,
    subresource?: string,
  ): KubeObject {
    const patchType = PATCH_TYPES.find((t) => contentType.startsWith(t));
    if (!patchType) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
      );
    }
    const current = this.store.get(type, namespace, name);
    const patched = applyPatch(patchType as PatchType, current as unknown as JsonObject, body);
    const object = this.asObject(type, patched, namespace);
    // A patch that does not mention resourceVersion applies to whatever is current; one that does is a precondition.
    const patchMeta = isJsonObject(body) && isJsonObject(body.metadata) ? body.metadata : {};
    if (patchType !== 'application/json-patch+json' && patchMeta.resourceVersion === undefined) {
      object.metadata.resourceVersion = current.metadata.resourceVersion;
    }
    if (object.metadata.name !== name) throw badRequest('metadata.name cannot be changed by a patch');
    return this.write(type, namespace, name, object, subresource);
  }

  /**
   * `DELETE` one object; a namespace goes Terminating first and vanishes with its contents shortly after.
   * Preconditions (DeleteOptions) must match the stored object, else 409 Conflict and nothing is deleted: a lock
   * released with the resourceVersion it last wrote must not delete a Lease someone else has since taken over.
   */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditions?: { readonly resourceVersion?: string; readonly uid?: string },
  ): KubeObject {
    const current = this.store.get(type, namespace, name);
    for (const field of ['resourceVersion', 'uid'] as const) {
      const wanted = preconditions?.[field];
      const actual = current.metadata[field];
      if (wanted !== undefined && wanted !== actual) {
        const label = field === 'uid' ? 'UID' : 'ResourceVersion';
        throw new ApiError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": Precondition failed: ${label} in precondition: ${wanted}, ${label} in object meta: ${actual ?? ''}`,
          { name, group: type.group, kind: type.name },
        );
      }
    }
    if (type === R.namespaces) return this.deleteNamespace(name);
    const deleted = this.store.delete(type, namespace, name);
    this.controllers.reconcile();
    return deleted;
  }

  /** `DELETE` a collection (`kubectl delete pods --all`, label-selected cleanup). */
  deleteCollection(type: ResourceType, namespace: string | undefined, query: ListQuery): KubeObject[] {
    const { items } = this.list(type, namespace, {
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
    });
    const deleted = items.map((o) =>
      type === R.namespaces
        ? this.deleteNamespace(o.metadata.name ?? '')
        : this.store.delete(type, o.metadata.namespace, o.metadata.name ?? ''),
    );
    this.controllers.reconcile();
    return deleted;
  }

  /**
   * `POST pods/<name>/eviction`: deletes the pod unless a PodDisruptionBudget selecting it has no disruptions left,
   * which answers 429 exactly as the API server does (`kubectl drain` retries on it).
   */
  evict(namespace: string, name: string): Record<string, unknown> {
    const pod = this.store.get(R.pods, namespace, name);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Running') {
      const pods = this.store.list(R.pods, namespace);
      for (const pdb of this.store.list(R.poddisruptionbudgets, namespace)) {
        const spec = isJsonObject(pdb.spec) ? pdb.spec : {};
        const selector = labelSelectorRequirements(spec.selector);
        if (!matchesLabels(selector, pod.metadata.labels)) continue;
        const selected = pods.filter((p) => matchesLabels(selector, p.metadata.labels));
        const healthy = selected.filter(
          (p) => (p.status as { phase?: string } | undefined)?.phase === 'Running',
        ).length;
        if (disruptionsAllowed(spec, selected.length, healthy) <= 0) {
          throw new ApiError(
            429,
            'TooManyRequests',
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {
              causes: [
                {
                  reason: 'DisruptionBudget',
                  message: `The disruption budget ${pdb.metadata.name} needs ${requiredHealthy(spec, selected.length)} healthy pods and has ${healthy} currently`,
                  field: '',
                },
              ],
            },
          );
        }
      }
    }
    this.store.delete(R.pods, namespace, name);
    this.controllers.reconcile();
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  /** Cancels pending namespace finalisations (server shutdown). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private deleteNamespace(name: string): KubeObject {
    const current = this.store.get(R.namespaces, undefined, name);
    if (current.metadata.deletionTimestamp) return current;
    const terminating = this.store.update(R.namespaces, {
      ...current,
      metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      status: { phase: 'Terminating' },
    });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      finalizeNamespace(this.store, name);
      this.controllers.reconcile();
    }, NAMESPACE_TERMINATION_MS);
    this.timers.add(timer);
    return terminating;
  }

  private write(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    object: KubeObject,
    subresource?: string,
  ): KubeObject {
    const current = this.store.get(type, namespace, name);
    let next: KubeObject;
    if (subresource === 'status') {
      // Through /status only the status changes, whatever else the body says.
      next = {
        ...current,
        status: object.status,
        metadata: { ...current.metadata, resourceVersion: object.metadata.resourceVersion },
      };
    } else if (subresource !== undefined) {
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    } else {
      next = object;
      // Status has its own endpoint where one exists: writes to the main resource keep the stored status.
      if (type.subresources.includes('status')) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
    }
    this.check(type, next);
    const updated = this.store.update(type, next);
    this.controllers.reconcile();
    return this.store.find(type, namespace, name) ?? updated;
  }

  private check(type: ResourceType, object: KubeObject): void {
    const causes = validate(type, object);
    if (causes.length > 0) throw invalid(type, object.metadata.name ?? '', causes);
  }

  private requireLiveNamespace(namespace: string): void {
    const ns = this.store.find(R.namespaces, undefined, namespace);
    if (!ns) throw notFound(R.namespaces, namespace);
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name: namespace,
          kind: 'namespaces',
        },
      );
    }
  }

  private asObject(type: ResourceType, body: Json, namespace: string | undefined): KubeObject {
    if (!isJsonObject(body)) throw badRequest('the request body must be a JSON object');
    const metadata = isJsonObject(body.metadata) ? body.metadata : {};
    if (type.namespaced && metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const object = structuredClone(body) as unknown as KubeObject;
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    object.metadata = { ...structuredClone(metadata) } as KubeObject['metadata'];
    if (type.namespaced) object.metadata.namespace = namespace;
    else delete object.metadata.namespace;
    const undecodable = decodeProblem(type, object);
    if (undecodable) throw badRequest(undecodable);
    return object;
  }
}

function defaultService(service: KubeObject): void {
  const spec = (isJsonObject(service.spec) ? service.spec : {}) as Record<string, unknown>;
  if (spec.clusterIP === undefined && spec.type !== 'ExternalName') {
    spec.clusterIP = `10.233.${Math.floor(Math.random() * 60)}.${1 + Math.floor(Math.random() * 250)}`;
  }
  spec.type ??= 'ClusterIP';
  service.spec = spec;
}

function intOrPercent(value: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const share = (Number.parseInt(value, 10) / 100) * total;
    return roundUp ? Math.ceil(share) : Math.floor(share);
  }
  return undefined;
}

function requiredHealthy(spec: Record<string, unknown>, expected: number): number {
  const min = intOrPercent(spec.minAvailable, expected, true);
  if (min !== undefined) return min;
  return expected - (intOrPercent(spec.maxUnavailable, expected, true) ?? 0);
}

function disruptionsAllowed(spec: Record<string, unknown>, expected: number, healthy: number): number {
  return healthy - requiredHealthy(spec, expected);
}

function encodeContinue(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeContinue(token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && parsed.offset >= 0) return parsed.offset;
  } catch {
    // Falls through to the API server's own answer for a token it cannot read.
  }
  throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
}
