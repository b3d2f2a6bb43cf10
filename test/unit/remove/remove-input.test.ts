import { InvalidRequestError } from '../../../functions/shared/errors';
import { parseRemoveNodeInput } from '../../../functions/shared/remove-input';

function problemsOf(input: unknown): string {
  try {
    parseRemoveNodeInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error('expected InvalidRequestError');
}

describe('parseRemoveNodeInput', () => {
  it('defaults mode to remove, drain and force to false, and hostChanged to true', () => {
    expect(parseRemoveNodeInput({ nodeName: 'edge-1' })).toEqual({
      mode: 'remove',
      nodeName: 'edge-1',
      drain: false,
      force: false,
      hostChanged: true,
    });
  });

  it('refuses a lock holder from input: a rollback adopts its parent lock from its own execution, not a field', () => {
    expect(problemsOf({ mode: 'rollback', nodeName: 'edge-1', lockHolder: 'onboard-7' })).toBe(
      'lockHolder is not a known field',
    );
  });

  it('takes forceHost only when it repeats the instanceId of the host to reset', () => {
    const instanceId = 'mi-0123456789abcdef0';
    expect(parseRemoveNodeInput({ nodeName: 'edge-1', instanceId, forceHost: instanceId })).toMatchObject({
      forceHost: instanceId,
    });
    expect(problemsOf({ nodeName: 'edge-1', instanceId, forceHost: 'mi-0000000000000000f' })).toBe(
      `forceHost mi-0000000000000000f must repeat the instanceId of the host to reset (${instanceId})`,
    );
    expect(problemsOf({ nodeName: 'edge-1', forceHost: instanceId })).toBe(
      `forceHost ${instanceId} must repeat the instanceId of the host to reset (none given)`,
    );
  });

  it('accepts a rollback with an instance id, and dotted node names', () => {
    expect(
      parseRemoveNodeInput({ mode: 'rollback', nodeName: 'edge-1.site-a', instanceId: 'mi-0123456789abcdef0' }),
    ).toMatchObject({ mode: 'rollback', instanceId: 'mi-0123456789abcdef0' });
  });

  it('accepts an uninstall, with or without a release name', () => {
    expect(parseRemoveNodeInput({ mode: 'uninstall' })).toEqual({ mode: 'uninstall', force: false });
    expect(parseRemoveNodeInput({ mode: 'uninstall', force: true, release: 'cloudcore' })).toEqual({
      mode: 'uninstall',
      force: true,
      release: 'cloudcore',
    });
  });

  it('rejects bad fields naming field, value and reason', () => {
    expect(problemsOf({ nodeName: 'Edge_1', instanceId: 'i-xyz', drain: 'yes' })).toBe(
      'nodeName Edge_1 must be a DNS-1123 subdomain (lowercase letters, digits, "-" and "."); ' +
        'instanceId i-xyz must be an SSM managed instance id: mi- followed by 17 hex digits, or i- followed by 8 or 17 hex digits; ' +
        'drain yes must be true or false',
    );
  });

  it('rejects an unknown mode and unknown fields', () => {
    expect(problemsOf({ mode: 'delete', nodeName: 'edge-1' })).toBe(
      'mode delete must be "remove", "rollback" or "uninstall"',
    );
    expect(problemsOf({ nodeName: 'edge-1', nodename: 'x' })).toBe('nodename is not a known field');
    expect(problemsOf({ mode: 'uninstall', nodeName: 'edge-1' })).toBe('nodeName is not a known field');
  });

  it('requires a node name for remove, and a Helm-valid release name for uninstall', () => {
    expect(problemsOf({ mode: 'remove' })).toBe('nodeName must be a string');
    expect(problemsOf({ mode: 'uninstall', release: 'x'.repeat(54) })).toBe(
      `release ${'x'.repeat(54)} must be at most 53 characters (Helm limit)`,
    );
  });
});
