import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { STEP_NAMES } from '../../../functions/registry';
import { type SandboxCluster, startCluster } from '../../../local/sandbox/cluster';
import {
  EDGEKEEPER_USER,
  formatPermission,
  grantsFor,
  loadGrants,
  RBAC_MANIFEST,
  RbacManifestError,
  type RequestAttributes,
  unusedPermissions,
} from '../../../local/sandbox/cluster/rbac';
import { AccessLog, readAccessLogs } from '../../../local/sandbox/cluster/request-log';
import { caught, thrown } from '../../support/thrown';

/*
 * The sandbox's RBAC: the edgekeeper ServiceAccount's kubeconfig is held to deploy/rbac.yaml (403 in the API
 * server's Status shape for anything else), the admin's is not, and the coverage check finds grants no call used.
 */
let cluster: SandboxCluster;
let dir: string;
let admin: { core: CoreV1Api; coordination: CoordinationV1Api };
let steps: { core: CoreV1Api; apps: AppsV1Api; coordination: CoordinationV1Api };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-rbac-'));
  cluster = await startCluster({ dir });
  const adminConfig = new KubeConfig();
  adminConfig.loadFromFile(cluster.kubeconfigPath);
  admin = { core: adminConfig.makeApiClient(CoreV1Api), coordination: adminConfig.makeApiClient(CoordinationV1Api) };
  const stepsConfig = new KubeConfig();
  stepsConfig.loadFromFile(cluster.edgekeeperKubeconfigPath);
  steps = {
    core: stepsConfig.makeApiClient(CoreV1Api),
    apps: stepsConfig.makeApiClient(AppsV1Api),
    coordination: stepsConfig.makeApiClient(CoordinationV1Api),
  };
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The Status body of a failed call. */
function status(error: unknown): { code: number; reason: string; message: string; kind: string } {
  expect(error).toBeInstanceOf(ApiException);
  const body = (error as ApiException<unknown>).body;
  return typeof body === 'string' ? JSON.parse(body) : (body as never);
}

describe('the edgekeeper identity in the sandbox', () => {
  it('does what the manifest grants: list nodes, read tokensecret, list DaemonSets everywhere', async () => {
    // Act
    const nodes = await steps.core.listNode();
    const token = await steps.core.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    const daemonSets = await steps.apps.listDaemonSetForAllNamespaces();

    // Assess
    expect(nodes.items.length).toBeGreaterThan(0);
    expect(token.data?.tokendata).toBeDefined();
    expect(daemonSets.items.length).toBeGreaterThan(0);
  });

  it('is refused a Secret the manifest does not name, with a 403 Status naming user, verb and namespace', async () => {
    // Act
    const error = await caught(
      steps.core.readNamespacedSecret({ name: 'sh.helm.release.v1.kubeedge.v1', namespace: 'kubeedge' }),
    );

    // Assess
    expect(status(error)).toMatchObject({
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: `secrets "sh.helm.release.v1.kubeedge.v1" is forbidden: User "${EDGEKEEPER_USER}" cannot get resource "secrets" in API group "" in the namespace "kubeedge"`,
    });
  });

  it('is refused Leases outside the lock namespace and namespaces other than kubeedge', async () => {
    // Act
    const lease = await caught(steps.coordination.listNamespacedLease({ namespace: 'default' }));
    const namespace = await caught(steps.core.deleteNamespace({ name: 'default' }));

    // Assess
    expect(status(lease).message).toBe(
      `leases.coordination.k8s.io is forbidden: User "${EDGEKEEPER_USER}" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "default"`,
    );
    expect(status(namespace).message).toBe(
      `namespaces "default" is forbidden: User "${EDGEKEEPER_USER}" cannot delete resource "namespaces" in API group "" at the cluster scope`,
    );
    expect((await admin.core.readNamespace({ name: 'default' })).status?.phase).toBe('Active');
  });

  it('may not list Secrets in kube-system though it may list them in kubeedge', async () => {
    // Act
    const refused = await caught(steps.core.listNamespacedSecret({ namespace: 'kube-system' }));
    const allowed = await steps.core.listNamespacedSecret({ namespace: 'kubeedge', labelSelector: 'owner=helm' });

    // Assess
    expect(status(refused).code).toBe(403);
    expect(allowed.items.map((s) => s.metadata?.name)).toEqual(['sh.helm.release.v1.kubeedge.v1']);
  });

  it('records the requests it was allowed, and not those it was refused', async () => {
    // Prepare
    const before = cluster.accessLog.all().length;

    // Act
    await steps.core.readNode({ name: (await admin.core.listNode()).items[0].metadata?.name ?? '' });
    await caught(steps.core.listNamespacedConfigMap({ namespace: 'kube-system' }));

    // Assess
    expect(cluster.accessLog.all().slice(before)).toEqual([
      { verb: 'get', apiGroup: '', resource: 'nodes', name: expect.any(String) },
    ]);
  });

  it('leaves the admin unrestricted (test setup, kubectl)', async () => {
    // Act
    const secrets = await admin.core.listNamespacedSecret({ namespace: 'kube-system' });

    // Assess
    expect(Array.isArray(secrets.items)).toBe(true);
  });
});

