import { createHash, createHmac } from 'node:crypto';
import { signingRegion, signRequest } from '../../../local/cli/api-signing';

/** The credentials of AWS's SigV4 test suite. */
const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** RFC 3986 encoding as SigV4 asks: everything but unreserved characters. */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * SigV4 written out from AWS's documentation, step by step, to check the signer against: canonical request,
 * string to sign, derived key, signature. Path segments are encoded once more, as for every service but S3.
 */
function referenceSignature(request: {
  method: string;
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  secret: string;
  amzDate: string;
}): { signature: string; signedHeaders: string } {
  const names = Object.keys(request.headers)
    .map((name) => name.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path
      .split('/')
      .map((segment) => encode(segment))
      .join('/'),
    request.query
      .map(([k, v]) => [encode(k), encode(v)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&'),
    ...names.map((name) => `${name}:${lower[name].trim()}`),
    '',
    signedHeaders,
    sha256(request.body),
  ].join('\n');
  const day = request.amzDate.slice(0, 8);
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', request.amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${request.secret}`, day);
  for (const part of [request.region, request.service, 'aws4_request']) key = hmac(key, part);
  return { signature: hmac(key, stringToSign).toString('hex'), signedHeaders };
}

describe('SigV4 signing of API requests', () => {
  it("signs AWS's get-vanilla test vector to its published signature", async () => {
    const headers = await signRequest(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} },
      { credentials: EXAMPLE, region: 'us-east-1', service: 'service', date: SUITE_DATE },
    );
    const reference = referenceSignature({
      method: 'GET',
      path: '/',
      query: [],
      headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
      body: '',
      region: 'us-east-1',
      service: 'service',
      secret: EXAMPLE.secretAccessKey,
      amzDate: '20150830T123600Z',
    });
    // the signature the SigV4 test suite publishes for get-vanilla
    expect(reference.signature).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        `SignedHeaders=host;x-amz-date, Signature=${reference.signature}`,
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('signs an API call with a body, a query, an operation id in the path and a session token', async () => {
    const url = new URL(
      'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/operations/onboard-node:api-1?node=edge-1&drain=true',
    );
    const body = '{"nodeName":"edge-1","nodeIp":"10.20.0.11"}';
    const credentials = { ...EXAMPLE, sessionToken: 'session/token+value=' };
    const date = new Date('2026-12-02T07:00:00Z');
    const headers = await signRequest(
      {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'run-1' },
        body,
      },
      { credentials, region: 'eu-west-1', date },
    );
    const reference = referenceSignature({
      method: 'POST',
      path: '/prod/operations/onboard-node:api-1',
      query: [
        ['node', 'edge-1'],
        ['drain', 'true'],
      ],
      headers: {
        'content-type': 'application/json',
        'idempotency-key': 'run-1',
        host: url.host,
        'x-amz-date': '20261202T070000Z',
        'x-amz-security-token': credentials.sessionToken,
      },
      body,
      region: 'eu-west-1',
      service: 'execute-api',
      secret: EXAMPLE.secretAccessKey,
      amzDate: '20261202T070000Z',
    });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/execute-api/aws4_request, ' +
        `SignedHeaders=${reference.signedHeaders}, Signature=${reference.signature}`,
    );
    expect(headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': 'run-1' });
  });

  it('takes the region from AWS_REGION, else from an API Gateway host name, else gives none', () => {
    const apiGateway = new URL('https://abc123.execute-api.ap-southeast-1.amazonaws.com/prod');
    expect(signingRegion(apiGateway, {})).toBe('ap-southeast-1');
    expect(signingRegion(apiGateway, { AWS_REGION: 'us-west-2' })).toBe('us-west-2');
    expect(signingRegion(new URL('https://edge.example.com/'), { AWS_DEFAULT_REGION: 'eu-central-1' })).toBe(
      'eu-central-1',
    );
    expect(signingRegion(new URL('https://edge.example.com/'), {})).toBeUndefined();
  });
});
