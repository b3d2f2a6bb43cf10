import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { type SandboxCluster, startCluster } from '../../local/sandbox/cluster';
import { type EdgeServices, fallbackPath, type HostTraits, startEdgeServices } from '../../local/sandbox/edge';

/** Result of a shell command run on a sandbox host. */
export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real sandbox cluster plus the edge stand-ins, in a temporary directory removed by `stop()`. */
export class EdgeHarness {
  private constructor(
    readonly dir: string,
    readonly cluster: SandboxCluster,
    readonly edge: EdgeServices,
    readonly core: CoreV1Api,
  ) {}

  static async start(): Promise<EdgeHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-edge-'));
    const cluster = await startCluster({ dir: join(dir, 'cluster') });
    const edge = await startEdgeServices({
      dir: join(dir, 'edge'),
      kubeconfigPath: cluster.kubeconfigPath,
      readyDelayMs: 0,
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    return new EdgeHarness(dir, cluster, edge, kubeConfig.makeApiClient(CoreV1Api));
  }

  port(name: EdgeServices['endpoints'][number]['name']): number {
    const endpoint = this.edge.endpoints.find((e) => e.name === name);
    if (!endpoint) throw new Error(`no endpoint ${name}`);
    return endpoint.port;
  }

  async token(): Promise<string> {
    const secret = await this.core.readNamespacedSecret({ name: 'tokensecret', namespace: 'kubeedge' });
    return Buffer.from(secret.data?.tokendata ?? '', 'base64').toString('utf8');
  }

  /** Provisions a host root under the harness directory and returns its path. */
  async host(name: string, traits: Partial<HostTraits> = {}): Promise<string> {
    const root = join(this.dir, 'hosts', name);
    await this.edge.provisionHost(root, {
      instanceId: `mi-${name}`,
      name,
      os: 'ubuntu',
      arch: 'x86_64',
      runtime: { kind: 'docker', version: '20.10.7' },
      online: true,
      cloudcoreReachable: true,
      ...traits,
    });
    return root;
  }

  /** Runs a script the fallback way: SANDBOX_HOST_ROOT + a PATH of stand-ins and allowed tools. */
  fallback(root: string, script: string, stdin = ''): Promise<ShellResult> {
    return shell(
      'bash',
      ['--norc', '--noprofile', '-c', `cd "${root}" && ${script}`],
      { SANDBOX_HOST_ROOT: root, PATH: fallbackPath(root) },
      stdin,
    );
  }

  async node(name: string): Promise<V1Node | undefined> {
    try {
      return await this.core.readNode({ name });
    } catch {
      return undefined;
    }
  }

  /** Polls until the Node's Ready condition has `status` (the cloudcore stand-in flips it asynchronously). */
  async nodeReady(name: string, status: 'True' | 'False' | 'Unknown'): Promise<V1Node> {
    for (;;) {
      const node = await this.node(name);
      if (node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === status)) return node;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await this.edge.stop();
    await this.cluster.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Runs a command with the given environment (PATH included) and stdin; never rejects. */
export function shell(command: string, args: string[], env: Record<string, string>, stdin = ''): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    // A command may exit before reading its stdin (EPIPE): its exit code and output are what the tests read.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin);
  });
}

/** KubeSphere's command shape (docs/kubeedge.md §2), with the mirror's base and the stand-ins' ports. */
export function kubesphereJoinCommand(
  h: EdgeHarness,
  token: string,
  options: { version?: string; extra?: string } = {},
): string {
  const version = options.version ?? 'v1.6.2';
  const file = `keadm-${version}-linux-amd64.tar.gz`;
  return [
    `curl -sfLO http://127.0.0.1:${h.port('mirror')}/bin/${version}/amd64/${file}`,
    `tar xvf ${file}`,
    'chmod +x keadm',
    `./keadm join --kubeedge-version=${version.slice(1)} --cloudcore-ipport=127.0.0.1:${h.port('cloudhub')}` +
      ` --quicport ${h.port('quic')} --certport ${h.port('https')} --tunnelport ${h.port('tunnel')}` +
      ` --edgenode-name edge-1 --edgenode-ip 10.20.0.11 --token ${token}${options.extra ?? ''}`,
  ].join(' && ');
}
