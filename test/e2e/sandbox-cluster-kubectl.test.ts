import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type SandboxCluster, startCluster } from '../../local/sandbox/cluster';

const run = promisify(execFile);
let cluster: SandboxCluster;
let dir: string;

/** Runs the real kubectl against the sandbox, with its discovery cache inside the test's temp dir. */
async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/kubectl', ['--cache-dir', join(dir, 'kube-cache'), ...args], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
    timeout: 20_000,
  });
  return stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-kubectl-'));
  cluster = await startCluster({ dir });
});

afterAll(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sandbox cluster through the real kubectl', () => {
  it('lists nodes and DaemonSets across namespaces with their columns', async () => {
    const out = await kubectl('get', 'nodes,ds', '-A');
    expect(out).toMatch(/node\/master\s+Ready\s+control-plane,master\s+\S+\s+v1\.21\.5/);
    expect(out).toMatch(/node\/worker\s+Ready\s+worker/);
    expect(out).toMatch(/NAMESPACE\s+NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE/);
    expect(out).toMatch(/kube-system\s+daemonset\.apps\/calico-node\s+2\s+2\s+2/);
    expect(out).toMatch(/kubesphere-monitoring-system\s+daemonset\.apps\/node-exporter/);
  });

  it('shows the NODE of every pod with -o wide, and the nodes INTERNAL-IP', async () => {
    const pods = await kubectl('get', 'pods', '-A', '-o', 'wide');
    expect(pods.split('\n')[0]).toMatch(
      /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE/,
    );
    expect(pods).toMatch(/kube-system\s+kube-proxy-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\S+\s+172\.31\.0\.11\s+worker/);
    const nodes = await kubectl('get', 'nodes', '-o', 'wide');
    expect(nodes).toMatch(/master\s+Ready\s+control-plane,master\s+\S+\s+v1\.21\.5\s+172\.31\.0\.10/);
  });

  it('describes a DaemonSet pod with its controller', async () => {
    const names = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=calico-node', '-o', 'name');
    const pod = names.trim().split('\n')[0].replace('pod/', '');
    const out = await kubectl('describe', 'pod', '-n', 'kube-system', pod);
    expect(out).toContain('Controlled By:  DaemonSet/calico-node');
    expect(out).toMatch(/Node:\s+(master|worker)\/172\.31\.0\.1[01]/);
  });

  it('merge-patches and JSON-patches a DaemonSet', async () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] },
          ],
        },
      },
    };
    const merged = await kubectl(
      'patch',
      'ds/calico-node',
      '-n',
      'kube-system',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { template: { spec: { affinity } } } }),
    );
    expect(merged.trim()).toBe('daemonset.apps/calico-node patched');
    const json = await kubectl(
      'patch',
      'ds/kube-proxy',
      '-n',
      'kube-system',
      '--type',
      'json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/spec/template/spec/affinity', value: affinity }]),
    );
    expect(json.trim()).toBe('daemonset.apps/kube-proxy patched');
    const stored = JSON.parse(await kubectl('get', 'ds', '-n', 'kube-system', 'kube-proxy', '-o', 'json'));
    expect(stored.spec.template.spec.affinity).toEqual(affinity);
    const strategic = await kubectl(
      'patch',
      'ds/nodelocaldns',
      '-n',
      'kube-system',
      '-p',
      JSON.stringify({
        spec: {
          template: { spec: { containers: [{ name: 'node-cache', image: 'kubesphere/k8s-dns-node-cache:1.17.0' }] } },
        },
      }),
    );
    expect(strategic.trim()).toBe('daemonset.apps/nodelocaldns patched');
  });

  it('deletes a node promptly and its pods with it', async () => {
    const out = await kubectl('delete', 'node', 'worker');
    expect(out.trim()).toBe('node "worker" deleted');
    const pods = await kubectl('get', 'pods', '-A', '-o', 'wide');
    expect(pods).not.toMatch(/\sworker\s/);
  });

  it('deletes a namespace and waits until it is gone', async () => {
    const out = await kubectl('delete', 'namespace', 'kubeedge');
    expect(out.trim()).toBe('namespace "kubeedge" deleted');
    const namespaces = await kubectl('get', 'namespaces', '-o', 'name');
    expect(namespaces).not.toContain('namespace/kubeedge');
  });
});
