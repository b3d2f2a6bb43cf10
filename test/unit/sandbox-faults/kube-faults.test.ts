import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import { FaultPlan } from '../../../local/sandbox/faults';

/** The sandbox's Kubernetes API server with fault rules, called by the real client. */
describe('sandbox fault hooks: the Kubernetes API server', () => {
  let dir: string;
  let faults: FaultPlan;
  let cluster: SandboxCluster;
  let core: CoreV1Api;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-kube-faults-'));
    faults = new FaultPlan();
    cluster = await startCluster({ dir, faults });
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => faults.clear());

  it('answers 429 with Retry-After as a Kubernetes Status, for the matching method and path only', async () => {
    faults.inject({
      service: 'kube',
      method: 'GET',
      path: /\/api\/v1\/nodes\/master$/,
      fault: { kind: 'status', status: 429, retryAfterSeconds: 2 },
    });
    await expect(core.readNode({ name: 'worker' })).resolves.toBeDefined();
    const error = await core.readNode({ name: 'master' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(429);
    expect((error as ApiException<string>).headers['retry-after']).toBe('2');
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
    });
    await expect(core.readNode({ name: 'master' })).resolves.toBeDefined();
  });

  it('answers 500 as many times as asked', async () => {
    faults.inject({ service: 'kube', path: '/nodes', times: 2, fault: { kind: 'status', status: 500 } });
    for (let i = 0; i < 2; i++) await expect(core.listNode()).rejects.toMatchObject({ code: 500 });
    await expect(core.listNode()).resolves.toBeDefined();
  });

  it('resets the connection', async () => {
    faults.inject({ service: 'kube', path: '/nodes', fault: { kind: 'reset' } });
    await expect(core.listNode()).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it('stalls a request, then serves it', async () => {
    faults.inject({ service: 'kube', path: '/nodes', fault: { kind: 'stall', ms: 300 } });
    await expect(core.listNode()).resolves.toBeDefined();
    expect(faults.history().at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/nodes', fault: { kind: 'stall' } });
  });

  it('refuses connections for a while, then listens on the same port again', async () => {
    const refusing = faults.refuseConnections('kube', 300);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(core.listNode()).rejects.toThrow(/ECONNREFUSED/);
    await refusing;
    await expect(core.listNode()).resolves.toBeDefined();
  });
});
