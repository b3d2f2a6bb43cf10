import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCredentialIdentity } from '@smithy/types';
import {
  CREDENTIALS_MARGIN_MS,
  EksTokenSource,
  REFRESH_AFTER_MS,
  stsHostname,
  TOKEN_PREFIX,
} from '../../../functions/shared/eks-token';

const CLUSTER = 'edge-prod';
const REGION = 'eu-west-1';
const STS_HOST = `sts.${REGION}.amazonaws.com`;
const SIGNED_AT = new Date('2026-12-02T07:00:00.000Z');
const CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'ASIAEDGEKEEPEREXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token==',
};

/** A clock the test moves by hand. */
function fakeClock(start: Date = SIGNED_AT) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** A credential provider that counts its calls and hands out the given credentials. */
function fakeCredentials(identity: AwsCredentialIdentity = CREDENTIALS) {
  const provider = Object.assign(
    async () => {
      provider.calls += 1;
      return identity;
    },
    { calls: 0 },
  );
  return provider;
}

/** The presigned URL inside a token, as the cluster's authenticator decodes it. */
function presignedUrl(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

// ---------------------------------------------------------------------------------------------------------------
// An STS stand-in that checks a presigned GetCallerIdentity as STS does, written from the SigV4 specification
// with node:crypto alone (nothing from the code under test), knowing the secret key of the fixed test credentials.
// ---------------------------------------------------------------------------------------------------------------

const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function expectedSignature(incoming: IncomingMessage, secretAccessKey: string): string {
  const url = new URL(incoming.url ?? '/', 'http://verifier');
  const params = [...url.searchParams].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => [rfc3986(key), rfc3986(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const signedHeaders = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${String(incoming.headers[name] ?? '').trim()}\n`)
    .join('');
  const canonicalRequest = [
    incoming.method,
    url.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    sha256Hex(''),
  ].join('\n');
  const [, scopeDate, scopeRegion, scopeService, terminator] = (url.searchParams.get('X-Amz-Credential') ?? '').split(
    '/',
  );
  const scope = [scopeDate, scopeRegion, scopeService, terminator].join('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    url.searchParams.get('X-Amz-Date'),
    scope,
    sha256Hex(canonicalRequest),
  ].join('\n');
  let key: Buffer | string = `AWS4${secretAccessKey}`;
  for (const part of [scopeDate, scopeRegion, scopeService, terminator]) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

describe('the EKS token, checked by an STS stand-in', () => {
  let server: Server;
  let port: number;
  /** The query of the last request the stand-in received. */
  let received: URLSearchParams;

  beforeAll(async () => {
    server = createServer((incoming, response) => {
      received = new URL(incoming.url ?? '/', 'http://verifier').searchParams;
      const valid = received.get('X-Amz-Signature') === expectedSignature(incoming, CREDENTIALS.secretAccessKey);
      response.writeHead(valid ? 200 : 403, { 'Content-Type': 'text/xml' });
      response.end(valid ? '<GetCallerIdentityResponse/>' : '<ErrorResponse><Code>SignatureDoesNotMatch</Code>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** Sends the token's request as the cluster's authenticator does: GET the URL with the cluster header. */
  function present(token: string, clusterHeader: string): Promise<number> {
    const url = presignedUrl(token);
    return new Promise((resolve, reject) => {
      const sent = request(
        {
          host: '127.0.0.1',
          port,
          method: 'GET',
          path: `${url.pathname}${url.search}`,
          headers: { host: url.host, 'x-k8s-aws-id': clusterHeader },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      sent.on('error', reject);
      sent.end();
    });
  }

  async function signedToken(credentials = CREDENTIALS): Promise<string> {
    const clock = fakeClock();
    return new EksTokenSource({
      clusterName: CLUSTER,
      region: REGION,
      credentials: fakeCredentials(credentials),
      now: clock.now,
    }).token();
  }

  it('is a k8s-aws-v1 presigned GetCallerIdentity URL on the regional STS endpoint, as aws eks get-token makes it', async () => {
    // Act
    const url = presignedUrl(await signedToken());

    // Assess
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe(STS_HOST);
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${CREDENTIALS.accessKeyId}/20261202/${REGION}/sts/aws4_request`,
      'X-Amz-Date': '20261202T070000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('is byte for byte the token the AWS CLI makes from the same credentials, region, cluster and time', async () => {
    // Prepare: the URL botocore 1.43 (the AWS CLI's signer) presigns for these inputs, as get-token asks it to
    const cli =
      'https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15' +
      '&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEDGEKEEPEREXAMPLE%2F20261202%2Feu-west-1%2Fsts%2Faws4_request' +
      '&X-Amz-Date=20261202T070000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id' +
      '&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Fsession%2Btoken%3D%3D' +
      '&X-Amz-Signature=d30be8a8fd55b266fb070c0323502bd3895e6664a319e8072f18d66d9819d072';

    // Act
    const token = await signedToken();

    // Assess
    expect(token).toBe(TOKEN_PREFIX + Buffer.from(cli).toString('base64url'));
  });

  it('carries a signature STS accepts for the cluster it names', async () => {
    // Act
    const status = await present(await signedToken(), CLUSTER);

    // Assess
    expect(status).toBe(200);
    expect(received.get('Action')).toBe('GetCallerIdentity');
  });

  it('is refused when presented for another cluster: the cluster header is signed', async () => {
    // Act
    const status = await present(await signedToken(), 'another-cluster');

    // Assess
    expect(status).toBe(403);
  });

  it('is refused when signed with another secret key', async () => {
    // Act
    const status = await present(await signedToken({ ...CREDENTIALS, secretAccessKey: 'not-the-key' }), CLUSTER);

    // Assess
    expect(status).toBe(403);
  });

  it('leaves out the session token when the credentials have none (long-term keys)', async () => {
    // Act
    const token = await signedToken({
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: CREDENTIALS.secretAccessKey,
    });
    const status = await present(token, CLUSTER);

    // Assess
    expect(presignedUrl(token).searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(status).toBe(200);
  });
});

describe('stsHostname', () => {
  it.each([
    ['eu-west-1', 'sts.eu-west-1.amazonaws.com'],
    ['us-gov-west-1', 'sts.us-gov-west-1.amazonaws.com'],
    ['cn-north-1', 'sts.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', 'sts.cn-northwest-1.amazonaws.com.cn'],
  ])('signs for the regional STS endpoint of %s: %s', (region, hostname) => {
    expect(stsHostname(region)).toBe(hostname);
  });
});

describe('EksTokenSource', () => {
  function source(credentials = fakeCredentials(), clock = fakeClock()) {
    return { tokens: new EksTokenSource({ clusterName: CLUSTER, region: REGION, credentials, now: clock.now }), clock };
  }
  const signedAt = (token: string) => presignedUrl(token).searchParams.get('X-Amz-Date');

  it('reuses its token until ten minutes have passed, then signs a new one', async () => {
    // Prepare
    const credentials = fakeCredentials();
    const { tokens, clock } = source(credentials);

    // Act
    const first = await tokens.token();
    clock.advance(REFRESH_AFTER_MS - 1);
    const reused = await tokens.token();
    clock.advance(1);
    const renewed = await tokens.token();

    // Assess
    expect(reused).toBe(first);
    expect(signedAt(first)).toBe('20261202T070000Z');
    expect(signedAt(renewed)).toBe('20261202T071000Z');
    expect(credentials.calls).toBe(2);
  });

  it('signs a new token a minute before the credentials that signed the last one expire', async () => {
    // Prepare: credentials that expire 5 minutes after the first signing
    const expiration = new Date(SIGNED_AT.getTime() + 5 * 60_000);
    const { tokens, clock } = source(fakeCredentials({ ...CREDENTIALS, expiration }));

    // Act
    const first = await tokens.token();
    clock.advance(5 * 60_000 - CREDENTIALS_MARGIN_MS - 1);
    const reused = await tokens.token();
    clock.advance(1);
    const renewed = await tokens.token();

    // Assess
    expect(reused).toBe(first);
    expect(renewed).not.toBe(first);
    expect(signedAt(renewed)).toBe('20261202T070400Z');
  });

  it('signs once for callers that ask at the same time', async () => {
    // Prepare
    const credentials = fakeCredentials();
    const { tokens } = source(credentials);

    // Act
    const all = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);

    // Assess
    expect(new Set(all).size).toBe(1);
    expect(credentials.calls).toBe(1);
  });

  it('fails naming the cluster and the reason when the credentials cannot be loaded, and tries again next time', async () => {
    // Prepare
    let fail = true;
    const credentials = async () => {
      if (fail)
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      return CREDENTIALS;
    };
    const { tokens } = source(credentials as never);

    // Act
    const error = await tokens.token().then(
      () => undefined,
      (failure: Error) => failure,
    );
    fail = false;
    const token = await tokens.token();

    // Assess
    expect(error?.name).toBe('EksTokenError');
    expect(error?.message).toBe(
      'signing the EKS token for cluster edge-prod: the AWS credentials could not be loaded: ' +
        'Could not load credentials from any providers',
    );
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  });

  it('makes a credentials endpoint that cannot be reached a TransientServiceError', async () => {
    // Prepare: the container credentials endpoint refuses the connection
    const refused = Object.assign(new Error('connect ECONNREFUSED 169.254.170.2:80'), { code: 'ECONNREFUSED' });
    const { tokens } = source((async () => Promise.reject(refused)) as never);

    // Act
    const error = await tokens.token().then(
      () => undefined,
      (failure: Error) => failure,
    );

    // Assess
    expect(error?.name).toBe('TransientServiceError');
    expect(error?.message).toContain(
      'signing the EKS token for cluster edge-prod: the AWS credentials could not be loaded',
    );
  });

  it('fails without quoting the credentials when they are malformed', async () => {
    // Prepare: a provider that answers without a secret key
    const { tokens } = source(fakeCredentials({ accessKeyId: CREDENTIALS.accessKeyId } as AwsCredentialIdentity));

    // Act
    const error = await tokens.token().then(
      () => undefined,
      (failure: Error) => failure,
    );

    // Assess
    expect(error?.name).toBe('EksTokenError');
    expect(error?.message).toMatch(/^signing the EKS token for cluster edge-prod: /);
    expect(error?.message).not.toContain(CREDENTIALS.accessKeyId);
  });
});
