import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  type Middleware,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ClusterAccessDeniedError, TransientServiceError } from './errors';
import { type Settings, SettingsError } from './settings';
import { readSecureParameter } from './ssm';
import { retryAfterSeconds, retryHint, transportFailure } from './transport';

/** The Kubernetes APIs the steps use, built once per cluster source and reused while the Lambda is warm. */
export interface KubeClients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;
  /** generic access by apiVersion/kind, for Helm release objects of any type */
  readonly objects: KubernetesObjectApi;
}

const cache = new Map<string, Promise<KubeClients>>();

/**
 * Cluster access from the settings: a kubeconfig kept as an SSM SecureString (deployed), or the KUBECONFIG file
 * (local runs and the sandbox). The kubeconfig holds credentials: it is never logged or returned.
 */
export function kubeClients(settings: Settings): Promise<KubeClients> {
  const timeoutSeconds = settings.requestTimeoutSeconds;
  const source = settings.kubeconfigParameter
    ? `ssm:${settings.kubeconfigParameter}`
    : `file:${settings.kubeconfigPath ?? ''}`;
  const key = `${source} ${timeoutSeconds}`;
  let clients = cache.get(key);
  if (!clients) {
    clients = loadKubeConfig(settings).then((config) => makeClients(config, timeoutSeconds));
    // A failed load (parameter missing, throttled) must not poison the cache for the next invocation.
    clients.catch(() => cache.delete(key));
    cache.set(key, clients);
  }
  return clients;
}

async function loadKubeConfig(settings: Settings): Promise<KubeConfig> {
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

/**
 * The API clients, built as `KubeConfig.makeApiClient` builds them plus one middleware: every request carries an
 * abort signal that fires after the request timeout, so a frozen API server fails the call (translated to a
 * TransientServiceError) instead of hanging the step. Per-call options (the patch content types) append to it.
 */
export function makeClients(config: KubeConfig, timeoutSeconds: number): KubeClients {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new SettingsError('the kubeconfig has no current cluster');
  const timeout: Middleware = {
    pre: async (request) => {
      request.setSignal(AbortSignal.timeout(timeoutSeconds * 1000));
      return request;
    },
    post: async (response) => response,
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [timeout],
  });
  return {
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    coordination: new CoordinationV1Api(configuration),
    objects: new ObjectApi(configuration, config),
  };
}

/** KubernetesObjectApi on a given configuration, with the kubeconfig's default namespace as makeApiClient sets it. */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: ConstructorParameters<typeof KubernetesObjectApi>[0], config: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(config);
  }
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
 * workflow retries them); anything else is returned as it is, for the caller to decide.
 */
export function translateKubeError(error: unknown, doing: string): Error {
  const status = statusOf(error);
  if (status === 429 || (status !== undefined && status >= 500)) {
    const headers = (error as ApiException<unknown>).headers ?? {};
    const hint = retryHint(retryAfterSeconds(headers['retry-after'] ?? headers['Retry-After']));
    return new TransientServiceError(`${doing}: ${statusMessage(error)}${hint}`);
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
