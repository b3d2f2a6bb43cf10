import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinCommands } from '../../../functions/shared/join-script';

const PARAMETER = '/edgekeeper/join-token/op-1';

/**
 * The AWS-RunShellScript lines of a join, run by `sh` the way SSM's agent runs them: written to `_script.sh` in the
 * command's orchestration folder and started from there. A small stand-in for the join script records what it
 * was given.
 */
describe('the join commands on a host', () => {
  let root: string;
  let folder: string;
  let out: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'edgekeeper-join-commands-'));
    folder = join(root, 'var/lib/amazon/ssm/mi-0ed9e000000000001/document/orchestration/cmd-1');
    folder = join(folder, 'awsrunShellScript/0.awsrunShellScript');
    mkdirSync(folder, { recursive: true });
    out = join(root, 'out');
    mkdirSync(out);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function agentCopy(script: string): string {
    const path = join(folder, '_script.sh');
    writeFileSync(path, `${joinCommands(script, PARAMETER).join('\n')}\n`, { mode: 0o700 });
    return path;
  }

  it("gives the script only the parameter's name, passes its exit status on and leaves no copy of itself", () => {
    const copy = agentCopy(
      [
        `printf '%s' "$0" >${out}/path`,
        `env >${out}/env`,
        `test -f "${join(folder, '_script.sh')}" || echo gone >${out}/copy`,
        'exit 7',
      ].join('\n'),
    );

    const run = spawnSync('sh', ['-c', copy], { cwd: folder, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

    expect(run.status).toBe(7);
    const env = readFileSync(join(out, 'env'), 'utf8');
    expect(env).toMatch(/^EDGEKEEPER_TOKEN_PARAMETER=\/edgekeeper\/join-token\/op-1$/m);
    expect(env).not.toMatch(/^EDGEKEEPER_TOKEN=/m);
    // the agent's copy was gone before the script ran; the private copy is gone after it
    expect(readFileSync(join(out, 'copy'), 'utf8')).toBe('gone\n');
    expect(existsSync(copy)).toBe(false);
    expect(existsSync(readFileSync(join(out, 'path'), 'utf8'))).toBe(false);
  });

  it('removes its private copy when the command is stopped with TERM', async () => {
    const copy = agentCopy([`printf '%s' "$0" >${out}/path`, 'sleep 30'].join('\n'));

    // `sh <file>`: the shell that runs the lines is the child itself (`sh -c <file>` may run them in a subshell)
    const child = spawn('sh', [copy], { cwd: folder, detached: true, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    while (!existsSync(join(out, 'path'))) await new Promise((resolve) => setTimeout(resolve, 20));
    const scriptPath = readFileSync(join(out, 'path'), 'utf8');
    process.kill(-(child.pid as number), 'SIGTERM');

    expect(await exited).toBe(143);
    expect(existsSync(scriptPath)).toBe(false);
  });

  it('leaves a file alone that is not the agent copy of a command', () => {
    const elsewhere = join(root, 'my-commands.sh');
    writeFileSync(elsewhere, `${joinCommands('exit 0', PARAMETER).join('\n')}\n`, { mode: 0o700 });

    const run = spawnSync('sh', [elsewhere], { cwd: root, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

    expect(run.status).toBe(0);
    expect(existsSync(elsewhere)).toBe(true);
  });
});
