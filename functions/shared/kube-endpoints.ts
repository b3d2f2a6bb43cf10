import type { AppsV1Api, ConfigurationOptions, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { HttpMethod } from '@kubernetes/client-node/dist/gen/http/http.js';

/*
 * The calls the steps (and `edgekeeper credentials create`) make, as a table (method, path, body and answer
 * models), typed with the requests and answers of @kubernetes/client-node's generated CoreV1Api, AppsV1Api and
 * CoordinationV1Api. The generated classes hold every endpoint of their group as a method (CoreV1Api alone is
 * ~375 KB minified) and a bundler cannot drop unused methods; kube-api.ts sends these few as those methods would
 * (ADR 0016). The serializer's type table starts from their models (MODEL_ROOTS), so this module loads nothing of
 * the serializer: scripts/embed-kube-models.ts reads it to write that table.
 */

export type CoreApi = Pick<
  CoreV1Api,
  | 'readNode'
  | 'listNode'
  | 'patchNode'
  | 'deleteNode'
  | 'readNamespace'
  | 'deleteNamespace'
  | 'readNamespacedConfigMap'
  | 'createNamespacedConfigMap'
  | 'replaceNamespacedConfigMap'
  | 'deleteNamespacedConfigMap'
  | 'readNamespacedSecret'
  | 'listNamespacedSecret'
  | 'deleteNamespacedSecret'
  | 'listPodForAllNamespaces'
  | 'createNamespacedPodEviction'
  | 'createNamespacedServiceAccountToken'
>;
export type AppsApi = Pick<
  AppsV1Api,
  'listDaemonSetForAllNamespaces' | 'readNamespacedDaemonSet' | 'patchNamespacedDaemonSet' | 'readNamespacedDeployment'
>;
export type CoordinationApi = Pick<
  CoordinationV1Api,
  | 'readNamespacedLease'
  | 'listNamespacedLease'
  | 'createNamespacedLease'
  | 'replaceNamespacedLease'
  | 'deleteNamespacedLease'
> & {
  /**
   * The generated method types its answer V1Status, as the API's OpenAPI document does; the API server answers the
   * list of the Leases it deleted, which the release reports, so this one answers V1LeaseList.
   */
  deleteCollectionNamespacedLease(
    request: Parameters<CoordinationV1Api['deleteCollectionNamespacedLease']>[0],
    options?: ConfigurationOptions,
  ): ReturnType<CoordinationV1Api['listNamespacedLease']>;
};

/** What the generated methods accept in Content-Type for a patch; their serializer picks the first, JSON Patch. */
export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/apply-patch+cbor',
];

/** One endpoint: method, path template (`{name}` filled from the request), body type, answer type. */
export interface Endpoint {
  readonly method: HttpMethod;
  readonly path: string;
  /** the model the request's `body` is serialized as; absent: no body */
  readonly body?: string;
  /** a patch: Content-Type from PATCH_TYPES (a call's options may override it) */
  readonly patch?: boolean;
  readonly answer: string;
}

const { GET, POST, PUT, PATCH, DELETE } = HttpMethod;
const NODE = '/api/v1/nodes/{name}';
const CONFIG_MAP = '/api/v1/namespaces/{namespace}/configmaps/{name}';
const SECRETS = '/api/v1/namespaces/{namespace}/secrets';
const DAEMON_SET = '/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases';

