import type { ServerResponse } from 'node:http';
import type { ResourceType } from '../resources';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../selectors';
import type { Store } from '../store';
import type { KubeObject } from '../types';

/** What a watch request asks for. */
export interface WatchRequest {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Absent or "0": start with ADDED events for what exists (the API server's rule). */
  readonly resourceVersion?: string;
  readonly timeoutSeconds?: number;
}

/**
 * A minimal watch: a chunked stream of `{type, object}` lines for changes to matching objects, ended by
 * `timeoutSeconds` or server shutdown. No consumer needs more, but `kubectl delete ns` waits on a watch for the
 * namespace to disappear, and it is cheaper to stream the event than to explain a hang.
 */
export function serveWatch(
  store: Store,
  request: WatchRequest,
  response: ServerResponse,
  onEnd: () => void,
): () => void {
  const labels = request.labelSelector ? parseLabelSelector(request.labelSelector) : [];
  const fields = request.fieldSelector ? parseFieldSelector(request.fieldSelector) : [];
  const matches = (o: KubeObject) =>
    (request.namespace === undefined || o.metadata.namespace === request.namespace) &&
    matchesLabels(labels, o.metadata.labels) &&
    matchesFields(fields, o);
  response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  const send = (type: string, object: KubeObject) => response.write(`${JSON.stringify({ type, object })}\n`);
  if (request.resourceVersion === undefined || request.resourceVersion === '' || request.resourceVersion === '0') {
    for (const o of store.list(request.type, request.namespace)) if (matches(o)) send('ADDED', o);
  }
  const unsubscribe = store.onChange((type, change, object) => {
    if (type === request.type && matches(object)) send(change, object);
  });
  const end = () => {
    clearTimeout(timer);
    unsubscribe();
    if (!response.writableEnded) response.end();
    onEnd();
  };
  const timer = setTimeout(end, (request.timeoutSeconds ?? 1800) * 1000);
  response.on('close', end);
  return end;
}
