import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { jsonPatch, mergePatch } from '../../../functions/shared/k8s';
import { typedApis } from '../../../functions/shared/kube-api';

/** What the server saw of one request. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly accept: string | undefined;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

let server: Server;
let seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };
/** API discovery documents by path (`/apis/rbac.authorization.k8s.io/v1`), answered instead of `answer` */
const DISCOVERY: Record<string, unknown> = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'configmaps', kind: 'ConfigMap', namespaced: true, singularName: '', verbs: ['delete'] },
      { name: 'namespaces', kind: 'Namespace', namespaced: false, singularName: '', verbs: ['delete'] },
    ],
  },
  '/apis/rbac.authorization.k8s.io/v1': {
    kind: 'APIResourceList',
    groupVersion: 'rbac.authorization.k8s.io/v1',
    resources: [{ name: 'clusterroles', kind: 'ClusterRole', namespaced: false, singularName: '', verbs: ['delete'] }],
  },
};

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // the query's order is the only freedom: the generated methods set parameters in the API's order
      const url = new URL(request.url ?? '', 'http://server');
      url.searchParams.sort();
      seen.push({
        method: request.method ?? '',
        url: `${url.pathname}${url.search}`,
        accept: request.headers.accept,
        contentType: request.headers['content-type'],
        authorization: request.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const discovery = DISCOVERY[url.pathname];
      response.writeHead(discovery ? 200 : answer.status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(discovery ?? answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  seen = [];
});

/** The generated classes and ours over the same configuration, as makeClients builds it. */
function bothApis(namespace?: string) {
  const config = new KubeConfig();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config.loadFromOptions({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-bearer-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace }],
    currentContext: 'test',
  });
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(url, {}),
    authMethods: { default: config },
  });
  return {
    generated: {
      core: new CoreV1Api(configuration),
      apps: new AppsV1Api(configuration),
      coordination: new CoordinationV1Api(configuration),
      objects: KubernetesObjectApi.makeApiClient(config),
    },
    ours: typedApis(configuration, namespace),
  };
}

type Outcome = { value: unknown } | { code: number; message: string; body: unknown };

/** The answer of one call, or the ApiException it threw. */
async function outcomeOf(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await call() };
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, message: error.message, body: error.body };
  }
}

const lease = {
  metadata: { name: 'edgekeeper-node-edge-1', namespace: 'kubeedge', resourceVersion: '7' },
  spec: {
    holderIdentity: 'arn:aws:states:eu-west-1:1:execution:onboard:op-1',
    leaseDurationSeconds: 900,
    acquireTime: new Date('2026-12-02T10:00:00.123Z'),
    renewTime: new Date('2026-12-02T10:05:00.456Z'),
  },
};
const leaseJson = JSON.parse(JSON.stringify(lease));
const node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'edge-1', creationTimestamp: '2026-12-02T09:00:00Z' },
  status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-02T09:01:00Z' }] },
};

/**
 * Each call the steps make, as [api, method, request, answer]: run through the generated class and through ours,
 * against the same server, they must send the same request and answer the same.
 */