export const CORE = {
  readNode: { method: GET, path: NODE, answer: 'V1Node' },
  listNode: { method: GET, path: '/api/v1/nodes', answer: 'V1NodeList' },
  patchNode: { method: PATCH, path: NODE, body: 'any', patch: true, answer: 'V1Node' },
  deleteNode: { method: DELETE, path: NODE, body: 'V1DeleteOptions', answer: 'V1Status' },
  readNamespace: { method: GET, path: '/api/v1/namespaces/{name}', answer: 'V1Namespace' },
  deleteNamespace: { method: DELETE, path: '/api/v1/namespaces/{name}', body: 'V1DeleteOptions', answer: 'V1Status' },
  readNamespacedConfigMap: { method: GET, path: CONFIG_MAP, answer: 'V1ConfigMap' },
  createNamespacedConfigMap: {
    method: POST,
    path: '/api/v1/namespaces/{namespace}/configmaps',
    body: 'V1ConfigMap',
    answer: 'V1ConfigMap',
  },
  replaceNamespacedConfigMap: { method: PUT, path: CONFIG_MAP, body: 'V1ConfigMap', answer: 'V1ConfigMap' },
  deleteNamespacedConfigMap: { method: DELETE, path: CONFIG_MAP, body: 'V1DeleteOptions', answer: 'V1Status' },
  readNamespacedSecret: { method: GET, path: `${SECRETS}/{name}`, answer: 'V1Secret' },
  listNamespacedSecret: { method: GET, path: SECRETS, answer: 'V1SecretList' },
  deleteNamespacedSecret: { method: DELETE, path: `${SECRETS}/{name}`, body: 'V1DeleteOptions', answer: 'V1Status' },
  listPodForAllNamespaces: { method: GET, path: '/api/v1/pods', answer: 'V1PodList' },
  createNamespacedPodEviction: {
    method: POST,
    path: '/api/v1/namespaces/{namespace}/pods/{name}/eviction',
    body: 'V1Eviction',
    answer: 'V1Eviction',
  },
  createNamespacedServiceAccountToken: {
    method: POST,
    path: '/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token',
    body: 'AuthenticationV1TokenRequest',
    answer: 'AuthenticationV1TokenRequest',
  },
} as const satisfies Record<keyof CoreApi, Endpoint>;

export const APPS = {
  listDaemonSetForAllNamespaces: { method: GET, path: '/apis/apps/v1/daemonsets', answer: 'V1DaemonSetList' },
  readNamespacedDaemonSet: { method: GET, path: DAEMON_SET, answer: 'V1DaemonSet' },
  patchNamespacedDaemonSet: { method: PATCH, path: DAEMON_SET, body: 'any', patch: true, answer: 'V1DaemonSet' },
  readNamespacedDeployment: {
    method: GET,
    path: '/apis/apps/v1/namespaces/{namespace}/deployments/{name}',
    answer: 'V1Deployment',
  },
} as const satisfies Record<keyof AppsApi, Endpoint>;

export const COORDINATION = {
  readNamespacedLease: { method: GET, path: `${LEASES}/{name}`, answer: 'V1Lease' },
  listNamespacedLease: { method: GET, path: LEASES, answer: 'V1LeaseList' },
  createNamespacedLease: { method: POST, path: LEASES, body: 'V1Lease', answer: 'V1Lease' },
  replaceNamespacedLease: { method: PUT, path: `${LEASES}/{name}`, body: 'V1Lease', answer: 'V1Lease' },
  deleteNamespacedLease: { method: DELETE, path: `${LEASES}/{name}`, body: 'V1DeleteOptions', answer: 'V1Status' },
  deleteCollectionNamespacedLease: { method: DELETE, path: LEASES, body: 'V1DeleteOptions', answer: 'V1LeaseList' },
} as const satisfies Record<keyof CoordinationApi, Endpoint>;

/**
 * The models the endpoints send and answer, and the API discovery list the generic calls read: where the
 * serializer's type table starts (scripts/embed-kube-models.ts follows their attributes from these).
 */
export const MODEL_ROOTS: readonly string[] = [
  ...new Set([
    ...Object.values<Endpoint>({ ...CORE, ...APPS, ...COORDINATION }).flatMap((endpoint) => [
      endpoint.answer,
      ...(endpoint.body === undefined ? [] : [endpoint.body]),
    ]),
    'V1APIResourceList',
  ]),
].sort();
