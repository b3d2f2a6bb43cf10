import { GetParameterCommand } from '@aws-sdk/client-ssm';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { TransientServiceError } from './errors';
import { type Settings, SettingsError } from './settings';
import { ssmClient } from './ssm';

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
  const source = settings.kubeconfigParameter
    ? `ssm:${settings.kubeconfigParameter}`
    : `file:${settings.kubeconfigPath ?? ''}`;
  let clients = cache.get(source);
  if (!clients) {
    clients = loadKubeConfig(settings).then(makeClients);
    // A failed load (parameter missing, throttled) must not poison the cache for the next invocation.
    clients.catch(() => cache.delete(source));
    cache.set(source, clients);
  }
  return clients;
}

async function loadKubeConfig(settings: Settings): Promise<KubeConfig> {
  const config = new KubeConfig();
  if (settings.kubeconfigParameter) {
    const { Parameter } = await ssmClient(settings).send(
      new GetParameterCommand({ Name: settings.kubeconfigParameter, WithDecryption: true }),
    );
    if (!Parameter?.Value) throw new SettingsError(`SSM parameter ${settings.kubeconfigParameter} holds no kubeconfig`);
    config.loadFromString(Parameter.Value);
  } else if (settings.kubeconfigPath) {
    config.loadFromFile(settings.kubeconfigPath);
  } else {
    config.loadFromDefault();
  }
  return config;
}

function makeClients(config: KubeConfig): KubeClients {
  return {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
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
 * Classifies a failed Kubernetes call once: throttling, server errors and network failures become
 * TransientServiceError (the workflow retries them); anything else is rethrown as it is.
 */
export function translateKubeError(error: unknown, doing: string): Error {
  const status = statusOf(error);
  const transient = status === undefined ? isNetworkError(error) : status === 429 || status >= 500;
  if (transient) return new TransientServiceError(`${doing}: ${statusMessage(error)}`);
  return error instanceof Error ? error : new Error(String(error));
}

function isNetworkError(error: unknown): boolean {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code;
  const type = (error as { type?: unknown })?.type; // node-fetch reports its own timeouts by type, not code
  return (
    type === 'request-timeout' ||
    (typeof code === 'string' &&
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR)/.test(code))
  );
}
