import { formatProblem, InvalidRequestError, SHOWN_CHARACTERS, shownValue } from '../../../functions/shared/errors';
import { parseRemoveNodeInput } from '../../../functions/shared/remove-input';

describe('values in error messages', () => {
  it('shows a short value whole: strings as they are, anything else as JSON', () => {
    expect(formatProblem({ field: 'nodeIp', value: '10.0.0.300', reason: 'must be an IPv4 address' })).toBe(
      'nodeIp 10.0.0.300 must be an IPv4 address',
    );
    expect(formatProblem({ field: 'labels', value: { a: 1 }, reason: 'values must be strings' })).toBe(
      'labels {"a":1} values must be strings',
    );
    expect(formatProblem({ field: 'nodeName', value: undefined, reason: 'is required' })).toBe('nodeName is required');
  });

  it('keeps a value of exactly the limit whole, and cuts one character more with its length', () => {
    const limit = 'x'.repeat(SHOWN_CHARACTERS);
    expect(shownValue(limit)).toBe(limit);
    expect(shownValue(`${limit}y`)).toBe(`${limit}… (${SHOWN_CHARACTERS + 1} characters)`);
  });

  it('quotes the part it shows when asked, as the CLI shows flag values', () => {
    expect(shownValue('a b', { quoted: true })).toBe('"a b"');
    expect(shownValue('q'.repeat(100), { quoted: true })).toBe(`"${'q'.repeat(SHOWN_CHARACTERS)}"… (100 characters)`);
  });

  it('cuts a megabyte sent in a request field, naming the field and the length', () => {
    const huge = `mi-${'0'.repeat(1_000_000)}`;
    let error: unknown;
    try {
      parseRemoveNodeInput({ nodeName: 'edge-1', instanceId: huge });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    const message = (error as Error).message;
    expect(message).toMatch(/^instanceId mi-0+… \(1000003 characters\) /);
    expect(message.length).toBeLessThan(400);
  });
});
