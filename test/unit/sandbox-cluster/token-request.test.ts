import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import { EDGEKEEPER_USER } from '../../../local/sandbox/cluster/rbac';
import { caught } from '../../support/thrown';

/*
 * The sandbox's TokenRequest API (`serviceaccounts/<name>/token`): a bounded token for an existing ServiceAccount,
 * held to the same RBAC manifest as the token the sandbox starts with, and unknown (401) once it has expired.
 */
let cluster: SandboxCluster;
let dir: string;
let now = new Date('2026-12-02T07:00:00Z');
let admin: CoreV1Api;
let steps: CoreV1Api;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-token-request-'));
  cluster = await startCluster({ dir, now: () => now });
  admin = clientOf((config) => config.loadFromFile(cluster.kubeconfigPath));
  steps = clientOf((config) => config.loadFromFile(cluster.edgekeeperKubeconfigPath));
  await admin.createNamespacedServiceAccount({
    namespace: 'kube-system',
    body: { metadata: { name: 'edgekeeper', namespace: 'kube-system' } },
  });
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

function clientOf(load: (config: KubeConfig) => void): CoreV1Api {
  const config = new KubeConfig();
  load(config);
  return config.makeApiClient(CoreV1Api);
}

/** A client of the sandbox's API server with a bearer token. */
function withToken(token: string): CoreV1Api {
  const server = new KubeConfig();
  server.loadFromFile(cluster.kubeconfigPath);
  const sandbox = server.getCurrentCluster();
  if (!sandbox) throw new Error('the sandbox kubeconfig has no cluster');
  return clientOf((config) =>
    config.loadFromOptions({
      clusters: [sandbox],
      users: [{ name: 'issued', token }],
      contexts: [{ name: 'issued', cluster: sandbox.name, user: 'issued' }],
      currentContext: 'issued',
    }),
  );
}

function requestToken(client: CoreV1Api, name: string, expirationSeconds?: number) {
  return client.createNamespacedServiceAccountToken({
    name,
    namespace: 'kube-system',
    body: { spec: { audiences: [], ...(expirationSeconds === undefined ? {} : { expirationSeconds }) } },
  });
}

function codeOf(error: Error): number {
  expect(error).toBeInstanceOf(ApiException);
  return (error as ApiException<unknown>).code;
}

describe('the TokenRequest API of the sandbox', () => {
  it('issues a token held to deploy/rbac.yaml that answers 401 once expired', async () => {
    // Act
    const answer = await requestToken(admin, 'edgekeeper', 600);
    const issued = withToken(answer.status?.token ?? '');
    const nodes = await issued.listNode();
    const secrets = await caught(issued.listNamespacedSecret({ namespace: 'default' }));
    now = new Date(now.getTime() + 600_000);
    const expired = await caught(issued.listNode());

    // Assess
    expect(answer.status?.expirationTimestamp).toEqual(new Date('2026-12-02T07:10:00Z'));
    expect(nodes.items.length).toBeGreaterThan(0);
    expect(codeOf(secrets)).toBe(403);
    expect(String((secrets as ApiException<unknown>).body)).toContain(EDGEKEEPER_USER);
    expect(codeOf(expired)).toBe(401);
  });

  it('refuses less than ten minutes (422), a ServiceAccount that does not exist (404), and the steps (403)', async () => {
    // Act
    const short = await caught(requestToken(admin, 'edgekeeper', 599));
    const missing = await caught(requestToken(admin, 'nobody'));
    const denied = await caught(requestToken(steps, 'edgekeeper'));

    // Assess
    expect(codeOf(short)).toBe(422);
    expect(String((short as ApiException<unknown>).body)).toContain('spec.expirationSeconds');
    expect(codeOf(missing)).toBe(404);
    expect(codeOf(denied)).toBe(403);
    expect(String((denied as ApiException<unknown>).body)).toContain(
      'cannot create resource \\"serviceaccounts/token\\"',
    );
  });
});
