import { resetCommand, UnsupportedKeadmVersionError } from '../../../functions/shared/keadm/reset';

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
