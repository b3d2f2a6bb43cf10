import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Namespace,
  type V1Node,
} from '@kubernetes/client-node';
import { CLOUDCORE_USER, EDGEKEEPER_USER, type SandboxCluster, startCluster } from '../../local/sandbox/cluster';

let cluster: SandboxCluster;
let dir: string;
let core: CoreV1Api;
let apps: AppsV1Api;
let coordination: CoordinationV1Api;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-cluster-'));
  cluster = await startCluster({ dir });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  coordination = kc.makeApiClient(CoordinationV1Api);
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The HTTP code and Status reason of a failed call. */
async function failure(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as {
      reason: string;
      message: string;
      kind: string;
    };
    expect(body.kind).toBe('Status');
    return { code: error.code, reason: body.reason, message: body.message };
  }
  throw new Error('expected the call to fail');
}

function edgeNode(name: string, ip: string, taint = false): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'node-role.kubernetes.io/edge': '',
        'node-role.kubernetes.io/agent': '',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'arm64',
      },
    },
    spec: taint ? { taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' }] } : {},
    status: {
      addresses: [{ type: 'InternalIP', address: ip }],
      nodeInfo: { kubeletVersion: 'v1.19.3-kubeedge-v1.7.2' } as never,
    },
  };
}

function rawGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function podsOn(node: string) {
  const { items } = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
  return items;
}

