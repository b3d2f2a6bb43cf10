import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { applyFault, type FaultPlan } from '../faults';
import { ApiError, badRequest } from './errors';
import { authorize, type RequestAttributes } from './rbac';
import { type AccessLog, CountingRequestLog } from './request-log';
import { apiVersionOf, findResource, type ResourceType } from './resources';
import { coreVersions, groupInfo, groupList, resourceList, SERVER_VERSION } from './routes/discovery';
import type { ListQuery, ResourceApi } from './routes/resources';
import { requestToken } from './routes/token-request';
import { serveWatch } from './routes/watch';
import type { Store } from './store';
import { type IncludeObject, toTable } from './tables';
import type { TokenAuthenticator } from './tokens';
import { isJsonObject, type Json } from './types';

/** What the HTTPS server needs: TLS material, the tokens it accepts, and the layers below it. */
export interface ApiServerOptions {
  readonly key: string;
  readonly cert: string;
  /**
   * bearer token → who it is (the admin may do anything, any other identity only what its grants allow); also
   * issues the tokens of the TokenRequest API
   */
  readonly tokens: TokenAuthenticator;
  /** where the requests allowed to a non-admin identity are recorded */
  readonly accessLog?: AccessLog;
  readonly store: Store;
  readonly api: ResourceApi;
  /** faults to inject into requests (fault-injection tests) */
  readonly faults?: FaultPlan;
}

/** A parsed resource URL: `/api/v1/namespaces/<ns>/<resource>/<name>/<subresource>` and its variants. */
interface ResourcePath {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/**
 * The Kubernetes REST front end over HTTPS on 127.0.0.1: bearer-token auth (only `/version` is open, as kubectl's
 * version dispatcher asks it before it has credentials), RBAC for non-admin tokens (discovery is open to every
 * authenticated identity, as `system:discovery` makes it), resource verbs, the TokenRequest API (bounded
 * ServiceAccount tokens, 401 once expired), Tables, `kind: Status` errors.
 */
export class ApiServer {
  readonly requestLog = new CountingRequestLog();
  private readonly server: Server;
  private readonly watches = new Set<() => void>();

  constructor(private readonly options: ApiServerOptions) {
    this.server = createServer({ key: options.key, cert: options.cert }, (req, res) => {
      this.serve(req, res).catch((error: unknown) => this.fail(res, error));
    });
  }

  /** Serves a request, unless a fault rule takes it first. */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.options.faults?.take('kube', {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'https://127.0.0.1').pathname,
    });
    if (fault) {
      const handled = await applyFault(fault, req, (status, retryAfterSeconds, message) => {
        if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
        const reason = status === 429 ? 'TooManyRequests' : status >= 500 ? 'InternalError' : 'BadRequest';
        send(res, status, new ApiError(status, reason, message).toStatus());
      });
      if (handled) return;
    }
    await this.handle(req, res);
  }

  /** Stops accepting connections for `ms` (clients get ECONNREFUSED), then listens on the same port again. */
  async refuseConnections(ms: number): Promise<void> {
    const { port } = this.server.address() as AddressInfo;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, ms));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  /** Listens on a random loopback port and returns the base URL. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Ends open watches and connections, then closes the listener. */
  async close(): Promise<void> {
    for (const end of [...this.watches]) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    const identity = this.options.tokens.identify(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]);
    if (url.pathname === '/version') {
      this.requestLog.record({ client: identity?.user ?? ANONYMOUS, verb: 'get', resource: 'version' });
      return send(res, 200, SERVER_VERSION);
    }
    if (!identity) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const discovery = this.discovery(url.pathname, `${req.socket.localAddress}:${req.socket.localPort}`);
    if (discovery) {
      this.requestLog.record({ client: identity.user, verb: 'get', resource: 'discovery' });
      if (method !== 'GET') throw methodNotAllowed();
      return send(res, 200, discovery);
    }
    const path = parseResourcePath(url.pathname);
    if (!path) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    // DELETE carries DeleteOptions (preconditions); the other bodyless verbs send none.
    const body = method === 'GET' ? undefined : await readJson(req);
    const verb = verbOf(method, path, url.searchParams);
    const request: RequestAttributes = {
      verb,
      apiGroup: path.type.group,
      resource: path.subresource ? `${path.type.name}/${path.subresource}` : path.type.name,
      ...(path.namespace === undefined ? {} : { namespace: path.namespace }),
      ...(path.name === undefined ? {} : { name: path.name }),
    };
    authorize(identity, request);
    if ('grants' in identity) this.options.accessLog?.record(request);
    await this.dispatch(identity.user, method, path, url.searchParams, req, res, body);
  }

  private async dispatch(
    client: string,
    method: string,
    path: ResourcePath,
    query: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
    body: Json | undefined,
  ): Promise<void> {
    const { api } = this.options;
    const { type, namespace, name, subresource } = path;
    const resourceName = subresource ? `${type.name}/${subresource}` : type.name;
    const log = (verb: string) =>
      this.requestLog.record({
        client,
        verb,
        resource: resourceName,
        ...(namespace === undefined ? {} : { namespace }),
        ...(name === undefined ? {} : { name }),
      });
    const listQuery: ListQuery = {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
      limit: query.has('limit') ? Number(query.get('limit')) : undefined,
      continue: query.get('continue') || undefined,
    };
    if (name === undefined) {
      if (method === 'GET' && (query.get('watch') === 'true' || query.get('watch') === '1')) {
        log('watch');
        const end = serveWatch(
          this.options.store,
          {
            type,
            namespace,
            labelSelector: listQuery.labelSelector,
            fieldSelector: listQuery.fieldSelector,
            resourceVersion: query.get('resourceVersion') ?? undefined,
            timeoutSeconds: query.has('timeoutSeconds') ? Number(query.get('timeoutSeconds')) : undefined,
          },
          res,
          () => this.watches.delete(end),
        );
        this.watches.add(end);
        return;
      }
      if (method === 'GET') {
        log('list');
        if (wantsTable(req)) {
          const { items, metadata } = api.list(type, namespace, listQuery);
          return send(res, 200, toTable(type, items, metadata, includeObject(query)));
        }
        // serialized at once and never changed: the stored objects themselves, not copies of a page of them
        const { items, metadata } = api.list(type, namespace, listQuery, { copies: false });
        return send(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items });
      }
      if (method === 'POST') {
        log('create');
        return send(res, 201, api.create(type, namespace, body ?? null));
      }
      if (method === 'DELETE') {
        log('deletecollection');
        const items = api.deleteCollection(type, namespace, listQuery);
        return send(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: {}, items });
      }
      throw methodNotAllowed();
    }
    if (subresource === 'eviction') {
      if (method !== 'POST' || namespace === undefined) throw methodNotAllowed();
      log('create');
      return send(res, 201, api.evict(namespace, name));
    }
    if (subresource === 'token') {
      if (method !== 'POST' || namespace === undefined) throw methodNotAllowed();
      log('create');
      return send(res, 201, requestToken(api, this.options.tokens, namespace, name, body));
    }
    if (subresource !== undefined && subresource !== 'status')
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    switch (method) {
      case 'GET': {
        log('get');
        const object = api.get(type, namespace, name);
        if (wantsTable(req))
          return send(
            res,
            200,
            toTable(type, [object], { resourceVersion: object.metadata.resourceVersion }, includeObject(query)),
          );
        return send(res, 200, object);
      }
      case 'PUT':
        log('update');
        return send(res, 200, api.update(type, namespace, name, body ?? null, subresource));
      case 'PATCH':
        log('patch');
        return send(
          res,
          200,
          api.patch(type, namespace, name, req.headers['content-type'] ?? '', body ?? null, subresource),
        );
      case 'DELETE':
        if (subresource) throw methodNotAllowed();
        log('delete');
        return send(res, 200, api.delete(type, namespace, name, preconditionsOf(body)));
      default:
        throw methodNotAllowed();
    }
  }

  private discovery(pathname: string, serverAddress: string): Record<string, unknown> | undefined {
    const parts = pathname.split('/').filter((p) => p !== '');
    if (pathname === '/api' || pathname === '/api/') return coreVersions(serverAddress);
    if (pathname === '/apis' || pathname === '/apis/') return groupList();
    if (parts.length === 2 && parts[0] === 'api') return resourceList('', parts[1]);
    if (parts.length === 2 && parts[0] === 'apis') return groupInfo(parts[1]);
    if (parts.length === 3 && parts[0] === 'apis') return resourceList(parts[1], parts[2]);
    return undefined;
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(
            500,
            'InternalError',
            `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`,
          );
    send(res, apiError.code, apiError.toStatus());
  }
}

