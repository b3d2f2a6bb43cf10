/*
 * client-node's own modules, not its index, which also evaluates exec, attach, port-forward and cp (ws, tar) that no
 * step uses; the package has no `exports` map, so these paths are public, and the classes are the ones the index
 * re-exports (ADR 0016). The client loads with the step: every Kubernetes step builds its clients on each call.
 */
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { type Configuration, createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
import type { PromiseMiddleware as Middleware } from '@kubernetes/client-node/dist/gen/middleware.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';
import type { EksTokenOptions } from './eks-token';
import { ClusterAccessDeniedError, TransientServiceError } from './errors';
import { type ObjectsApi, typedApis } from './kube-api';
import type { AppsApi, CoordinationApi, CoreApi } from './kube-endpoints';
import { type OpenWatch, watchOver } from './kube-watch';
import { currentEnvironment, EKS_SETTINGS, type Settings, SettingsError } from './settings';
import { readSecureParameter } from './ssm';
import { retryAfterSeconds, retryHint, transportFailure } from './transport';

/** The Kubernetes APIs the steps use, built once per cluster source and reused while the Lambda is warm. */
export interface KubeClients {
  readonly core: CoreApi;
  readonly apps: AppsApi;
  readonly coordination: CoordinationApi;
  /** generic access by apiVersion/kind, for Helm release objects of any type */
  readonly objects: ObjectsApi;
  /** one watch request, read event by event (the generated clients read a whole body first) */
  readonly watch: OpenWatch;
}

const cache = new Map<string, Promise<KubeClients>>();

/** Where the EKS token's credentials and clock come from, when not the AWS SDK's default chain and the real clock. */
export type EksSigning = Pick<EksTokenOptions, 'credentials' | 'now'>;

/**
 * Cluster access from the settings (`clusterAuth`):
 * - `kubeconfig`: a kubeconfig kept as an SSM SecureString (deployed), or the KUBECONFIG file (local runs and the
 *   sandbox). The kubeconfig holds credentials: it is never logged or returned.
 * - `eks`: the EKS API server at `clusterEndpoint`, trusted through `clusterCertificateAuthority` alone, with a
 *   token presigned with the step's own AWS credentials on each request (see eks-token.ts).
 * The clients, and with them the kubeconfig or the EKS token, are kept for the container's life. `signing` is for
 * tests: clients built with it are not cached.
 */
export function kubeClients(settings: Settings, signing?: EksSigning): Promise<KubeClients> {
  const timeoutSeconds = settings.requestTimeoutSeconds;
  const build = (onUnauthorized?: () => void) =>
    loadKubeConfig(settings, signing).then((config) => makeClients(config, timeoutSeconds, onUnauthorized));
  if (signing) return build();
  const key = `${clusterSource(settings)} ${timeoutSeconds}`;
  let clients = cache.get(key);
  if (!clients) {
    const built = build(() => forget(key, built));
    // A failed load (parameter missing, throttled) must not poison the cache for the next invocation.
    built.catch(() => forget(key, built));
    cache.set(key, built);
    clients = built;
  }
  return clients;
}

/**
 * Drops cached clients, unless newer ones replaced them already. The next call reads the credentials again: after a
 * failed load, and after the API server refused them (HTTP 401), e.g. a kubeconfig whose token expired and that
 * `edgekeeper credentials create` has since replaced, which a warm container would otherwise keep sending.
 */
function forget(key: string, clients: Promise<KubeClients>): void {
  if (cache.get(key) === clients) cache.delete(key);
}

/** What identifies the cluster and the credentials a set of clients uses: the key of the container's cache. */
function clusterSource(settings: Settings): string {
  if (settings.clusterAuth === 'eks') return `eks:${settings.eksClusterName} ${settings.clusterEndpoint}`;
  return settings.kubeconfigParameter ? `ssm:${settings.kubeconfigParameter}` : `file:${settings.kubeconfigPath ?? ''}`;
}

async function loadKubeConfig(settings: Settings, signing: EksSigning | undefined): Promise<KubeConfig> {
  if (settings.clusterAuth === 'eks') return eksKubeConfig(settings, signing ?? {});
  const config = new KubeConfig();
  if (settings.kubeconfigParameter) {
    config.loadFromString(await readSecureParameter(settings, settings.kubeconfigParameter));
  } else if (settings.kubeconfigPath) {
    config.loadFromFile(settings.kubeconfigPath);
  } else {
    config.loadFromDefault();
  }
  return config;
}

/** The user of the EKS kubeconfig: it has no token of its own, the authenticator below gives one per request. */
const EKS_USER = 'edgekeeper-eks';

/**
 * A kubeconfig for the EKS cluster of the settings: its endpoint, its certificate authority (the only one trusted),
 * and a user whose `Authorization: Bearer` header comes from the container's token source on every request, so a
 * refreshed token is used without rebuilding the clients.
 * @throws SettingsError when a setting EKS needs is missing (readSettings refuses that already; a caller may not)
 */
function eksKubeConfig(settings: Settings, signing: EksSigning): KubeConfig {
  const missing = EKS_SETTINGS.filter((name) => settings[name] === undefined);
  if (missing.length > 0) throw new SettingsError(`cluster auth eks needs ${missing.join(', ')}, which are unset`);
  const {
    eksClusterName: clusterName,
    clusterEndpoint: server,
    clusterCertificateAuthority: caData,
  } = settings as Settings & { readonly [N in (typeof EKS_SETTINGS)[number]]: string };
  const region = currentEnvironment().AWS_REGION;
  if (!region)
    throw new SettingsError('cluster auth eks needs AWS_REGION: the EKS token is signed for its STS endpoint');
  // The AWS credential chain and the signer load with cluster auth eks only, not with every step (ADR 0016);
  // the bundler keeps a required module's own requires until this runs.
  const { EksTokenSource } = require('./eks-token') as typeof import('./eks-token');
  const tokens = new EksTokenSource({ clusterName, region, ...signing });
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: clusterName, server, caData, skipTLSVerify: false }],
    users: [{ name: EKS_USER }],
    contexts: [{ name: clusterName, cluster: clusterName, user: EKS_USER }],
    currentContext: clusterName,
  });
  config.addAuthenticator({
    isAuthProvider: (user) => user.name === EKS_USER,
    applyAuthentication: async (_user, options) => {
      options.headers = { ...options.headers, Authorization: `Bearer ${await tokens.token()}` };
    },
  });
  return config;
}