describe('sandbox cluster through @kubernetes/client-node', () => {
  it('serves the seeded KubeSphere nodes, with the master as control plane', async () => {
    const { items } = await core.listNode();
    expect(items.map((n) => n.metadata?.name)).toEqual(['master', 'worker']);
    const master = items[0];
    expect(master.metadata?.labels).toHaveProperty(['node-role.kubernetes.io/control-plane'], '');
    expect(master.status?.addresses).toContainEqual({ type: 'InternalIP', address: '172.31.0.10' });
    expect(master.status?.nodeInfo?.kubeletVersion).toBe('v1.21.5');
  });

  it('answers 401 with a Status without the bearer token, but serves /version openly', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64');
    const denied = await rawGet(`${cluster.url}/api/v1/nodes`, ca);
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body)).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    const version = await rawGet(`${cluster.url}/version`, ca);
    expect(JSON.parse(version.body)).toMatchObject({ major: '1', minor: '32' });
  });

  it('creates, reads, updates and deletes a ConfigMap, with server-owned metadata', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'settings' }, data: { a: '1' } },
    });
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toBeTruthy();
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const updated = await core.replaceNamespacedConfigMap({
      name: 'settings',
      namespace: 'default',
      body: { ...created, data: { a: '2' } },
    });
    expect(updated.data).toEqual({ a: '2' });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));

    await core.deleteNamespacedConfigMap({ name: 'settings', namespace: 'default' });
    await expect(failure(core.readNamespacedConfigMap({ name: 'settings', namespace: 'default' }))).resolves.toEqual({
      code: 404,
      reason: 'NotFound',
      message: 'configmaps "settings" not found',
    });
  });

  it('fails with 409 AlreadyExists on a duplicate name and names objects from generateName', async () => {
    await expect(
      failure(core.createNamespacedConfigMap({ namespace: 'kubeedge', body: { metadata: { name: 'cloudcore' } } })),
    ).resolves.toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const generated = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { generateName: 'tmp-' } },
    });
    expect(generated.metadata?.name).toMatch(/^tmp-[a-z0-9]{5}$/);
  });

  it('fails with 409 Conflict when an update carries a stale resourceVersion', async () => {
    const lease = await coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: 'probe' }, spec: { holderIdentity: 'a' } },
    });
    await coordination.replaceNamespacedLease({
      name: 'probe',
      namespace: 'kube-node-lease',
      body: { ...lease, spec: { holderIdentity: 'b' } },
    });
    await expect(
      failure(
        coordination.replaceNamespacedLease({
          name: 'probe',
          namespace: 'kube-node-lease',
          body: { ...lease, spec: { holderIdentity: 'c' } },
        }),
      ),
    ).resolves.toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('fails with 404 when creating into a namespace that does not exist', async () => {
    await expect(
      failure(core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } })),
    ).resolves.toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "nowhere" not found' });
  });

  it('pages through pods across namespaces with limit and continue', async () => {
    const all = await core.listPodForAllNamespaces();
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ limit: 4, _continue: token });
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
      token = page.metadata?._continue;
    } while (token);
    expect(seen).toEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
    expect(all.items.length).toBeGreaterThan(8);
  });

  it('filters pods by label selector operators and by metadata.name', async () => {
    const calico = await core.listNamespacedPod({
      namespace: 'kube-system',
      labelSelector: 'k8s-app in (calico-node)',
    });
    expect(calico.items).toHaveLength(2);
    const notCalico = await core.listNamespacedPod({
      namespace: 'kube-system',
      labelSelector: 'k8s-app notin (calico-node),k8s-app',
    });
    expect(notCalico.items.every((p) => p.metadata?.labels?.['k8s-app'] !== 'calico-node')).toBe(true);
    const noApp = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: '!k8s-app' });
    expect(noApp.items.every((p) => p.metadata?.labels?.['k8s-app'] === undefined)).toBe(true);
    const name = calico.items[0].metadata?.name ?? '';
    const byName = await core.listNamespacedPod({ namespace: 'kube-system', fieldSelector: `metadata.name=${name}` });
    expect(byName.items.map((p) => p.metadata?.name)).toEqual([name]);
  });

  it('applies merge, JSON and strategic merge patches and answers with the full object', async () => {
    const merged = await apps.patchNamespacedDaemonSet(
      { name: 'nodelocaldns', namespace: 'kube-system', body: { metadata: { labels: { team: 'net' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ 'k8s-app': 'nodelocaldns', team: 'net' });
    expect(merged.spec?.template.spec?.containers[0].name).toBe('node-cache');

    const jsonPatched = await apps.patchNamespacedDaemonSet(
      {
        name: 'nodelocaldns',
        namespace: 'kube-system',
        body: [
          { op: 'test', path: '/metadata/labels/team', value: 'net' },
          { op: 'remove', path: '/metadata/labels/team' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.labels).toEqual({ 'k8s-app': 'nodelocaldns' });

    const strategic = await apps.patchNamespacedDaemonSet(
      {
        name: 'nodelocaldns',
        namespace: 'kube-system',
        body: {
          spec: {
            template: { spec: { containers: [{ name: 'node-cache', image: 'kubesphere/k8s-dns-node-cache:1.17.0' }] } },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const container = strategic.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('kubesphere/k8s-dns-node-cache:1.17.0');
    // Merged by name, not replaced: the args survive.
    expect(container?.args).toContain('-localip');
  });

  it('fails a JSON patch whose test op does not hold with 422', async () => {
    await expect(
      failure(
        apps.patchNamespacedDaemonSet(
          {
            name: 'kube-proxy',
            namespace: 'kube-system',
            body: [{ op: 'test', path: '/metadata/name', value: 'other' }],
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        ),
      ),
    ).resolves.toMatchObject({ code: 422, reason: 'Invalid' });
  });

  it('rejects a malformed node affinity with 422 naming the field', async () => {
    const result = await failure(
      apps.patchNamespacedDaemonSet(
        {
          name: 'kube-proxy',
          namespace: 'kube-system',
          body: {
            spec: {
              template: {
                spec: {
                  affinity: {
                    nodeAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [
                          {
                            matchExpressions: [
                              { key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist', values: ['x'] },
                            ],
                          },
                        ],
                      },
                    },
                  },
                },
              },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(result).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(result.message).toContain(
      'spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values',
    );
  });

  it('rejects invalid names and taint effects with 422', async () => {
    await expect(failure(core.createNode({ body: { metadata: { name: 'Edge_1' } } }))).resolves.toMatchObject({
      code: 422,
      reason: 'Invalid',
    });
    const bad = edgeNode('edge-bad', '10.0.0.9');
    bad.spec = { taints: [{ key: 'node-role.kubernetes.io/edge', effect: 'Sometimes' }] };
    const result = await failure(core.createNode({ body: bad }));
    expect(result.message).toContain('spec.taints[0].effect');
  });

  it('updates node status only through /status', async () => {
    await core.createNode({ body: edgeNode('edge-status', '10.0.0.8') });
    await core.patchNodeStatus(
      {
        name: 'edge-status',
        body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'EdgeReady' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const node = await core.readNode({ name: 'edge-status' });
    expect(node.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '10.0.0.8' });
    await core.deleteNode({ name: 'edge-status' });
  });

  it('deletes a namespace with everything in it', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c' } } });
    const deleting = await core.deleteNamespace({ name: 'doomed' });
    // The API server answers with the namespace itself, now Terminating (typed V1Status by the client).
    expect((deleting as unknown as V1Namespace).status?.phase).toBe('Terminating');
    for (let i = 0; i < 50; i += 1) {
      const gone = await core.readNamespace({ name: 'doomed' }).then(
        () => false,
        () => true,
      );
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expect(failure(core.readNamespace({ name: 'doomed' }))).resolves.toMatchObject({ code: 404 });
    const leftovers = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.namespace=doomed' });
    expect(leftovers.items).toEqual([]);
  });

  it('stores the kubeedge Helm release as Helm 3 does and a fresh cloudcore token', async () => {
    const secret = await core.readNamespacedSecret({ name: 'sh.helm.release.v1.kubeedge.v1', namespace: 'kubeedge' });
    expect(secret.type).toBe('helm.sh/release.v1');
    expect(secret.metadata?.labels).toEqual({ name: 'kubeedge', owner: 'helm', status: 'deployed', version: '1' });
    const helmEncoded = Buffer.from(secret.data?.release ?? '', 'base64').toString('utf8');
    const release = JSON.parse(gunzipSync(Buffer.from(helmEncoded, 'base64')).toString('utf8'));
    expect(release).toMatchObject({
      name: 'kubeedge',
      namespace: 'kubeedge',
      version: 1,
      info: { status: 'deployed' },
      hooks: [],
    });
    expect(release.manifest).toContain('name: devices.devices.kubeedge.io');
    const config = await core.readNamespacedConfigMap({ name: 'cloudcore', namespace: 'kubeedge' });
    expect(config.data?.['cloudcore.yaml']).toContain('streamPort: 10003');

    const token = await core.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    const tokendata = Buffer.from(token.data?.tokendata ?? '', 'base64').toString('utf8');
    expect(tokendata).toMatch(/^[0-9a-f]{64}\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('counts requests per verb and resource', async () => {
    cluster.requestLog.reset();
    await core.listNamespacedPod({ namespace: 'kube-system' });
    await core.listNamespacedPod({ namespace: 'default' });
    await apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' });
    expect(cluster.requestLog.counts()).toEqual({ 'get daemonsets': 1, 'list pods': 2 });
  });

  it('counts each client apart: the admin, the cloudcore stand-in and the steps’ ServiceAccount', async () => {
    // Prepare
    const clientOf = (path: string) => {
      const config = new KubeConfig();
      config.loadFromFile(path);
      return config.makeApiClient(CoreV1Api);
    };
    const cloudcore = clientOf(cluster.cloudcoreKubeconfigPath);
    const steps = clientOf(cluster.edgekeeperKubeconfigPath);
    cluster.requestLog.reset();

    // Act
    await core.listNamespacedPod({ namespace: 'kube-system' });
    await cloudcore.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    await cloudcore.listNode();
    await steps.readNamespacedConfigMap({ name: 'cloudcore', namespace: 'kubeedge' });

    // Assess
    expect(cluster.requestLog.byClient()).toEqual({
      admin: { 'list pods': 1 },
      [CLOUDCORE_USER]: { 'get secrets': 1, 'list nodes': 1 },
      [EDGEKEEPER_USER]: { 'get configmaps': 1 },
    });
    expect(cluster.requestLog.counts(CLOUDCORE_USER)).toEqual({ 'get secrets': 1, 'list nodes': 1 });
    expect(cluster.requestLog.total()).toBe(4);
    expect(cluster.requestLog.trace().map((r) => [r.verb, r.resource, r.namespace, r.name])).toEqual([
      ['list', 'pods', 'kube-system', undefined],
      ['get', 'secrets', 'kubeedge', 'tokensecret'],
      ['list', 'nodes', undefined, undefined],
      ['get', 'configmaps', 'kubeedge', 'cloudcore'],
    ]);
  });

  it('pages a list through continue tokens, the same items as one list, while nothing is written', async () => {
    // Prepare
    const whole = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=' });

    // Act
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=', limit: 3, _continue: token });
      names.push(...page.items.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`));
      token = page.metadata?._continue || undefined;
    } while (token);

    // Assess
    expect(names).toEqual(whole.items.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`));
    expect(names.length).toBeGreaterThan(3);
  });
});

describe('DaemonSet controller', () => {
  const pendingOnEdge = ['calico-node', 'kube-proxy', 'nodelocaldns'];

  it('starts pods on a new edge node: CNI, kube-proxy and DNS stay Pending; node-exporter stays away', async () => {
    await core.createNode({ body: edgeNode('edge-1', '192.168.10.21') });
    const pods = await podsOn('edge-1');
    const byDs = new Map(pods.map((p) => [p.metadata?.ownerReferences?.[0].name, p]));
    for (const name of pendingOnEdge) {
      const pod = byDs.get(name);
      expect(pod?.metadata?.name).toMatch(new RegExp(`^${name}-[a-z0-9]{5}$`));
      expect(pod?.status?.phase).toBe('Pending');
      expect(pod?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', controller: true });
    }
    expect(byDs.has('node-exporter')).toBe(false);
    expect(byDs.get('edgemesh-agent')?.status?.phase).toBe('Running');
    const onWorker = await podsOn('worker');
    expect(onWorker.filter((p) => p.metadata?.ownerReferences?.[0].name === 'calico-node')[0].status?.phase).toBe(
      'Running',
    );
  });

  it('removes the pod when the DaemonSet gains node-role.kubernetes.io/edge DoesNotExist, and reports status', async () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] },
          ],
        },
      },
    };
    const body = { spec: { template: { spec: { affinity } } } };
    await apps.patchNamespacedDaemonSet(
      { name: 'calico-node', namespace: 'kube-system', body },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const owners = (await podsOn('edge-1')).map((p) => p.metadata?.ownerReferences?.[0].name);
    expect(owners).not.toContain('calico-node');
    expect(owners).toContain('kube-proxy');
    const ds = await apps.readNamespacedDaemonSet({ name: 'calico-node', namespace: 'kube-system' });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2 });
  });

  it('places no pod where the edge taint is not tolerated, and follows label changes', async () => {
    await core.createNode({ body: edgeNode('edge-2', '192.168.10.22', true) });
    const owners = (await podsOn('edge-2')).map((p) => p.metadata?.ownerReferences?.[0].name).sort();
    // Tolerate-everything DaemonSets and edgemesh-agent (tolerates the edge taint) only.
    expect(owners).toEqual(['edgemesh-agent', 'kube-proxy', 'nodelocaldns', 'nvidia-device-plugin']);
    await core.patchNode(
      { name: 'edge-2', body: { metadata: { labels: { 'node-role.kubernetes.io/edge': null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = (await podsOn('edge-2')).map((p) => p.metadata?.ownerReferences?.[0].name);
    expect(after).not.toContain('edgemesh-agent');
    expect(after).toContain('node-exporter');
  });

  it('deletes the pods bound to a node when the node is deleted', async () => {
    expect((await podsOn('edge-1')).length).toBeGreaterThan(0);
    await core.deleteNode({ name: 'edge-1' });
    expect(await podsOn('edge-1')).toEqual([]);
  });

  it('runs Deployment pods on cloud nodes: cloudcore and metrics-server', async () => {
    const { items } = await core.listPodForAllNamespaces({ labelSelector: 'k8s-app in (kubeedge, metrics-server)' });
    const images = items.map((p) => p.spec?.containers[0].image).sort();
    expect(images).toEqual(expect.arrayContaining(['kubesphere/cloudcore:v1.7.2', 'kubesphere/metrics-server:v0.4.2']));
    const cloudcore = items.find((p) => p.spec?.containers[0].image === 'kubesphere/cloudcore:v1.7.2');
    expect(cloudcore?.status?.phase).toBe('Running');
    expect(['master', 'worker']).toContain(cloudcore?.spec?.nodeName);
  });

  it('refuses an eviction a PodDisruptionBudget forbids with 429, and allows it otherwise', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const { PolicyV1Api } = await import('@kubernetes/client-node');
    const policy = kc.makeApiClient(PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'metrics-server' },
        spec: { minAvailable: 1, selector: { matchLabels: { 'k8s-app': 'metrics-server' } } },
      },
    });
    const [pod] = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=metrics-server' }))
      .items;
    const evict = () =>
      core.createNamespacedPodEviction({
        name: pod.metadata?.name ?? '',
        namespace: 'kube-system',
        body: { metadata: { name: pod.metadata?.name, namespace: 'kube-system' } },
      });
    await expect(failure(evict())).resolves.toMatchObject({ code: 429, reason: 'TooManyRequests' });
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'metrics-server', namespace: 'kube-system' });
    await evict();
    await expect(
      failure(core.readNamespacedPod({ name: pod.metadata?.name ?? '', namespace: 'kube-system' })),
    ).resolves.toMatchObject({
      code: 404,
    });
  });
});