const CALLS: [keyof ReturnType<typeof bothApis>['ours'], string, Record<string, unknown>, unknown][] = [
  ['core', 'readNode', { name: 'edge-1' }, node],
  [
    'core',
    'listNode',
    { labelSelector: 'node-role.kubernetes.io/edge=', limit: 500, _continue: 'abc' },
    { items: [node] },
  ],
  ['core', 'patchNode', { name: 'edge-1', body: [{ op: 'add', path: '/metadata/labels/a', value: 'b' }] }, node],
  ['core', 'deleteNode', { name: 'edge-1', gracePeriodSeconds: 0 }, { kind: 'Status', status: 'Success' }],
  ['core', 'readNamespace', { name: 'kubeedge' }, { metadata: { name: 'kubeedge' } }],
  ['core', 'deleteNamespace', { name: 'kubeedge', propagationPolicy: 'Foreground' }, { kind: 'Status' }],
  ['core', 'readNamespacedConfigMap', { name: 'a', namespace: 'kube-system' }, { data: { k: 'v' } }],
  ['core', 'createNamespacedConfigMap', { namespace: 'kube-system', body: { metadata: { name: 'a' } } }, {}],
  ['core', 'replaceNamespacedConfigMap', { name: 'a', namespace: 'kube-system', body: { data: { k: 'v' } } }, {}],
  ['core', 'deleteNamespacedConfigMap', { name: 'a', namespace: 'kube-system' }, { kind: 'Status' }],
  ['core', 'readNamespacedSecret', { name: 's', namespace: 'kubeedge' }, { data: { token: 'dG9r' } }],
  ['core', 'listNamespacedSecret', { namespace: 'kubeedge', labelSelector: 'owner=helm' }, { items: [] }],
  ['core', 'deleteNamespacedSecret', { name: 's', namespace: 'kubeedge' }, { kind: 'Status' }],
  ['core', 'listPodForAllNamespaces', { fieldSelector: 'spec.nodeName=edge-1', limit: 100 }, { items: [] }],
  [
    'core',
    'createNamespacedPodEviction',
    { name: 'p', namespace: 'default', body: { metadata: { name: 'p', namespace: 'default' } } },
    {},
  ],
  [
    'core',
    'createNamespacedServiceAccountToken',
    { name: 'edgekeeper', namespace: 'kube-system', body: { spec: { audiences: [], expirationSeconds: 3600 } } },
    { status: { token: 't', expirationTimestamp: '2026-12-02T11:00:00Z' } },
  ],
  ['apps', 'listDaemonSetForAllNamespaces', { limit: 500 }, { items: [] }],
  ['apps', 'readNamespacedDaemonSet', { name: 'kube-proxy', namespace: 'kube-system' }, {}],
  [
    'apps',
    'patchNamespacedDaemonSet',
    {
      name: 'kube-proxy',
      namespace: 'kube-system',
      body: [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }],
    },
    {},
  ],
  ['apps', 'readNamespacedDeployment', { name: 'cloudcore', namespace: 'kubeedge' }, {}],
  ['coordination', 'readNamespacedLease', { name: 'l', namespace: 'kubeedge' }, leaseJson],
  ['coordination', 'listNamespacedLease', { namespace: 'kubeedge', labelSelector: 'a=b' }, { items: [leaseJson] }],
  ['coordination', 'createNamespacedLease', { namespace: 'kubeedge', body: lease }, leaseJson],
  ['coordination', 'replaceNamespacedLease', { name: 'l', namespace: 'kubeedge', body: lease }, leaseJson],
  ['coordination', 'deleteNamespacedLease', { name: 'l', namespace: 'kubeedge' }, { kind: 'Status' }],
];

