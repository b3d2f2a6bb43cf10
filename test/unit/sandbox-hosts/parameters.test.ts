import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { CommandRunner } from '../../../local/sandbox/hosts/commands';
import { AWS_STAND_IN } from '../../../local/sandbox/hosts/host-root';
import { ParameterStore, resolveAgentReferences } from '../../../local/sandbox/hosts/parameters';
import { type SsmEndpoint, startSsmEndpoint } from '../../../local/sandbox/hosts/ssm-endpoint';
import { caught } from '../../support/thrown';

const TOKEN = `${'b'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJl`;
const NAME = '/edgekeeper/join-token/onboard-edge-1';

/** The sandbox's Parameter Store, through the real SDK and through the hosts' `aws` stand-in. */
describe('sandbox Parameter Store', () => {
  let endpoint: SsmEndpoint;
  let client: SSMClient;
  let dir: string;
  let aws: string;

  beforeAll(async () => {
    endpoint = await startSsmEndpoint({ runner: new CommandRunner(new Map()), instances: [] });
    client = new SSMClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
      maxAttempts: 1,
    });
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-aws-'));
    aws = join(dir, 'aws');
    writeFileSync(aws, AWS_STAND_IN, { mode: 0o755 });
  });

  afterAll(async () => {
    client.destroy();
    await endpoint.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `aws ssm get-parameter …` as a host script runs it (asynchronously: the endpoint answers in this process). */
  function hostAws(
    args: string[],
    env: Record<string, string> = { AWS_ENDPOINT_URL_SSM: endpoint.url },
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'bash',
        [aws, 'ssm', 'get-parameter', ...args],
        { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env }, timeout: 10_000 },
        (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
      );
    });
  }

  it('keeps a SecureString: its value comes back only with decryption', async () => {
    await client.send(new PutParameterCommand({ Name: NAME, Value: TOKEN, Type: 'SecureString', Overwrite: true }));

    const hidden = await client.send(new GetParameterCommand({ Name: NAME }));
    const shown = await client.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }));

    expect(hidden.Parameter?.Type).toBe('SecureString');
    expect(hidden.Parameter?.Value).not.toContain(TOKEN);
    expect(shown.Parameter?.Value).toBe(TOKEN);
  });

  it('refuses to replace a parameter without Overwrite', async () => {
    await client.send(new PutParameterCommand({ Name: '/edgekeeper/once', Value: 'a', Type: 'String' }));

    const error = await caught(
      client.send(new PutParameterCommand({ Name: '/edgekeeper/once', Value: 'b', Type: 'String' })),
    );

    expect(error.name).toBe('ParameterAlreadyExists');
  });

  it('overwrites a SecureString with Intelligent-Tiering: Standard while it fits, Advanced from then on', async () => {
    const name = '/edgekeeper/kubeconfig-tiers';
    const put = (value: string) =>
      client.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: 'SecureString',
          Overwrite: true,
          Tier: 'Intelligent-Tiering',
        }),
      );

    const small = await put('a'.repeat(4096));
    const large = await put('b'.repeat(4097));
    const smallAgain = await put('c');
    const read = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));

    expect([small, large, smallAgain].map((answer) => [answer.Version, answer.Tier])).toEqual([
      [1, 'Standard'],
      [2, 'Advanced'],
      [3, 'Advanced'],
    ]);
    expect(read.Parameter?.Value).toBe('c');
  });

  it('deletes a parameter once; a second delete is ParameterNotFound, as in SSM', async () => {
    await client.send(new PutParameterCommand({ Name: '/edgekeeper/gone', Value: 'x', Type: 'SecureString' }));
    await client.send(new DeleteParameterCommand({ Name: '/edgekeeper/gone' }));

    const again = await caught(client.send(new DeleteParameterCommand({ Name: '/edgekeeper/gone' })));
    const read = await caught(client.send(new GetParameterCommand({ Name: '/edgekeeper/gone' })));

    expect(again).toBeInstanceOf(ParameterNotFound);
    expect(read).toBeInstanceOf(ParameterNotFound);
  });

  it("answers a host's `aws ssm get-parameter --with-decryption --query Parameter.Value --output text`", async () => {
    await client.send(new PutParameterCommand({ Name: NAME, Value: TOKEN, Type: 'SecureString', Overwrite: true }));

    const run = await hostAws(['--name', NAME, '--with-decryption', '--query', 'Parameter.Value', '--output', 'text']);

    expect([run.status, run.stdout, run.stderr]).toEqual([0, `${TOKEN}\n`, '']);
  });

  it('fails on a host as the AWS CLI does: a missing parameter, and no AWS configuration', async () => {
    const missing = await hostAws([
      '--name',
      '/edgekeeper/none',
      '--with-decryption',
      '--query',
      'Parameter.Value',
      '--output',
      'text',
    ]);
    const unconfigured = await hostAws(['--name', NAME], {});

    expect(missing.status).toBe(254);
    expect(missing.stderr).toContain('An error occurred (ParameterNotFound) when calling the GetParameter operation');
    expect(unconfigured.status).toBe(253);
    expect(unconfigured.stdout).toBe('');
  });

  it('forgets a parameter whose Expiration policy has come, and needs the Advanced tier for it', () => {
    let now = new Date('2026-12-02T04:00:00Z');
    const store = new ParameterStore(() => now);
    const policies = JSON.stringify([
      { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2026-12-02T05:00:00.000Z' } },
    ]);

    store.put({ name: NAME, value: TOKEN, type: 'SecureString', tier: 'Advanced', policies });
    const before = store.names();
    now = new Date('2026-12-02T05:00:00Z');

    expect(before).toEqual([NAME]);
    expect(store.get(NAME)).toBeUndefined();
    expect(store.names()).toEqual([]);
    expect(() => store.put({ name: '/x', value: 'v', type: 'String', policies })).toThrow(
      'parameter policies need the Advanced tier',
    );
  });

  describe("the agent's {{ssm:…}} references in a shell script's commands", () => {
    const store = new ParameterStore();
    store.put({ name: '/edgekeeper/site', value: 'lab-3', type: 'String' });
    store.put({ name: NAME, value: TOKEN, type: 'SecureString' });

    it('replaces a String reference on the host', () => {
      expect(resolveAgentReferences(['echo {{ssm:/edgekeeper/site}} {{ ssm:/edgekeeper/site }}'], store)).toEqual([
        'echo lab-3 lab-3',
      ]);
    });

    it('fails the command on a SecureString reference, as the agent does, without its value', () => {
      const run = resolveAgentReferences([`keadm join --token={{ssm:${NAME}}}`], store);

      expect(run.join('\n')).not.toContain(TOKEN);
      expect(run).toEqual([`echo 'Parameters [${NAME}] of type SecureString are not supported' >&2`, 'exit 1']);
    });

    it('fails on a missing parameter and leaves {{ssm-secure:…}} to the shell as it is', () => {
      expect(resolveAgentReferences(['echo {{ssm:/nope}}'], store)).toEqual([
        "echo 'Input contains invalid parameters [/nope]' >&2",
        'exit 1',
      ]);
      expect(resolveAgentReferences([`echo {{ssm-secure:${NAME}}}`], store)).toEqual([`echo {{ssm-secure:${NAME}}}`]);
    });
  });
});
