import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { clusterReadPort } from '../../../functions/drift-check-cluster/ports';
import { type Page, pages } from '../../../functions/drift-findings/findings';
import { makeClients } from '../../../functions/shared/k8s';

let server: Server;
const asked: URL[] = [];

/** An API server with three pages of everything: `continue` is the next page's number. */
beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    asked.push(url);
    const page = Number(url.searchParams.get('continue') ?? '0');
    const kind = url.pathname.endsWith('/nodes') ? 'Node' : url.pathname.endsWith('/pods') ? 'Pod' : 'DaemonSet';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        kind: `${kind}List`,
        apiVersion: kind === 'DaemonSet' ? 'apps/v1' : 'v1',
        metadata: page < 2 ? { continue: String(page + 1) } : {},
        items: [{ metadata: { name: `${kind.toLowerCase()}-${page}`, namespace: 'ns' }, spec: { template: {} } }],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

function port() {
  const config = new KubeConfig();
  config.loadFromOptions({
    // plain HTTP on loopback, for the test only: client-node asks for skipTLSVerify to allow it
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return clusterReadPort(makeClients(config, 5));
}

describe('the drift check’s reads over the Kubernetes API', () => {
  it.each([
    ['edge nodes', '/api/v1/nodes', { labelSelector: 'node-role.kubernetes.io/edge' }],
    ['DaemonSets', '/apis/apps/v1/daemonsets', {}],
    ['bound pods', '/api/v1/pods', { fieldSelector: 'spec.nodeName!=' }],
  ] as const)('lists %s 500 at a time, following continue to the last page', async (_what, path, selectors) => {
    // Prepare
    asked.length = 0;
    const reads = port();
    const lists: Record<string, (token?: string) => Promise<Page<{ metadata?: { name?: string } }>>> = {
      '/api/v1/nodes': reads.listEdgeNodes,
      '/api/v1/pods': reads.listBoundPods,
      '/apis/apps/v1/daemonsets': reads.listDaemonSets,
    };
    const list = lists[path];

    // Act
    const names: string[] = [];
    for await (const page of pages((token) => list(token))) {
      names.push(...page.map((item) => String(item.metadata?.name)));
    }

    // Assess
    expect(names).toHaveLength(3);
    expect(asked.map((url) => [url.pathname, url.searchParams.get('continue')])).toEqual([
      [path, null],
      [path, '1'],
      [path, '2'],
    ]);
    for (const url of asked) {
      expect(url.searchParams.get('limit')).toBe('500');
      for (const [key, value] of Object.entries(selectors)) expect(url.searchParams.get(key)).toBe(value);
    }
  });
});
