import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { decodeHelmRelease, type SecretLike } from '../../../functions/shared/helm-release';
import { fixtureReleases, releaseSecret } from '../../fixtures/helm/generate';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'helm', 'kubeedge-release-secrets.yaml');

function committedSecrets(): SecretLike[] {
  return (load(readFileSync(FIXTURE, 'utf8')) as { items: SecretLike[] }).items;
}

describe('the committed Helm release fixture', () => {
  it('decodes to exactly the releases generate.ts builds', () => {
    // Prepare
    const expected = fixtureReleases();
    // Act
    const decoded = committedSecrets().map((secret) =>
      decodeHelmRelease(secret.data?.release ?? '', secret.metadata?.name),
    );
    // Assess
    expect(decoded).toEqual(expected);
  });

  it('has the Secret envelope generate.ts builds (names, type, labels)', () => {
    const strip = (secret: SecretLike) => ({ ...secret, data: undefined });
    expect(committedSecrets().map(strip)).toEqual(
      fixtureReleases()
        .map((release) => releaseSecret(release) as SecretLike)
        .map(strip),
    );
  });

  it('stores data.release as base64 of base64 of gzip, as Helm 3 does', () => {
    const secret = committedSecrets()[1];
    const helmValue = Buffer.from(secret?.data?.release ?? '', 'base64').toString('latin1');
    const gzipped = Buffer.from(helmValue, 'base64');
    expect(helmValue).toMatch(/^H4sI/); // base64 of the gzip magic 1f 8b 08
    expect([...gzipped.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]);
  });
});
