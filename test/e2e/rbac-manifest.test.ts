import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RBAC_MANIFEST } from '../../local/sandbox/cluster/rbac';
import { E2E, EDGE_EXCLUSION, HOSTS, requiredTerms } from './harness';

/*
 * The steps reach the sandbox's API as ServiceAccount kube-system/edgekeeper, held to deploy/rbac.yaml: a verb the
 * manifest lacks fails the workflow, and the rules used only on rarer paths are used here (the suite's teardown
 * fails on a grant no test used).
 */

describe('the workflows under deploy/rbac.yaml', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await E2E.start({ prefix: 'edgekeeper-e2e-rbac-' });
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  it('reads a DaemonSet again when it changed under the patch (409), and still keeps it off the edge node', async () => {
    // Prepare
    e2e.handle.faults.inject({
      service: 'kube',
      method: 'PATCH',
      path: /\/namespaces\/kube-system\/daemonsets\/calico-node$/,
      fault: { kind: 'status', status: 409, message: 'the object has been modified' },
    });

    // Act
    const run = await e2e.onboard({ nodeName: 'edge-rbac', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });

    // Assess
    expect(run.result.status).toBe('SUCCEEDED');
    expect(e2e.handle.faults.history().map((f) => `${f.method} ${f.path}`)).toEqual([
      'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node',
    ]);
    for (const term of requiredTerms(await e2e.daemonSet('kube-system', 'calico-node')) ?? []) {
      expect(term.matchExpressions).toContainEqual(EDGE_EXCLUSION);
    }
  });
});

describe('a manifest without a verb the workflows use', () => {
  let e2e: E2E;
  let manifestDir: string;

  beforeAll(async () => {
    // The onboarding's first step checks that the join token Secret exists: take away that one grant.
    const manifest = readFileSync(RBAC_MANIFEST, 'utf8');
    const reduced = manifest.replace(
      / {2}- apiGroups: \[""\]\n {4}resources: \[secrets\]\n {4}resourceNames: \[tokensecret\]\n {4}verbs: \[get\]\n/,
      '',
    );
    expect(reduced).not.toBe(manifest);
    manifestDir = mkdtempSync(join(tmpdir(), 'edgekeeper-rbac-manifest-'));
    writeFileSync(join(manifestDir, 'rbac.yaml'), reduced);
    e2e = await E2E.start({
      prefix: 'edgekeeper-e2e-rbac-denied-',
      sandbox: { rbacManifest: join(manifestDir, 'rbac.yaml') },
    });
  });

  afterAll(async () => {
    await e2e?.stop();
    rmSync(manifestDir, { recursive: true, force: true });
  });

  it('fails the onboarding with the API server 403 naming the verb, and changes nothing', async () => {
    // Act
    const run = await e2e.onboard({ nodeName: 'edge-denied', nodeIp: '10.20.0.11', instanceId: HOSTS.ubuntuAmd64 });

    // Assess
    expect(run.result.status).toBe('FAILED');
    // A permanent, named error that quotes the API server's Status (who, which verb, where) and the manifest.
    expect(run.result.error?.name).toBe('ClusterAccessDeniedError');
    expect(run.result.error?.message).toContain('HTTP 403');
    expect(run.result.error?.message).toContain('deploy/rbac.yaml');
    expect(run.result.error?.message).toMatch(
      /tokensecret.{0,12} is forbidden: User .{0,12}system:serviceaccount:kube-system:edgekeeper.{0,12} cannot get resource .{0,12}secrets.{0,12} in API group .{0,24} in the namespace .{0,12}kubeedge/,
    );
    expect(await e2e.node('edge-denied')).toBeUndefined();
    expect(await e2e.lease('edge-denied')).toBeUndefined();
  });
});
