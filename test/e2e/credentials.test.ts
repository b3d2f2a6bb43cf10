import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { type ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { EXIT, type Io, main } from '../../local/cli/program';
import { caught } from '../support/thrown';
import { E2E } from './harness';

/*
 * `edgekeeper credentials create --sandbox DIR` against a sandbox, as an operator runs it with the admin's
 * kubeconfig: what it stores must be the edgekeeper ServiceAccount's own, bounded identity, held to
 * deploy/rbac.yaml, and nothing it prints may carry the token.
 */

const PARAMETER = '/edgekeeper/kubeconfig';
const IDENTITY = 'system:serviceaccount:kube-system:edgekeeper';

function capture(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}

describe('edgekeeper credentials create', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await E2E.start({ prefix: 'edgekeeper-e2e-credentials-' });
  });

  afterAll(async () => {
    await e2e?.stop();
  });

  /** The kubeconfig stored in the parameter, read back with decryption as the steps read it. */
  async function storedKubeconfig(): Promise<KubeConfig> {
    const { Parameter } = await e2e.ssm.send(new GetParameterCommand({ Name: PARAMETER, WithDecryption: true }));
    const config = new KubeConfig();
    config.loadFromString(Parameter?.Value ?? '');
    return config;
  }

  it('stores a kubeconfig of the edgekeeper ServiceAccount, held to deploy/rbac.yaml, and prints no token', async () => {
    // Act
    const io = capture();
    const code = await main(['credentials', 'create', '--sandbox', e2e.dir, '--duration', '2h'], io);
    const config = await storedKubeconfig();
    const core = config.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    const secrets = await caught(core.listNamespacedSecret({ namespace: 'default' }));
    const token = config.getCurrentUser()?.token ?? '';

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(nodes.items.length).toBeGreaterThan(0);
    expect((secrets as ApiException<string>).code).toBe(403);
    expect(String((secrets as ApiException<string>).body)).toContain(`User \\"${IDENTITY}\\" cannot list`);
    expect(token.length).toBeGreaterThan(16);
    expect(`${io.out()}${io.err()}`).not.toContain(token);
    expect(io.out()).toContain(PARAMETER);
    expect(io.out()).toContain(IDENTITY);
    const expiry = Date.parse(/expires at (\S+)\./.exec(io.out())?.[1] ?? '');
    expect(Math.abs(expiry - (Date.now() + 2 * 3600_000))).toBeLessThan(60_000);
    expect(io.out()).toContain('Run `edgekeeper credentials create` again before then');
    await expect(
      e2e.core.readNamespacedServiceAccount({ name: 'edgekeeper', namespace: 'kube-system' }),
    ).resolves.toBeDefined();
  });

  it('replaces the objects and the parameter when run again, with a new token', async () => {
    // Prepare
    const before = (await storedKubeconfig()).getCurrentUser()?.token;

    // Act
    const io = capture();
    const code = await main(['credentials', 'create', '--sandbox', e2e.dir, '--json'], io);
    const result = JSON.parse(io.out()) as { parameter: string; version: number; identity: string; applied: string[] };
    const after = (await storedKubeconfig()).getCurrentUser()?.token;

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(result).toMatchObject({ parameter: PARAMETER, version: 2, identity: IDENTITY });
    expect(result.applied).toContain('ServiceAccount kube-system/edgekeeper updated');
    expect(after).not.toBe(before);
    expect(io.out()).not.toContain(after);
  });

  it('prints the kubeconfig with --print, its warning on stderr, and leaves the parameter as it was', async () => {
    // Act
    const io = capture();
    const code = await main(['credentials', 'create', '--sandbox', e2e.dir, '--print', '--duration', '10m'], io);
    const printed = new KubeConfig();
    printed.loadFromString(io.out());
    const nodes = await printed.makeApiClient(CoreV1Api).listNode();
    const { Parameter } = await e2e.ssm.send(new GetParameterCommand({ Name: PARAMETER }));

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(nodes.items.length).toBeGreaterThan(0);
    expect(io.err()).toContain(`warning: that kubeconfig holds a bearer token: whoever reads it acts as ${IDENTITY}`);
    expect(io.err()).not.toContain(printed.getCurrentUser()?.token ?? '');
    expect(Parameter?.Version).toBe(2);
  });
});
