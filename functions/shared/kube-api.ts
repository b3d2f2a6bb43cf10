import type {
  AppsV1Api,
  ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';
// client-node's own modules rather than its index, which loads exec, attach, port-forward and cp (ws, tar, socks)
// too (ADR 0016); the classes are the ones the index re-exports.
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { HttpMethod } from '@kubernetes/client-node/dist/gen/http/http.js';
// The generated serializer itself (the package has no `exports` map, so the path is public): the one the generated
// API classes use, with the type map that turns an object's dates into Dates.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { KubernetesObjectApi } from '@kubernetes/client-node/dist/object.js';

/*
 * The calls the steps (and `edgekeeper credentials create`) make, with the request and answer types of
 * @kubernetes/client-node's generated CoreV1Api, AppsV1Api and CoordinationV1Api. The generated classes hold every
 * endpoint of their group as a method (CoreV1Api alone is ~375 KB minified) and a bundler cannot drop unused
 * methods; these few, built on the package's own request context, authentication, middleware and serializer, keep a
 * step's bundle small (ADR 0016). Each call sends what the generated method sends (path, query, Accept, body and
 * Content-Type) and answers as it does: the typed object on 2xx, an ApiException otherwise.
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

/** What the generated methods accept in Content-Type for a patch; the serializer prefers JSON Patch. */
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/apply-patch+cbor',
];

/** One endpoint: method, path template (`{name}` filled from the request), body type, answer type. */
interface Endpoint {
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

const CORE = {
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

const APPS = {
  listDaemonSetForAllNamespaces: { method: GET, path: '/apis/apps/v1/daemonsets', answer: 'V1DaemonSetList' },
  readNamespacedDaemonSet: { method: GET, path: DAEMON_SET, answer: 'V1DaemonSet' },
  patchNamespacedDaemonSet: { method: PATCH, path: DAEMON_SET, body: 'any', patch: true, answer: 'V1DaemonSet' },
  readNamespacedDeployment: {
    method: GET,
    path: '/apis/apps/v1/namespaces/{namespace}/deployments/{name}',
    answer: 'V1Deployment',
  },
} as const satisfies Record<keyof AppsApi, Endpoint>;

const COORDINATION = {
  readNamespacedLease: { method: GET, path: `${LEASES}/{name}`, answer: 'V1Lease' },
  listNamespacedLease: { method: GET, path: LEASES, answer: 'V1LeaseList' },
  createNamespacedLease: { method: POST, path: LEASES, body: 'V1Lease', answer: 'V1Lease' },
  replaceNamespacedLease: { method: PUT, path: `${LEASES}/{name}`, body: 'V1Lease', answer: 'V1Lease' },
  deleteNamespacedLease: { method: DELETE, path: `${LEASES}/{name}`, body: 'V1DeleteOptions', answer: 'V1Status' },
  deleteCollectionNamespacedLease: { method: DELETE, path: LEASES, body: 'V1DeleteOptions', answer: 'V1LeaseList' },
} as const satisfies Record<keyof CoordinationApi, Endpoint>;

type Configuration = ConstructorParameters<typeof KubernetesObjectApi>[0];

/**
 * Sends one endpoint's request through the configuration (server, authentication, middleware) as the generated
 * classes do. KubernetesObjectApi carries that plumbing (`requestPromise`); its answers are replaced with the
 * generated classes' own: the typed object on 2xx, ApiException "Unauthorized" without a body on 401, and
 * ApiException with the body on any other status.
 */
class EndpointCaller extends KubernetesObjectApi {
  async call(endpoint: Endpoint, request: Record<string, unknown>, options?: ConfigurationOptions): Promise<unknown> {
    let path = endpoint.path;
    const query: [string, unknown][] = [];
    // a call without parameters (`listNode()`) passes none
    for (const [key, value] of Object.entries(request ?? {})) {
      if (key === 'body') continue;
      if (path.includes(`{${key}}`)) {
        if (value === null || value === undefined) throw new Error(`${key} is required for ${endpoint.path}`);
        path = path.replace(`{${key}}`, encodeURIComponent(String(value)));
      } else if (value !== undefined) {
        query.push([key === '_continue' ? 'continue' : key, value]);
      }
    }
    let context = this.configuration.baseServer.makeRequestContext(path, endpoint.method);
    context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    for (const [name, value] of query) context.setQueryParam(name, String(value));
    if (endpoint.body !== undefined) {
      const contentType = ObjectSerializer.getPreferredMediaType(endpoint.patch ? PATCH_TYPES : []);
      context.setHeaderParam('Content-Type', contentType);
      const body = ObjectSerializer.serialize(request.body, endpoint.body, '');
      context.setBody(ObjectSerializer.stringify(body, contentType));
    }
    // a call's own middleware (the patch Content-Type of setHeaderOptions) comes after the configuration's, as
    // the generated classes merge it; none of it depends on the other's order
    for (const middleware of options?.middleware ?? []) context = await middleware.pre(context).toPromise();
    return this.requestPromise(context as RequestContext, endpoint.answer);
  }

  protected override async processResponse<T>(response: ResponseContext, type?: string): Promise<T> {
    const { httpStatusCode: status, headers } = response;
    if (status === 401) throw new ApiException(status, 'Unauthorized', undefined, headers);
    if (status >= 200 && status <= 299) {
      const contentType = ObjectSerializer.normalizeMediaType(headers['content-type']);
      return ObjectSerializer.deserialize(
        ObjectSerializer.parse(await response.body.text(), contentType),
        type ?? '',
        '',
      );
    }
    throw new ApiException(status, 'Unknown API Status Code!', await response.getBodyAsAny(), headers);
  }
}

/** The calls of one endpoint table as methods of an object. */
function methodsOf<Api>(caller: EndpointCaller, endpoints: Record<string, Endpoint>): Api {
  return Object.fromEntries(
    Object.entries(endpoints).map(([name, endpoint]) => [
      name,
      (request: Record<string, unknown>, options?: ConfigurationOptions) => caller.call(endpoint, request, options),
    ]),
  ) as Api;
}

/** The typed APIs over one configuration, as `new CoreV1Api(configuration)` etc. would give them. */
export function typedApis(configuration: Configuration): {
  core: CoreApi;
  apps: AppsApi;
  coordination: CoordinationApi;
} {
  const caller = new EndpointCaller(configuration);
  return {
    core: methodsOf<CoreApi>(caller, CORE),
    apps: methodsOf<AppsApi>(caller, APPS),
    coordination: methodsOf<CoordinationApi>(caller, COORDINATION),
  };
}
