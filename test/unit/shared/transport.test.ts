import { retryAfterSeconds, transportFailure } from '../../../functions/shared/transport';

describe('transportFailure', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })],
    ['a reset inside fetch', Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })],
    ['a DNS failure', Object.assign(new Error('getaddrinfo ENOTFOUND api'), { code: 'ENOTFOUND' })],
    [
      'a reset the AWS SDK calls TimeoutError',
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
    ],
    [
      'a wrapped foreign error that kept only its message',
      new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:1'),
    ],
  ])('calls %s a network failure', (_case, error) => {
    expect(transportFailure(error)).toBe('network');
  });

  it.each([
    [
      'an aborted fetch',
      Object.assign(new Error('The operation was aborted.'), { name: 'AbortError', type: 'aborted' }),
    ],
    [
      'an SDK request timeout',
      Object.assign(new Error('Connection timed out after 10000 ms'), { name: 'TimeoutError' }),
    ],
  ])('calls %s a timeout', (_case, error) => {
    expect(transportFailure(error)).toBe('timeout');
  });

  it('leaves everything else to the caller', () => {
    expect(transportFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined();
    expect(transportFailure(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))).toBeUndefined();
    expect(transportFailure('socket')).toBeUndefined();
    expect(transportFailure(null)).toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(retryAfterSeconds('7', now)).toBe(7);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
