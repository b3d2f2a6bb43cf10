import { EXIT, type Io, main } from '../../local/cli/program';

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
    out: () => out,
    err: () => err,
  };
}

describe('edgekeeper CLI', () => {
  it('lists every command in --help', async () => {
    const io = capture();
    await expect(main(['--help'], io)).resolves.toBe(EXIT.ok);
    for (const command of ['onboard', 'remove', 'uninstall', 'drift', 'sandbox', 'serve', 'demo']) {
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
    const argv = ['onboard', '--local', '--name', 'edge-1', '--ip', '10.0.0.1', '--instance', 'mi-0', '--dryrun'];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain("unknown option '--dryrun'");
  });

  it('fails with exit code 2 naming a missing required flag', async () => {
    const io = capture();
    await expect(main(['onboard', '--local', '--name', 'edge-1', '--ip', '10.0.0.1'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--instance');
  });

  it('fails with exit code 2 naming a flag whose value is not allowed', async () => {
    const io = capture();
    const code = await main(
      ['onboard', '--local', '--name', 'a', '--ip', '10.0.0.1', '--instance', 'mi-0', '--region', 'us'],
      io,
    );
    expect(code).toBe(EXIT.usage);
    expect(io.err()).toContain('--region');
  });

  it('asks where to run when neither --local, --sandbox nor an API URL is given', async () => {
    const io = capture();
    await expect(main(['onboard', '--name', 'a', '--ip', '10.0.0.1', '--instance', 'mi-0'], io)).resolves.toBe(
      EXIT.usage,
    );
    expect(io.err()).toContain('--local, --sandbox <dir>, or --api-url');
  });

  it('says so, with exit code 2, for a workflow that is not built yet', async () => {
    const io = capture();
    await expect(main(['drift', '--local'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('drift-check workflow is not built yet');
  });

  it('names the --sandbox flag, with exit code 2, when no sandbox runs in that directory', async () => {
    const io = capture();
    const argv = ['onboard', '--sandbox', '/nonexistent/sbx', '--name', 'a', '--ip', '10.0.0.1', '--instance', 'mi-0'];
    await expect(main(argv, io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain('--sandbox /nonexistent/sbx: no sandbox running in /nonexistent/sbx');
    expect(io.err()).toContain('edgekeeper sandbox start --detach --dir /nonexistent/sbx');
  });

  it('refuses to pretend it can call the deployed REST API', async () => {
    const io = capture({ EDGEKEEPER_API_URL: 'https://example.invalid/prod' });
    await expect(main(['onboard', '--name', 'a', '--ip', '10.0.0.1', '--instance', 'mi-0'], io)).resolves.toBe(
      EXIT.usage,
    );
    expect(io.err()).toContain('REST API is not built yet');
  });
});
