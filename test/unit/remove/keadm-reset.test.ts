import semver from 'semver';
import { coerceVersion, resetCommand, UnsupportedKeadmVersionError } from '../../../functions/shared/keadm/reset';

describe('resetCommand', () => {
  it.each([
    ['fork', 'v1.5.0', ['reset']],
    ['fork', 'v1.6.0', ['reset', '--force']],
    ['fork', '1.6.1', ['reset', '--force']],
    ['fork', 'v1.7.2-kubesphere', ['reset', '--force']],
    ['fork', 'v1.9.2', ['reset', '--force']],
    ['upstream', 'v1.12.0', ['reset', '--force']],
    ['upstream', 'v1.16.1', ['reset', '--force']],
    ['upstream', 'v1.17.0', ['reset', 'edge', '--force']],
    ['upstream', 'v1.20.0', ['reset', 'edge', '--force']],
    ['upstream', 'v1.21.0', ['reset', 'edge', '--force']],
  ] as const)('keadm %s %s resets with %j', (profile, version, args) => {
    expect(resetCommand(profile, version)).toEqual(args);
  });

  it('fails for versions below the flag table and for non-versions', () => {
    expect(() => resetCommand('fork', 'v1.4.0')).toThrow(new UnsupportedKeadmVersionError('fork', 'v1.4.0'));
    expect(() => resetCommand('upstream', 'latest')).toThrow(
      'keadm upstream version latest is not supported: expected upstream >= 1.6.2',
    );
  });
});

describe('coerceVersion', () => {
  it.each([
    'v1.6.1',
    '1.6.1',
    'v1.7.2-kubesphere',
    'kubesphere-release-1.8.2',
    'kubesphere-release-1.5',
    'v1.6',
    '2',
    'latest',
    '',
    'v01.6.1',
    'v1.06.1',
    'v1.6.0',
    '1.2.3.4',
    'x9007199254740991.0.0',
    'x9007199254740992.0.0',
    'x12345678901234567.1.2',
    'v1.20.0+build.5',
  ])('reads %j as semver.coerce does', (text) => {
    // Act
    const ours = coerceVersion(text);
    const theirs = semver.coerce(text);

    // Assess
    expect(ours?.join('.') ?? null).toBe(theirs?.version ?? null);
  });
});
