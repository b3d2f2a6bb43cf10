import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { NodeSha256 } from '../../functions/shared/sha256';

/** The service name API Gateway signs invocations under. */
export const EXECUTE_API = 'execute-api';

/** A request as it goes on the wire: what is signed is exactly what is sent. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/**
 * The region a request to the API is signed for: AWS_REGION (or AWS_DEFAULT_REGION) when set, else the one in an
 * API Gateway host name (`<id>.execute-api.<region>.amazonaws.com`); a custom domain needs AWS_REGION.
 */
export function signingRegion(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  return url.hostname.match(/\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/)?.[1];
}

/**
 * Signs a request with SigV4 for `service` in `region`, returning the headers to send (the given ones plus `host`,
 * `x-amz-date`, `authorization` and, with session credentials, `x-amz-security-token`). `date` is for tests.
 */
export async function signRequest(
  request: OutgoingRequest,
  options: {
    readonly credentials: AwsCredentialIdentity;
    readonly region: string;
    readonly service?: string;
    readonly date?: Date;
  },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? EXECUTE_API,
    sha256: NodeSha256,
    // API Gateway hashes the body itself; the header only matters to S3
    applyChecksum: false,
  });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of request.url.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port && { port: Number(request.url.port) }),
      // the path as sent; the signer encodes it once more, as SigV4 asks of every service but S3
      path: request.url.pathname,
      query,
      headers: { ...request.headers, host: request.url.host },
      ...(request.body !== undefined && { body: request.body }),
    },
    options.date === undefined ? {} : { signingDate: options.date },
  );
  return signed.headers as Record<string, string>;
}
