import fc from 'fast-check';
import { REDACTED, redactSecrets } from '../../../functions/shared/redact';

/** A token as `keadm gettoken` prints it: the CA hash, a dot, and a JWT. */
const TOKEN =
  '1f9e3f7b8a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e.' +
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3NDA5OTk5OTl9.dGhpcy1pcy1hLXNpZ25hdHVyZQ_-';

describe('redactSecrets', () => {
  it('replaces a join token wherever it appears in the text', () => {
    // Prepare
    const text = `keadm join failed: token=${TOKEN} rejected\n${TOKEN}\n("${TOKEN}")`;

    // Act
    const redacted = redactSecrets(text);

    // Assess
    expect(redacted).toBe(`keadm join failed: token=${REDACTED} rejected\n${REDACTED}\n("${REDACTED}")`);
  });

  it.each([
    [
      '--token=',
      `keadm join --token=s3cr3t --edgenode-name=edge-1`,
      'keadm join --token=<redacted> --edgenode-name=edge-1',
    ],
    ['--token with a space', `keadm join --token s3cr3t -p x`, 'keadm join --token <redacted> -p x'],
    ['--token in single quotes', `keadm join --token 'two words' -p x`, 'keadm join --token <redacted> -p x'],
    ['--token in double quotes', `keadm join --token="two words" -p x`, 'keadm join --token=<redacted> -p x'],
    ['EDGEKEEPER_TOKEN=', `+ EDGEKEEPER_TOKEN=s3cr3t bash join.sh`, '+ EDGEKEEPER_TOKEN=<redacted> bash join.sh'],
    ['a real token after --token=', `keadm join --token=${TOKEN}`, 'keadm join --token=<redacted>'],
    ['a quoted real token', `EDGEKEEPER_TOKEN='${TOKEN}'`, 'EDGEKEEPER_TOKEN=<redacted>'],
  ])('replaces the value of %s', (_form, text, expected) => {
    // Act
    const redacted = redactSecrets(text);

    // Assess
    expect(redacted).toBe(expected);
  });

  it('leaves ordinary script output untouched', () => {
    // Prepare
    const text = [
      '[preflight] checking cloudcore 203.0.113.9:10000',
      'sha256 1f9e3f7b8a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e  keadm-v1.6.1-linux-arm64.tar.gz',
      'image kubeedge/installation-package:v1.6.1 pulled; a.b.c; --tokens are not flags; --token-file=/etc/t',
      'edgecore is running',
    ].join('\n');

    // Act
    const redacted = redactSecrets(text);

    // Assess
    expect(redacted).toBe(text);
  });

  it('never lets a token embedded in any text survive', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/);
    const token = fc.tuple(hex, segment, segment, segment).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), token, fc.string({ unit: 'binary' }), (before, secret, after) => {
        // Act
        const redacted = redactSecrets(`${before}${secret}${after}`);

        // Assess: neither the token nor its JWT (the bearer part) remains, unless the surrounding text had it
        const jwt = secret.slice(65);
        expect(redacted).not.toContain(secret);
        if (!before.includes(jwt) && !after.includes(jwt)) expect(redacted).not.toContain(jwt);
      }),
      { numRuns: 500 },
    );
  });
});
