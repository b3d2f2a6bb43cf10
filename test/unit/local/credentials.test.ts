import { parseDuration, TOKEN_DURATION } from '../../../local/cli/credentials';
import { EXIT, type Io, main, UsageError } from '../../../local/cli/program';
import { thrown } from '../../support/thrown';

/*
 * `edgekeeper credentials create` before it reaches a cluster: the token's lifetime within its bounds, and the flags
 * it refuses with exit code 2. Against a sandbox: test/e2e/credentials.test.ts.
 */

function capture(): Io & { err: () => string } {
  let err = '';
  return {
    stdout: () => undefined,
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
    err: () => err,
  };
}

describe('--duration', () => {
  it.each([
    ['10m', 600],
    ['1h30m', 5400],
    ['720h', 2_592_000],
    ['2160h', TOKEN_DURATION.maxSeconds],
  ])('takes %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ['9m59s', 'is shorter than 10m'],
    ['2160h1s', 'is longer than 2160h (90 days)'],
    ['30d', 'must be a duration such as 720h'],
    ['1.5h', 'must be a duration such as 720h'],
    ['', 'must be a duration such as 720h'],
  ])('refuses %j, naming the flag, the value and why', (text, reason) => {
    const error = thrown(() => parseDuration(text));

    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(`--duration ${JSON.stringify(text)} ${reason}`);
  });

  it('defaults to 30 days', () => {
    expect(parseDuration(TOKEN_DURATION.default)).toBe(30 * 24 * 3600);
  });
});

describe('edgekeeper credentials create', () => {
  it.each([
    [[], 'choose the cluster: --local'],
    [['--local', '--print', '--json'], '--print and --json exclude each other'],
    [['--local', '--print', '--parameter', '/x'], '--parameter "/x" has no use with --print'],
    [
      ['--local', '--parameter', 'edgekeeper/kubeconfig'],
      '--parameter "edgekeeper/kubeconfig" must be an SSM parameter path',
    ],
    [['--local', '--duration', '5m'], '--duration "5m" is shorter than 10m'],
    [['--sandbox', '/nonexistent/edgekeeper-sandbox'], 'no sandbox running in /nonexistent/edgekeeper-sandbox'],
  ])('refuses %j with exit code 2 before reaching a cluster', async (flags, message) => {
    const io = capture();

    await expect(main(['credentials', 'create', ...flags], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain(message);
  });
});
