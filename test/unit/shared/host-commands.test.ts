import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bashCommands, firstPoll } from '../../../functions/shared/host-commands';

/** Runs the command lines the way AWS-RunShellScript does: one file of lines, run by `sh`. */
function runAsSsm(lines: readonly string[]) {
  const answer = spawnSync('sh', ['-c', lines.join('\n')], { encoding: 'utf8', timeout: 10_000 });
  return { status: answer.status, stdout: answer.stdout, stderr: answer.stderr };
}

describe('bashCommands', () => {
  it('runs the script with bash, so bash-only syntax works under sh', () => {
    // Prepare
    const script = [
      'set -euo pipefail',
      'steps=(preflight edgemesh join)',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
      'mapfile -t words < <(printf "%s\\n" "${steps[@]}")',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
      'echo "bash ${BASH_VERSINFO[0]}: ${#words[@]} steps, last ${words[-1]}"',
    ].join('\n');

    // Act
    const result = runAsSsm(bashCommands(script));

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^bash \d+: 3 steps, last join\n$/);
    expect(result.status).toBe(0);
  });

  it.each([1, 3, 42])('passes the script exit code %i on to SSM', (code) => {
    // Act
    const result = runAsSsm(bashCommands(`echo "failing with ${code}" >&2\nexit ${code}`));

    // Assess
    expect(result.status).toBe(code);
    expect(result.stderr).toBe(`failing with ${code}\n`);
  });

  it('passes the script through literally: nothing in it is expanded by sh', () => {
    // Prepare
    const script = 'echo \'$HOME\' "$(printf %s literal)" `echo ticks` \\$PATH';

    // Act
    const result = runAsSsm(bashCommands(script));

    // Assess
    expect(result.stdout).toBe('$HOME literal ticks $PATH\n');
  });

  it('removes its temporary copy of the script, also when the script fails', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-test-'));
    const lines = bashCommands('exit 7').map((line) => line.replace('/tmp/edgekeeper.', `${dir}/edgekeeper.`));

    // Act
    const result = runAsSsm(lines);

    // Assess
    expect(result.status).toBe(7);
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a script that contains the heredoc terminator line', () => {
    // Act
    const act = () => bashCommands('echo before\nEDGEKEEPER_SCRIPT_END\nrm -rf /important');

    // Assess
    expect(act).toThrow(new Error('a host script cannot contain the line EDGEKEEPER_SCRIPT_END'));
  });

  it('accepts the terminator word inside a longer line', () => {
    // Act
    const result = runAsSsm(bashCommands('echo "EDGEKEEPER_SCRIPT_END is only special on its own line"'));

    // Assess
    expect(result.stdout).toBe('EDGEKEEPER_SCRIPT_END is only special on its own line\n');
    expect(result.status).toBe(0);
  });
});

describe('firstPoll', () => {
  afterEach(() => jest.useRealTimers());

  it('starts the poll now with a short first wait', () => {
    // Prepare
    jest.useFakeTimers({ now: new Date('2025-03-01T10:00:00.000Z') });

    // Act
    const poll = firstPoll('cmd-1234', 'mi-0123456789abcdef0');

    // Assess
    expect(poll).toEqual({
      commandId: 'cmd-1234',
      instanceId: 'mi-0123456789abcdef0',
      startedAt: '2025-03-01T10:00:00.000Z',
      attempt: 0,
      waitSeconds: 2,
    });
  });
});