describe('the typed APIs of kube-api.ts', () => {
  it('cover every call of their type', () => {
    // Prepare
    const { ours } = bothApis();

    // Assess
    const covered = [
      ...CALLS.map(([api, method]) => `${api}.${method}`),
      'coordination.deleteCollectionNamespacedLease',
      'objects.delete',
    ];
    covered.sort();
    const offered = Object.entries(ours)
      .flatMap(([api, methods]) => Object.keys(methods).map((method) => `${api}.${method}`))
      .sort();
    expect(offered).toEqual(covered);
  });

  it.each(CALLS)('%s.%s sends and answers what the generated method does', async (api, method, request, body) => {
    // Prepare
    const { generated, ours } = bothApis();
    answer = { status: 200, body };
    const callOf = (apis: Record<string, unknown>) => () =>
      (apis[api] as Record<string, (r: unknown) => Promise<unknown>>)[method]?.(request) as Promise<unknown>;

    // Act
    const theirs = await outcomeOf(callOf(generated));
    const mine = await outcomeOf(callOf(ours));

    // Assess
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]?.authorization).toBe('Bearer test-bearer-token');
    expect(mine).toEqual(theirs);
  });

  it('deletes a collection of Leases as the generated method does, and answers the list of the deleted Leases', async () => {
    // Prepare: the API server answers a deletecollection with the list of what it deleted
    const { generated, ours } = bothApis();
    answer = { status: 200, body: { kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', items: [leaseJson] } };
    const request = { namespace: 'kube-system', labelSelector: 'a=b,!c' };

    // Act
    await generated.coordination.deleteCollectionNamespacedLease(request);
    const mine = await ours.coordination.deleteCollectionNamespacedLease(request);

    // Assess
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]).toMatchObject({
      method: 'DELETE',
      url: expect.stringMatching(/\/leases\?labelSelector=a%3Db%2C%21c$/),
    });
    expect(mine).toEqual(await generated.coordination.listNamespacedLease({ namespace: 'kube-system' }));
    expect(mine.items.map((item) => item.metadata?.name)).toEqual(['edgekeeper-node-edge-1']);
  });

  it.each([
    [401, { kind: 'Status', message: 'Unauthorized', code: 401 }],
    [404, { kind: 'Status', message: 'nodes "edge-1" not found', code: 404 }],
    [409, { kind: 'Status', message: 'the object has been modified', code: 409 }],
    [500, { kind: 'Status', message: 'etcd timeout', code: 500 }],
  ])('fails with the ApiException the generated method throws on HTTP %i', async (status, body) => {
    // Prepare
    const { generated, ours } = bothApis();
    answer = { status, body };

    // Act
    const theirs = await outcomeOf(() => generated.core.readNode({ name: 'edge-1' }));
    const mine = await outcomeOf(() => ours.core.readNode({ name: 'edge-1' }));

    // Assess
    expect('code' in mine && mine.code).toBe(status);
    expect(mine).toEqual(theirs);
  });

  it.each([
    ['a JSON Patch', jsonPatch, 'application/json-patch+json'],
    ['a merge patch', mergePatch, 'application/merge-patch+json'],
  ])('sends %s with the Content-Type its options set', async (_kind, options, contentType) => {
    // Prepare
    const { ours } = bothApis();
    answer = { status: 200, body: node };

    // Act
    await ours.core.patchNode({ name: 'edge-1', body: { spec: { unschedulable: true } } }, options);

    // Assess
    expect(seen[0]?.contentType).toBe(contentType);
  });

  it.each([
    [
      'a namespaced object',
      undefined,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'kubeedge' } },
    ],
    [
      'a namespaced object without a namespace',
      'edge',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
    ],
    ['a cluster object', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubeedge' } }],
    [
      'an object of an API group',
      undefined,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cloudcore' } },
    ],
  ])('deletes %s by apiVersion and kind as KubernetesObjectApi does', async (_case, namespace, spec) => {
    // Prepare
    const { generated, ours } = bothApis(namespace);
    answer = { status: 200, body: { kind: 'Status', status: 'Success' } };

    // Act
    const theirs = await outcomeOf(() => generated.objects.delete(structuredClone(spec)));
    const mine = await outcomeOf(() => ours.objects.delete(structuredClone(spec)));

    // Assess: each reads the discovery document once, then deletes on the same path
    expect(seen).toHaveLength(4);
    expect(seen[2]).toEqual(seen[0]);
    expect(seen[3]).toEqual(seen[1]);
    expect(seen[1]).toMatchObject({ method: 'DELETE', authorization: 'Bearer test-bearer-token' });
    expect(mine).toEqual(theirs);
  });

  it('fails a delete of an unknown kind or a missing object as KubernetesObjectApi does', async () => {
    // Prepare
    const { generated, ours } = bothApis();
    answer = { status: 404, body: { kind: 'Status', message: 'configmaps "a" not found', code: 404 } };
    const unknown = { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'a' } };
    const missing = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'kubeedge' } };

    // Act
    const unknownTheirs = await generated.objects.delete(structuredClone(unknown)).catch((error: unknown) => error);
    const unknownMine = await ours.objects.delete(structuredClone(unknown)).catch((error: unknown) => error);
    const missingTheirs = await outcomeOf(() => generated.objects.delete(structuredClone(missing)));
    const missingMine = await outcomeOf(() => ours.objects.delete(structuredClone(missing)));

    // Assess
    expect(unknownTheirs).toEqual(new Error('Unrecognized API version and kind: v1 Widget'));
    expect(unknownMine).toEqual(unknownTheirs);
    expect('code' in missingMine && missingMine.code).toBe(404);
    expect(missingMine).toEqual(missingTheirs);
  });

  it('fails a delete whose API version is not served as KubernetesObjectApi does: a 404 naming the kind', async () => {
    // Prepare: the group's discovery document is gone (its CRD was deleted first)
    const { generated, ours } = bothApis();
    answer = {
      status: 404,
      body: { kind: 'Status', message: 'the server could not find the requested resource', code: 404 },
    };
    const spec = { apiVersion: 'devices.kubeedge.io/v1beta1', kind: 'Device', metadata: { name: 'd', namespace: 'a' } };

    // Act
    const theirs = await outcomeOf(() => generated.objects.delete(structuredClone(spec)));
    const mine = await outcomeOf(() => ours.objects.delete(structuredClone(spec)));

    // Assess
    expect(mine).toMatchObject({
      code: 404,
      message: expect.stringMatching(/^Failed to fetch resource metadata for devices\.kubeedge\.io\/v1beta1\/Device: /),
    });
    expect(mine).toEqual(theirs);
  });
});
