import type {
  ConfigurationOptions,
  KubernetesObject,
  V1APIResource,
  V1APIResourceList,
  V1Status,
} from '@kubernetes/client-node';
// client-node's own modules rather than its index, which loads exec, attach, port-forward and cp (ws, tar, socks)
// too, and never its generated ObjectSerializer, which loads all ~700 generated models (ADR 0016); the classes are
// the ones the index re-exports.
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import type { Configuration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { HttpMethod, type RequestContext, type ResponseContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import {
  APPS,
  type AppsApi,
  COORDINATION,
  CORE,
  type CoordinationApi,
  type CoreApi,
  type Endpoint,
  PATCH_TYPES,
} from './kube-endpoints';
import { deserialize, serialize } from './kube-models/serializer';

/*
 * Sends the calls of kube-endpoints.ts as the generated classes do, on the package's own request context,
 * authentication and middleware, with a serializer that follows the generated one's rules for the models the
 * calls reach (kube-models/). Each call sends what the generated method sends (path, query, Accept, body and
 * Content-Type) and answers as it does: the typed object on 2xx, an ApiException otherwise.
 */

/**
 * Generic access by apiVersion and kind, for objects of any type (a Helm release's): the one call of client-node's
 * KubernetesObjectApi the steps make, answering as it does. KubernetesObjectApi itself is not used because its
 * module loads the generated serializer and with it every generated model (ADR 0016).
 */
export interface ObjectsApi {
  /**
   * Deletes the object `spec` names (apiVersion, kind, metadata.name, and metadata.namespace for a namespaced kind,
   * else the kubeconfig's namespace), after finding the kind's resource through API discovery.
   * @throws ApiException with the API server's status (404: the object, or its kind's API, is not there)
   */
  delete(spec: KubernetesObject): Promise<V1Status>;
}

/** `Content-Type` of a request body: what the generated classes' serializer picks (JSON Patch for a patch). */
const BODY_TYPE = 'application/json';
const PATCH_BODY_TYPE = PATCH_TYPES[0];

/**
 * Sends one endpoint's request through the configuration (server, authentication, middleware) as the generated
 * classes and KubernetesObjectApi do, and answers as the generated classes do: the typed object on 2xx,
 * ApiException "Unauthorized" without a body on 401, and ApiException with the body on any other status.
 */
class EndpointCaller {
  constructor(readonly configuration: Configuration) {}

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
    const context = this.configuration.baseServer.makeRequestContext(path, endpoint.method);
    context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    for (const [name, value] of query) context.setQueryParam(name, String(value));
    if (endpoint.body !== undefined) {
      context.setHeaderParam('Content-Type', endpoint.patch ? PATCH_BODY_TYPE : BODY_TYPE);
      context.setBody(JSON.stringify(serialize(request.body, endpoint.body)));
    }
    return this.send(context, endpoint.answer, options);
  }

  /**
   * Authentication, then the middlewares around the HTTP call (answers pass them in reverse), merged with a call's
   * own (setHeaderOptions appends the patch Content-Type) as the generated classes merge them.
   */
  async send(
    request: RequestContext,
    answer: string,
    options?: ConfigurationOptions,
    failures: Failures = GENERATED_FAILURES,
  ): Promise<unknown> {
    const { authMethods, httpApi } = this.configuration;
    await authMethods.BearerToken?.applySecurityAuthentication(request);
    await authMethods.default?.applySecurityAuthentication(request);
    const middleware = mergedMiddleware(this.configuration.middleware, options);
    let context = request;
    for (const each of middleware) context = await each.pre(context).toPromise();
    let response = await httpApi.send(context).toPromise();
    for (const each of middleware.reverse()) response = await each.post(response).toPromise();
    return answerOf(response, answer, failures);
  }
}

/** The generated `mergeConfiguration`'s middleware: a call's own replace the configuration's unless it says not. */
function mergedMiddleware(configured: Configuration['middleware'], options?: ConfigurationOptions) {
  const own = options?.middleware;
  if (!own) return [...configured];
  const strategy = options.middlewareMergeStrategy ?? 'replace';
  if (strategy === 'append') return [...configured, ...own];
  if (strategy === 'prepend') return [...own, ...configured];
  if (strategy === 'replace') return [...own];
  throw new Error(`Unrecognized middleware merge strategy '${strategy}'`);
}

/** The messages of a failed call's ApiException: on 401 (without a body when set), and on any other status. */
interface Failures {
  readonly unauthorized?: string;
  readonly other: string;
}
const GENERATED_FAILURES: Failures = { unauthorized: 'Unauthorized', other: 'Unknown API Status Code!' };
const OBJECT_API_FAILURES: Failures = { other: 'Unsuccessful HTTP Request' };

async function answerOf(response: ResponseContext, type: string, failures: Failures): Promise<unknown> {
  const { httpStatusCode: status, headers } = response;
  if (status === 401 && failures.unauthorized)
    throw new ApiException(status, failures.unauthorized, undefined, headers);
  if (status >= 200 && status <= 299) return deserialize(parseBody(await response.body.text(), headers), type);
  throw new ApiException(status, failures.other, await response.getBodyAsAny(), headers);
}

/** The answer's body by its Content-Type, as the generated serializer's `parse` reads it. */
function parseBody(text: string, headers: Record<string, string>): unknown {
  const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === undefined) throw new Error('the Kubernetes API answered without a Content-Type');
  const [type = '', subtype = ''] = mediaType.split('/');
  if (type === 'text') return text;
  if (type === 'application' && subtype.split('+').includes('json')) return JSON.parse(text);
  throw new Error(`the Kubernetes API answered ${mediaType}, which is neither JSON nor text`);
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

/**
 * KubernetesObjectApi's delete: the kind's resource from the discovery document of its API version (kept for the
 * container's life, as KubernetesObjectApi keeps it), then DELETE on its path. Unlike KubernetesObjectApi, the path
 * is not lower-cased: a resource's name keeps its case (a ClusterRole may be `system:Foo`).
 */
const DISCOVERY_FAILED = 'Failed to fetch resource metadata for';

function objectsApi(caller: EndpointCaller, defaultNamespace: string): ObjectsApi {
  const discovered = new Map<string, Promise<V1APIResourceList>>();
  const apiPath = (apiVersion: string) => `/${apiVersion.includes('/') ? 'apis' : 'api'}/${apiVersion}`;
  const resourceOf = async (apiVersion: string, kind: string): Promise<V1APIResource | undefined> => {
    let list = discovered.get(apiVersion);
    if (!list) {
      const context = caller.configuration.baseServer.makeRequestContext(apiPath(apiVersion), HttpMethod.GET);
      context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
      list = caller.send(context, 'V1APIResourceList', undefined, OBJECT_API_FAILURES) as Promise<V1APIResourceList>;
      discovered.set(apiVersion, list);
      // a failed discovery is not kept: the next call asks again
      list.catch(() => discovered.delete(apiVersion));
    }
    try {
      return (await list).resources.find((resource) => resource.kind === kind);
    } catch (error) {
      // KubernetesObjectApi's context, once: calls waiting on one discovery share its error
      if (error instanceof Error && !error.message.startsWith(DISCOVERY_FAILED)) {
        error.message = `${DISCOVERY_FAILED} ${apiVersion}/${kind}: ${error.message}`;
      }
      throw error;
    }
  };
  return {
    async delete(spec) {
      const { apiVersion = 'v1', kind, metadata = {} } = spec;
      if (!kind) throw new Error('Required spec property kind is not set');
      if (!metadata.name) throw new Error('Required spec property name is not set');
      const resource = await resourceOf(apiVersion, kind);
      if (!resource) throw new Error(`Unrecognized API version and kind: ${apiVersion} ${kind}`);
      const namespace = resource.namespaced ? (metadata.namespace ?? defaultNamespace) : undefined;
      const path = [
        apiPath(apiVersion),
        ...(namespace ? ['namespaces', encodeURIComponent(namespace)] : []),
        resource.name,
        encodeURIComponent(metadata.name),
      ].join('/');
      const context = caller.configuration.baseServer.makeRequestContext(path, HttpMethod.DELETE);
      context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
      return (await caller.send(context, 'V1Status', undefined, OBJECT_API_FAILURES)) as V1Status;
    },
  };
}

/**
 * The typed APIs over one configuration, as `new CoreV1Api(configuration)` etc. would give them, and the generic
 * object API as `KubernetesObjectApi.makeApiClient` would (`defaultNamespace`: the kubeconfig context's namespace,
 * else `default`).
 */
export function typedApis(
  configuration: Configuration,
  defaultNamespace = 'default',
): {
  core: CoreApi;
  apps: AppsApi;
  coordination: CoordinationApi;
  objects: ObjectsApi;
} {
  const caller = new EndpointCaller(configuration);
  return {
    core: methodsOf<CoreApi>(caller, CORE),
    apps: methodsOf<AppsApi>(caller, APPS),
    coordination: methodsOf<CoordinationApi>(caller, COORDINATION),
    objects: objectsApi(caller, defaultNamespace),
  };
}
