import { createHash, createHmac } from 'node:crypto';
import { NodeSha256 } from '../../../functions/shared/sha256';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('the SHA-256 the SigV4 signers use', () => {
  it('hashes what it is given, in chunks, as node:crypto does', async () => {
    // Prepare
    const hash = new NodeSha256();

    // Act
    hash.update(new TextEncoder().encode('edge'));
    hash.update(new TextEncoder().encode('keeper'));

    // Assess
    expect(hex(await hash.digest())).toBe(createHash('sha256').update('edgekeeper').digest('hex'));
  });

  it('is an HMAC when given a secret, whether a string or a view into a larger buffer', async () => {
    // Prepare: the key is the middle of its buffer; a signer's derived keys are such views
    const backing = new Uint8Array([0xff, 1, 2, 3, 0xff]);
    const fromView = new NodeSha256(new Uint8Array(backing.buffer, 1, 3));
    const fromString = new NodeSha256('AWS4secret');

    // Act
    fromView.update(new TextEncoder().encode('20261202'));
    fromString.update(new TextEncoder().encode('20261202'));

    // Assess
    expect(hex(await fromView.digest())).toBe(
      createHmac('sha256', Buffer.from([1, 2, 3]))
        .update('20261202')
        .digest('hex'),
    );
    expect(hex(await fromString.digest())).toBe(createHmac('sha256', 'AWS4secret').update('20261202').digest('hex'));
  });

  it('starts over after reset, keeping its secret', async () => {
    // Prepare
    const hash = new NodeSha256('key');
    hash.update(new TextEncoder().encode('discarded'));

    // Act
    hash.reset();
    hash.update(new TextEncoder().encode('kept'));

    // Assess
    expect(hex(await hash.digest())).toBe(createHmac('sha256', 'key').update('kept').digest('hex'));
  });
});
