import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
// the module, not client-node's index (see k8s.ts)
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';

/** One line of a watch stream: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR` (its object a Status). */
export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

/**
 * Opens one watch request (`?watch=1`) on a collection path of the API (`/api/v1/nodes`) and yields its events as
 * they arrive, until the server ends the stream (its `timeoutSeconds`) or `signal` aborts it (then the iteration
 * throws the abort). Leaving the iteration early closes the connection. One call is one request to the API server.
 */
export type OpenWatch = (
  path: string,
  query: Readonly<Record<string, string>>,
  signal: AbortSignal,
) => AsyncIterable<WatchEvent>;

/**
 * Watches over the kubeconfig's cluster and credentials (client certificates, token, or the EKS authenticator),
 * over node:http(s) rather than the generated clients, which read a whole body before answering: a watch must be
 * read line by line. Until the response headers arrive, the request timeout applies, so a frozen API server fails
 * as a TimeoutError (a transport failure the step translates) instead of passing for a quiet watch. `onUnauthorized`
 * hears of an HTTP 401, like the clients' own middleware.
 */
export function watchOver(config: KubeConfig, timeoutSeconds: number, onUnauthorized?: () => void): OpenWatch {
  return async function* watch(path, query, signal) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    url.searchParams.set('watch', '1');
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
    await config.applyToHTTPSOptions(options);
    const connecting = new AbortController();
    const timer = setTimeout(
      () => connecting.abort(new DOMException('no answer within the request timeout', 'TimeoutError')),
      timeoutSeconds * 1000,
    );
    let response: IncomingMessage;
    try {
      response = await send(url, { ...options, signal: AbortSignal.any([signal, connecting.signal]) });
    } finally {
      clearTimeout(timer);
    }
    try {
      if (response.statusCode !== 200) {
        if (response.statusCode === 401) onUnauthorized?.();
        const body = await readAll(response);
        throw new ApiException(response.statusCode ?? 0, `watch ${path}`, body, flatHeaders(response));
      }
      // decoded as a whole stream: a character split between two chunks stays whole
      response.setEncoding('utf8');
      let pending = '';
      for await (const chunk of response) {
        const lines = (pending + (chunk as string)).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as WatchEvent;
      }
      signal.throwIfAborted();
    } finally {
      response.destroy();
    }
  };
}

function send(url: URL, options: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, resolve);
    request.on('error', reject);
    request.end();
  });
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : `${value}`,
    ]),
  );
}