describe('a delete with preconditions', () => {
  const lease = (name: string) => ({
    metadata: { name, namespace: 'kube-system' },
    spec: { holderIdentity: 'test' },
  });

  it('answers 409 Conflict for a stale resourceVersion and deletes nothing', async () => {
    // Prepare
    const created = await admin.coordination.createNamespacedLease({ namespace: 'kube-system', body: lease('pre-a') });
    const stale = created.metadata?.resourceVersion ?? '';
    await admin.coordination.replaceNamespacedLease({
      name: 'pre-a',
      namespace: 'kube-system',
      body: { ...created, spec: { holderIdentity: 'someone-else' } },
    });

    // Act
    const error = await caught(
      steps.coordination.deleteNamespacedLease({
        name: 'pre-a',
        namespace: 'kube-system',
        body: { preconditions: { resourceVersion: stale } },
      }),
    );

    // Assess
    expect(status(error)).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(status(error).message).toContain(
      `Operation cannot be fulfilled on leases.coordination.k8s.io "pre-a": Precondition failed: ResourceVersion in precondition: ${stale}`,
    );
    const kept = await admin.coordination.readNamespacedLease({ name: 'pre-a', namespace: 'kube-system' });
    expect(kept.spec?.holderIdentity).toBe('someone-else');
  });

  it('deletes when the resourceVersion is the current one', async () => {
    // Prepare
    const created = await admin.coordination.createNamespacedLease({ namespace: 'kube-system', body: lease('pre-b') });

    // Act
    await steps.coordination.deleteNamespacedLease({
      name: 'pre-b',
      namespace: 'kube-system',
      body: { preconditions: { resourceVersion: created.metadata?.resourceVersion } },
    });

    // Assess
    const error = await caught(admin.coordination.readNamespacedLease({ name: 'pre-b', namespace: 'kube-system' }));
    expect(status(error).code).toBe(404);
  });
});

const MANIFEST = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reader }
rules:
  - { apiGroups: [""], resources: [configmaps], verbs: [get], resourceNames: [a, b] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: team }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader }
subjects: [{ kind: ServiceAccount, name: edgekeeper, namespace: kube-system }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: writer, namespace: team }
rules:
  - { apiGroups: [""], resources: [configmaps], verbs: [create, list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: writer, namespace: team }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: writer }
subjects: [{ kind: ServiceAccount, name: someone-else, namespace: kube-system }]
`;

describe('the grants of a manifest', () => {
  it('limits a ClusterRole bound by a RoleBinding to that namespace, and ignores bindings of other subjects', () => {
    // Act
    const grants = grantsFor(MANIFEST);

    // Assess
    expect(grants).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['get'],
        resourceNames: ['a', 'b'],
        namespace: 'team',
        source: 'ClusterRole reader rule 1 in team',
      },
    ]);
  });

  it('rejects a binding to a role the manifest does not define', () => {
    // Act
    const error = thrown(() =>
      grantsFor(MANIFEST.replace('kind: ClusterRole, name: reader', 'kind: ClusterRole, name: missing')),
    );

    // Assess
    expect(error).toBeInstanceOf(RbacManifestError);
    expect(error.message).toBe('RoleBinding reader: roleRef ClusterRole missing is not defined in the manifest');
  });

  it('counts a named permission used only by a request naming that object, in that namespace', () => {
    // Prepare
    const grants = grantsFor(MANIFEST);
    const used: RequestAttributes[] = [
      { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'team', name: 'a' },
      { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'other', name: 'b' },
    ];

    // Act
    const unused = unusedPermissions(grants, used).map(formatPermission);

    // Assess
    expect(unused).toEqual(['get configmaps "b" in team (ClusterRole reader rule 1 in team)']);
  });

  it('reads back the access log files a sandbox wrote', () => {
    // Prepare
    const logDir = join(dir, 'access');
    const log = new AccessLog(AccessLog.fileIn(logDir));
    log.record({ verb: 'list', apiGroup: 'apps', resource: 'daemonsets' });
    log.record({ verb: 'create', apiGroup: '', resource: 'pods/eviction', namespace: 'web', name: 'p-1' });

    // Act
    const read = readAccessLogs(logDir);

    // Assess
    expect(read).toEqual(log.all());
  });
});

describe('deploy/rbac.yaml', () => {
  it('binds the edgekeeper ServiceAccount, and each rule says which step needs it', () => {
    // Prepare
    const lines = readFileSync(RBAC_MANIFEST, 'utf8').split('\n');
    const ruleStarts = lines.flatMap((line, i) => (/^ {2}- apiGroups:/.test(line) ? [i] : []));

    // Act
    const uncommented = ruleStarts.filter((start) => {
      let i = start - 1;
      const comment: string[] = [];
      while (i >= 0 && /^\s*#/.test(lines[i])) comment.unshift(lines[i--]);
      // a rule directly under another rule shares its comment (same step, another API group)
      if (comment.length === 0 && /^ {4}verbs:/.test(lines[i] ?? '')) return false;
      return !STEP_NAMES.some((step) => comment.join(' ').includes(step));
    });

    // Assess
    expect(loadGrants().length).toBe(ruleStarts.length);
    expect(uncommented.map((i) => `line ${i + 1}: ${lines[i].trim()}`)).toEqual([]);
  });
});
