import { formatStop } from '../../local/cli/local-workflow';
import { EXIT, type Io, main } from '../../local/cli/program';

const INSTANCE = 'mi-0ed9e000000000001';

function capture(env: NodeJS.ProcessEnv = {}): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env,
    color: false,
    onStop: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}

const onboard = (...flags: string[]) => ['onboard', '--local', ...flags];

describe('edgekeeper CLI', () => {
  it('lists every command in --help', async () => {
    const io = capture();
    await expect(main(['--help'], io)).resolves.toBe(EXIT.ok);
    for (const command of ['onboard', 'join-command', 'remove', 'uninstall', 'drift', 'sandbox', 'serve', 'demo']) {
      expect(io.out()).toContain(command);
    }
  });

  it('documents the onboarding flags', async () => {
    const io = capture();
    await main(['onboard', '--help'], io);
    for (const flag of [
      '--name',
      '--ip',
      '--instance',
      '--no-taint',
      '--kubeedge-version',
      '--region',
      '--dry-run',
      '--local',
      '--sandbox',
      '--json',
    ]) {
      expect(io.out()).toContain(flag);
    }
  });

  it('fails with exit code 2 naming an unknown flag', async () => {
    const io = capture();
    const argv = ['onboard', '--local', '--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE, '--dryrun'];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain("unknown option '--dryrun'");
  });

  it('fails with exit code 2 naming a missing required flag', async () => {
    const io = capture();
    const argv = ['onboard', '--local', '--name', 'edge-1', '--instance', INSTANCE];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain("required option '--ip <ip>' not specified");
  });

  it('fails with exit code 2 naming a flag whose value is not allowed', async () => {
    const io = capture();
    const code = await main(onboard('--name', 'a', '--ip', '10.0.0.1', '--instance', INSTANCE, '--region', 'us'), io);
    expect(code).toBe(EXIT.usage);
    expect(io.err()).toContain('--region "us" must be zh or en');
  });

  it.each([
    [['--name', 'Edge_1', '--ip', '10.0.0.1', '--instance', INSTANCE], '--name "Edge_1"'],
    [['--name', 'edge-1', '--ip', '10.0.0.256', '--instance', INSTANCE], '--ip "10.0.0.256"'],
    [['--name', 'edge-1', '--ip', '10.0.0.1', '--instance', 'mi-0'], '--instance "mi-0"'],
    [
      ['--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE, '--kubeedge-version', 'latest'],
      '--kubeedge-version',
    ],
    [
      ['--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE, '--label', 'nokey'],
      '--label "nokey" must be key=value',
    ],
    [['--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE, '--label', 'k=a b'], '--label "k=a b"'],
  ])('refuses %j before contacting anything, with exit code 2 naming the flag', async (flags, expected) => {
    const io = capture();
    await expect(main(onboard(...flags), io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain(expected);
    expect(io.err()).not.toMatch(/nodeName|nodeIp|instanceId|kubeedgeVersion|labels/);
  });

  it('names every bad flag at once', async () => {
    const io = capture();
    await expect(main(onboard('--name', 'Bad', '--ip', 'x', '--instance', 'y'), io)).resolves.toBe(EXIT.usage);
    for (const flag of ['--name', '--ip', '--instance']) expect(io.err()).toContain(flag);
  });

  it('cuts a long value in the message and gives its length', async () => {
    const io = capture();
    const long = 'a'.repeat(1_000_000);
    await expect(main(onboard('--name', long, '--ip', '10.0.0.1', '--instance', INSTANCE), io)).resolves.toBe(
      EXIT.usage,
    );
    expect(io.err()).toContain('(1000000 characters)');
    expect(io.err().length).toBeLessThan(1000);
  });

  it.each(['a'.repeat(72), 'has space', 'arn:aws:states:local:000000000000:execution:x:y'])(
    'refuses the onboarding execution name %j with exit code 2, before running anything',
    async (name) => {
      const io = capture();
      const argv = onboard('--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE, '--execution-name', name);
      await expect(main(argv, io)).resolves.toBe(EXIT.usage);
      expect(io.err()).toContain('--execution-name');
      // its rollback child runs as <name>-rollback, which must fit Step Functions' 80 characters too
      expect(io.err()).toContain('1 to 71 characters');
    },
  );

  it('refuses a removal execution name over 80 characters', async () => {
    const io = capture();
    const argv = ['remove', '--local', '--name', 'edge-1', '--execution-name', 'a'.repeat(81)];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('1 to 80 characters');
  });

  it('checks the removal flags with the removal rules', async () => {
    const io = capture();
    await expect(main(['remove', '--local', '--name', 'edge-1', '--instance', 'i-1'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--instance "i-1"');
    const forced = capture();
    await expect(main(['remove', '--local', '--name', 'edge-1', '--force-host', 'host-1'], forced)).resolves.toBe(
      EXIT.usage,
    );
    expect(forced.err()).toContain('--force-host "host-1"');
  });

  it('asks where to run when neither --local, --sandbox nor an API URL is given', async () => {
    const io = capture();
    await expect(main(['onboard', '--name', 'a', '--ip', '10.0.0.1', '--instance', INSTANCE], io)).resolves.toBe(
      EXIT.usage,
    );
    expect(io.err()).toContain('--local, --sandbox <dir>, or --api-url');
  });

  it('asks where to run a drift check, with exit code 2, before anything runs', async () => {
    const io = capture();
    await expect(main(['drift', '--remediate'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--local, --sandbox <dir>, or --api-url');
  });

  it('names the --sandbox flag, with exit code 2, when no sandbox runs in that directory', async () => {
    const io = capture();
    const argv = [
      'onboard',
      '--sandbox',
      '/nonexistent/sbx',
      '--name',
      'a',
      '--ip',
      '10.0.0.1',
      '--instance',
      INSTANCE,
    ];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--sandbox /nonexistent/sbx: no sandbox running in /nonexistent/sbx');
    expect(io.err()).toContain('edgekeeper sandbox start --detach --dir /nonexistent/sbx');
  });

  it('offers unlock, which needs to know where the cluster is', async () => {
    const io = capture();
    await main(['unlock', '--help'], io);
    expect(io.out()).toContain('--force');
    const nowhere = capture();
    await expect(main(['unlock', '--name', 'edge-1'], nowhere)).resolves.toBe(EXIT.usage);
    expect(nowhere.err()).toContain('--local, --sandbox <dir>, or --api-url');
  });

  it('says what a graceful stop did: the steps that ran after it and where the execution is recorded', () => {
    const text = formatStop({
      status: 'ABORTED',
      output: null,
      error: { name: 'ExecutionStopped', message: 'stopped on SIGINT before "Send the join script to the host"' },
      events: [],
      execution: { name: 'op-1', arn: 'arn', replayed: false, resumed: 0, record: '/state/op-1.json' },
      stop: {
        reason: 'SIGINT',
        mode: 'graceful',
        before: 'Send the join script to the host',
        afterwards: [
          { state: 'Roll back the join', ok: true },
          { state: 'Release the lock after failure', ok: true },
        ],
      },
    });
    expect(text).toContain('before "Send the join script to the host"');
    expect(text).toContain('Roll back the join ✓, Release the lock after failure ✓');
    expect(text).toContain('Rolled back and released');
    expect(text).toContain('Recorded as ABORTED in /state/op-1.json');
  });

  it('says an immediate stop ran no rollback and how the lock gets freed', () => {
    const text = formatStop({
      status: 'ABORTED',
      output: null,
      error: null,
      events: [],
      stop: { reason: 'SIGINT', mode: 'immediate', afterwards: [] },
    });
    expect(text).toContain('no rollback ran');
    expect(text).toContain('edgekeeper unlock');
  });

  describe('manual join', () => {
    it('prints the join command with join-command, whose flags are those of an onboarding without --instance', async () => {
      const io = capture();
      await main(['join-command', '--help'], io);
      for (const flag of ['--name', '--ip', '--no-taint', '--kubeedge-version', '--region', '--local', '--sandbox']) {
        expect(io.out()).toContain(flag);
      }
      expect(io.out()).not.toContain('--instance');
    });

    it('checks the join-command flags with the onboarding rules, naming each flag', async () => {
      const io = capture();
      const argv = ['join-command', '--local', '--name', 'Edge_1', '--ip', '10.0.0.1', '--region', 'us'];
      await expect(main(argv, io)).resolves.toBe(EXIT.usage);
      expect(io.err()).toContain('--name "Edge_1" must be a DNS-1123 label');
      expect(io.err()).toContain('--region "us" must be zh or en');
    });

    it('refuses an instance on join-command: that host edgekeeper joins itself', async () => {
      const io = capture();
      const argv = ['join-command', '--local', '--name', 'edge-1', '--ip', '10.0.0.1', '--instance', INSTANCE];
      await expect(main(argv, io)).resolves.toBe(EXIT.usage);
      expect(io.err()).toContain("unknown option '--instance'");
    });

    // join-command and a manual onboarding through --api-url: test/unit/local/api-client.test.ts
  });

  it('refuses --api-url for a command the REST API does not offer', async () => {
    const io = capture({ EDGEKEEPER_API_URL: 'https://example.invalid/prod' });
    await expect(main(['unlock', '--name', 'edge-1'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--api-url: the REST API does not offer this command; use --local or --sandbox <dir>');
  });
});
