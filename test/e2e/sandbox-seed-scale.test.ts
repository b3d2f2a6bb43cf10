import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type SandboxCluster, startCluster } from '../../local/sandbox/cluster';
import { cloudNodeObjects, daemonSetObjects, edgeNodeObjects } from '../../local/sandbox/cluster/seed-nodes';

let cluster: SandboxCluster;
let dir: string;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-seed-'));
  cluster = await startCluster({ dir });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
  core = config.makeApiClient(CoreV1Api);
  apps = config.makeApiClient(AppsV1Api);
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const podsOf = async (daemonSet: string) =>
  (await core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${daemonSet}` })).items.map(
    (pod) => pod.spec?.nodeName,
  );

describe('seeding a large cluster for the scale benches', () => {
  it('adds Ready cloud nodes in pools and add-on DaemonSets whose pods go where their placement says', async () => {
    // Prepare
    const pool = (n: number) => ({ 'bench.edgekeeper.io/pool': n <= 5 ? 'a' : 'b' });

    // Act
    cluster.seedObjects([
      ...cloudNodeObjects({ count: 10, prefix: 'cloud-', labelsOf: pool }),
      ...edgeNodeObjects({ count: 2, prefix: 'edge-' }),
      ...daemonSetObjects({
        count: 3,
        prefix: 'agent-',
        placementOf: (n) => (n === 1 ? 'lands-on-edge' : 'off-edge'),
        nodeSelectorOf: (n): Record<string, string> => (n === 3 ? { 'bench.edgekeeper.io/pool': 'b' } : {}),
      }),
    ]);

    // Assess
    const cloud = await core.listNode({ labelSelector: 'node-role.kubernetes.io/worker' });
    expect(cloud.items.filter((node) => node.metadata?.name?.startsWith('cloud-'))).toHaveLength(10);
    expect(cloud.items.find((node) => node.metadata?.name === 'cloud-7')?.metadata?.labels).toMatchObject({
      'bench.edgekeeper.io/pool': 'b',
    });
    expect(new Set(cloud.items.map((node) => node.status?.addresses?.[0]?.address)).size).toBe(cloud.items.length);
    // tolerating every taint, the first lands on the fixture's master and worker, the cloud nodes and the edge nodes
    expect((await podsOf('agent-1')).sort()).toEqual(
      expect.arrayContaining(['cloud-1', 'cloud-10', 'edge-1', 'edge-2', 'worker']),
    );
    expect(await podsOf('agent-2')).not.toContain('edge-1');
    expect((await podsOf('agent-2')).filter((node) => node?.startsWith('cloud-'))).toHaveLength(10);
    expect((await podsOf('agent-3')).sort()).toEqual(['cloud-10', 'cloud-6', 'cloud-7', 'cloud-8', 'cloud-9']);
    const affinity = (await apps.readNamespacedDaemonSet({ name: 'agent-2', namespace: 'default' })).spec?.template.spec
      ?.affinity;
    expect(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] },
    ]);
  });
});