/** Splits a resource URL; undefined when it names no served resource. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    [group, version, rest] = ['', parts[1], parts.slice(2)];
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  } else {
    return undefined;
  }
  // `namespaces/<ns>/<resource>...` is a namespaced path unless it addresses the namespace itself (`namespaces/x/status`).
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    const type = findResource(group, version, rest[2]);
    if (!type?.namespaced) return undefined;
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const type = findResource(group, version, rest[0]);
  if (!type) return undefined;
  // A namespaced resource without `namespaces/<ns>/` can only be listed across namespaces, not addressed by name.
  if (type.namespaced && rest.length > 1) return undefined;
  return { type, name: rest[1], subresource: rest[2] };
}

/** The user of a request without a bearer token (only `/version` serves one). */
const ANONYMOUS = 'system:anonymous';

const COLLECTION_VERBS = new Map([
  ['POST', 'create'],
  ['DELETE', 'deletecollection'],
]);
const OBJECT_VERBS = new Map([
  ['GET', 'get'],
  ['PUT', 'update'],
  ['PATCH', 'patch'],
  ['DELETE', 'delete'],
]);

/**
 * The RBAC verb of a request (`get` one, `list` many, `watch`, `create`, `update`, `patch`, `delete`,
 * `deletecollection`); `pods/eviction` and `serviceaccounts/token` are creates.
 * @throws ApiError 405 for a method the path does not serve
 */
function verbOf(method: string, path: ResourcePath, query: URLSearchParams): string {
  if (path.name === undefined) {
    if (method === 'GET') return query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    const verb = COLLECTION_VERBS.get(method);
    if (verb) return verb;
    throw methodNotAllowed();
  }
  if (path.subresource === 'eviction' || path.subresource === 'token') {
    if (method === 'POST' && path.namespace !== undefined) return 'create';
    throw methodNotAllowed();
  }
  const verb = OBJECT_VERBS.get(method);
  if (verb) return verb;
  throw methodNotAllowed();
}

/** `DeleteOptions.preconditions` of a DELETE body, when it names any. */
function preconditionsOf(body: Json | undefined): { resourceVersion?: string; uid?: string } | undefined {
  if (!isJsonObject(body) || !isJsonObject(body.preconditions)) return undefined;
  const { resourceVersion, uid } = body.preconditions;
  return {
    ...(typeof resourceVersion === 'string' ? { resourceVersion } : {}),
    ...(typeof uid === 'string' ? { uid } : {}),
  };
}

function wantsTable(req: IncomingMessage): boolean {
  return /;\s*as=Table/.test(req.headers.accept ?? '');
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    // Only JSON is spoken here; YAML or protobuf bodies are the client's mistake, as with a real server.
    throw badRequest(`the request body is not valid JSON: ${text.slice(0, 80)}`);
  }
}