/**
 * The API clients (kube-api.ts: the calls the generated classes would make) on the configuration of
 * {@link clusterConfiguration}, plus one watch request read event by event.
 */
export function makeClients(config: KubeConfig, timeoutSeconds: number, onUnauthorized?: () => void): KubeClients {
  // the kubeconfig context's namespace, as KubernetesObjectApi.makeApiClient takes it
  const namespace = config.getContextObject(config.getCurrentContext())?.namespace || undefined;
  return {
    ...typedApis(clusterConfiguration(config, timeoutSeconds, onUnauthorized), namespace),
    watch: watchOver(config, timeoutSeconds, onUnauthorized),
  };
}

/**
 * The configuration `KubeConfig.makeApiClient` builds, plus two middlewares. Every request carries an abort signal
 * that fires after the request timeout, so a frozen API server fails the call (translated to a
 * TransientServiceError) instead of hanging the step. Per-call options (the patch content types) append to it.
 * `onUnauthorized` hears of every answer with HTTP 401 (the credentials were refused).
 */
export function clusterConfiguration(
  config: KubeConfig,
  timeoutSeconds: number,
  onUnauthorized?: () => void,
): Configuration {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new SettingsError('the kubeconfig has no current cluster');
  const timeout: Middleware = {
    pre: async (request) => {
      request.setSignal(AbortSignal.timeout(timeoutSeconds * 1000));
      return request;
    },
    post: async (response) => response,
  };
  const refused: Middleware = {
    pre: async (request) => request,
    post: async (response) => {
      if (response.httpStatusCode === 401) onUnauthorized?.();
      return response;
    },
  };
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [timeout, refused],
  });
}

/** Request options that send a body as a JSON Patch (client-node defaults to a merge patch otherwise). */
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Request options that send a body as a JSON Merge Patch. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a failed Kubernetes call, or undefined when it never got an answer. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown) => statusOf(error) === 404;
export const isConflict = (error: unknown) => statusOf(error) === 409;

/** The `message` of a Kubernetes Status body, without headers or anything else the exception carries. */
export function statusMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${error.code}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Classifies a failed Kubernetes call once: throttling (with the server's Retry-After as a hint), server errors,
 * refused or reset connections, DNS failures and the client-side timeout become TransientServiceError (the
 * workflow retries them); refused credentials (401) and missing permissions (403) a ClusterAccessDeniedError;
 * anything else is returned as it is, for the caller to decide.
 */
export function translateKubeError(error: unknown, doing: string): Error {
  const status = statusOf(error);
  if (status === 429 || (status !== undefined && status >= 500)) {
    const headers = (error as ApiException<unknown>).headers ?? {};
    const hint = retryHint(retryAfterSeconds(headers['retry-after'] ?? headers['Retry-After']));
    return new TransientServiceError(`${doing}: ${statusMessage(error)}${hint}`);
  }
  if (status === 401) {
    return new ClusterAccessDeniedError(
      `${doing}: ${statusMessage(error)}; the cluster did not accept the steps' credentials: with cluster auth eks ` +
        "the step's role needs its EKS access entry, with a kubeconfig its token may have expired " +
        '(`edgekeeper credentials create` makes a new one)',
    );
  }
  if (status === 403) {
    return new ClusterAccessDeniedError(
      `${doing}: ${statusMessage(error)}; the cluster identity needs the permissions in deploy/rbac.yaml`,
    );
  }
  const transport = status === undefined ? transportFailure(error) : undefined;
  if (transport === 'timeout') {
    return new TransientServiceError(`${doing}: the Kubernetes API did not answer within the request timeout`);
  }
  if (transport === 'network') return new TransientServiceError(`${doing}: ${statusMessage(error)}`);
  return error instanceof Error ? error : new Error(String(error));
}
