import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FORK_RELEASES,
  type KeadmFlag,
  type KeadmRelease,
  UPSTREAM_RELEASES,
} from '../../local/sandbox/edge/keadm-releases';
import { renderKeadm } from '../../local/sandbox/edge/standin-scripts';

const RELEASES = [...FORK_RELEASES, ...UPSTREAM_RELEASES];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keadm-flags-'));
  for (const release of RELEASES) {
    const path = keadmPath(release);
    writeFileSync(path, renderKeadm(release));
    chmodSync(path, 0o755);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keadmPath(release: KeadmRelease): string {
  return join(dir, `keadm-${release.family}-${release.version}`);
}

/** Runs the keadm stand-in in parse-only mode (no host is touched) inside an empty fallback root. */
function keadm(release: KeadmRelease, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      keadmPath(release),
      args,
      { env: { PATH: '/usr/bin:/bin', SANDBOX_HOST_ROOT: dir, KEADM_STANDIN_PARSE_ONLY: '1' }, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

function sampleValue(flag: KeadmFlag): string {
  if (flag.type === 'bool') return 'true';
  if (flag.name === 'kubeedge-version') return '1.6.2';
  if (flag.type === 'stringSlice' || flag.type === 'stringArray') return 'a=b';
  return `value-of-${flag.name}`;
}

const REQUIRED = ['--cloudcore-ipport=127.0.0.1:10000'];

describe.each(RELEASES.map((r) => [`${r.flagsKey}`, r] as const))('keadm stand-in flags of %s', (_key, release) => {
  const join = release.join.filter((f) => f.name !== 'cloudcore-ipport');
  const expected = (flags: readonly KeadmFlag[]) => flags.map((f) => `${f.name}=${sampleValue(f)}`);

  it('accepts every join flag as --flag=value', async () => {
    const result = await keadm(release, ['join', ...REQUIRED, ...join.map((f) => `--${f.name}=${sampleValue(f)}`)]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(expected(join)));
  });

  it('accepts every join flag as --flag value (bools bare)', async () => {
    const args = join.flatMap((f) => (f.type === 'bool' ? [`--${f.name}`] : [`--${f.name}`, sampleValue(f)]));
    const result = await keadm(release, ['join', ...REQUIRED, ...args]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(expected(join)));
  });

  it('accepts every join shorthand', async () => {
    const shorts = release.join.filter((f) => f.short !== '');
    const args = shorts.flatMap((f) => (f.type === 'bool' ? [`-${f.short}`] : [`-${f.short}`, sampleValue(f)]));
    const result = await keadm(release, ['join', ...args]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(expected(shorts)));
  });

  it('fails like cobra on a flag this release does not have', async () => {
    const unknown =
      ['region', 'with-edge-taint', 'edgenode-ip', 'hub-protocol', 'set'].find(
        (name) => !release.join.some((f) => f.name === name),
      ) ?? 'not-a-flag';
    const result = await keadm(release, ['join', ...REQUIRED, `--${unknown}=x`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Error: unknown flag: --${unknown}\\nUsage:\\n  keadm join \\[flags\\]`));
  });

  it('fails when the required --cloudcore-ipport is missing', async () => {
    const result = await keadm(release, ['join', '--token=t']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: required flag(s) "cloudcore-ipport" not set');
  });

  it('accepts every reset flag and no other', async () => {
    const args = release.reset.map((f) => `--${f.name}=${sampleValue(f)}`);
    const ok = await keadm(release, ['reset', ...args]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.split('\n')).toEqual(expect.arrayContaining(expected(release.reset)));
    const bad = await keadm(release, ['reset', '--not-a-flag']);
    expect(bad.stderr).toMatch(/^Error: unknown flag: --not-a-flag\nUsage:\n {2}keadm reset \[flags\]/);
  });

  if (release.versionFormat === 'no-v') {
    it('panics like blang/semver on a v-prefixed --kubeedge-version', async () => {
      const result = await keadm(release, ['join', ...REQUIRED, '--kubeedge-version=v1.6.2']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('panic: Invalid character(s) found in major number "v1"');
    });
  } else {
    it('accepts --kubeedge-version with and without the leading v', async () => {
      for (const version of ['v1.15.0', '1.15.0']) {
        const result = await keadm(release, ['join', ...REQUIRED, `--kubeedge-version=${version}`]);
        expect(result.stdout).toContain('resolved-kubeedge-version=1.15.0');
      }
    });
  }
});

describe('keadm stand-in subcommands', () => {
  const v120 = UPSTREAM_RELEASES.find((r) => r.version === 'v1.20.0');
  const v150 = FORK_RELEASES.find((r) => r.version === 'v1.5.0');

  it('has `reset edge` from upstream 1.17 with its own flags', async () => {
    if (!v120 || !v150) throw new Error('releases missing from the table');
    const edge = await keadm(v120, ['reset', 'edge', '--force', '--pre-run=x']);
    expect(edge.stdout).toBe('force=true\npre-run=x\n\n');
    expect((await keadm(v120, ['reset', 'edge', '--kube-config=x'])).stderr).toContain('unknown flag: --kube-config');
  });

  it('has no --force on fork v1.5.0 reset', async () => {
    if (!v150) throw new Error('release missing from the table');
    expect((await keadm(v150, ['reset', '--force'])).stderr).toContain('Error: unknown flag: --force');
  });

  it('rejects an unknown shorthand and a missing value like pflag', async () => {
    if (!v150) throw new Error('release missing from the table');
    expect((await keadm(v150, ['join', ...REQUIRED, '-z', 'zh'])).stderr).toMatch(
      /^Error: unknown shorthand flag: 'z' in -z/,
    );
    expect((await keadm(v150, ['join', ...REQUIRED, '--token'])).stderr).toMatch(
      /^Error: flag needs an argument: --token/,
    );
  });
});
