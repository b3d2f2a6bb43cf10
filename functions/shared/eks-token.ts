import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { TransientServiceError } from './errors';
import { NodeSha256 } from './sha256';
import { transportFailure } from './transport';

/*
 * The bearer token EKS accepts from an IAM identity, made as `aws eks get-token` makes it (the AWS CLI's
 * awscli/customizations/eks/get_token.py): an STS GetCallerIdentity GET request, presigned with SigV4 for 60
 * seconds with the `x-k8s-aws-id: <cluster name>` header among the signed headers, whose URL is base64url-encoded
 * without padding behind `k8s-aws-v1.`. The cluster's authenticator sends that request to STS and maps the identity
 * STS answers with to Kubernetes users and groups (EKS access entries). A token is valid for 15 minutes after its
 * X-Amz-Date whatever X-Amz-Expires says (aws-iam-authenticator, pkg/token/token.go; the CLI announces 14 minutes to
 * its clients); it also stops working when the credentials that signed it expire, as STS then refuses their
 * session token.
 *
 * The token holds a presigned request, session token included: whoever has it is the step's identity towards the
 * cluster until it expires. It is never logged, returned or put in an error message.
 */

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster: a token for another cluster fails its signature. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** As the CLI presigns it; the authenticator bounds the token's life by X-Amz-Date, not by this. */
export const URL_EXPIRES_SECONDS = 60;
/** Well inside the 15 minutes the cluster takes a token for: a call made just before the refresh still passes. */
export const REFRESH_AFTER_MS = 10 * 60_000;
/** A token is dropped this long before the credentials that signed it expire. */
export const CREDENTIALS_MARGIN_MS = 60_000;

/** The token could not be made for a reason a retry will not change (no credentials, malformed credentials). */
export class EksTokenError extends Error {
  override readonly name = 'EksTokenError';
}

export interface EksTokenOptions {
  /** the EKS cluster's name: the value of the signed `x-k8s-aws-id` header */
  readonly clusterName: string;
  /** the region of the STS endpoint that signs the request (the Lambda's own region) */
  readonly region: string;
  /** where the signing credentials come from; the AWS SDK's default chain (the Lambda's role) unless given */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** the clock, for tests */
  readonly now?: () => Date;
}

/** A token, and when it must be replaced. */
interface IssuedToken {
  readonly token: string;
  readonly refreshAt: number;
}

/**
 * The EKS token of one cluster for one container: signed on first use, reused until ten minutes have passed or
 * until a minute before its credentials expire, whichever comes first, then signed again. Concurrent callers share
 * one signing; a failed signing is not kept, so the next call tries again.
 */
export class EksTokenSource {
  private readonly credentials: AwsCredentialIdentityProvider;
  private readonly now: () => Date;
  private issued?: IssuedToken;
  private pending?: Promise<IssuedToken>;

  constructor(private readonly options: EksTokenOptions) {
    this.credentials = options.credentials ?? defaultProvider();
    this.now = options.now ?? (() => new Date());
  }

  /** A token valid for at least the next few minutes. */
  async token(): Promise<string> {
    if (this.issued && this.now().getTime() < this.issued.refreshAt) return this.issued.token;
    this.pending ??= this.issue().finally(() => {
      this.pending = undefined;
    });
    this.issued = await this.pending;
    return this.issued.token;
  }

  private async issue(): Promise<IssuedToken> {
    const { clusterName, region } = this.options;
    const credentials = await loadCredentials(this.credentials, clusterName);
    const signedAt = this.now();
    const token = await signToken({ clusterName, region, credentials, signedAt });
    const expiresAt = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    return { token, refreshAt: Math.min(signedAt.getTime() + REFRESH_AFTER_MS, expiresAt - CREDENTIALS_MARGIN_MS) };
  }
}

/**
 * The signing credentials; a failure says what failed and why, in the credential provider's words (which name the
 * providers tried, never a secret). A network failure (the container credentials endpoint) is worth a retry.
 */
async function loadCredentials(
  provider: AwsCredentialIdentityProvider,
  clusterName: string,
): Promise<AwsCredentialIdentity> {
  try {
    return await provider();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `signing the EKS token for cluster ${clusterName}: the AWS credentials could not be loaded: ${reason}`;
    throw transportFailure(error) ? new TransientServiceError(message) : new EksTokenError(message);
  }
}

/** One token, signed at `signedAt` with the given credentials (no network call: the cluster makes the STS call). */
export async function signToken(input: {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly signedAt: Date;
}): Promise<string> {
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: input.credentials,
    sha256: NodeSha256,
  });
  let presigned: Awaited<ReturnType<SignatureV4['presign']>>;
  try {
    presigned = await signer.presign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname,
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        // `host` is signed as every SigV4 request signs it; the cluster header is what ties the token to a cluster
        headers: { host: hostname, [CLUSTER_ID_HEADER]: input.clusterName },
      },
      { signingDate: input.signedAt, expiresIn: URL_EXPIRES_SECONDS },
    );
  } catch (error) {
    // smithy's reasons name the problem ("Resolved credential object is not valid"), never the credentials
    const reason = error instanceof Error ? error.message : String(error);
    throw new EksTokenError(`signing the EKS token for cluster ${input.clusterName}: ${reason}`);
  }
  const url = `https://${hostname}/?${queryString(presigned.query ?? {})}`;
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** The regional STS endpoint; the China regions are in their own partition, under `amazonaws.com.cn`. */
export function stsHostname(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** The order the AWS CLI writes the presigned query in, so that the same inputs give the CLI's token byte for byte. */
const CLI_QUERY_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
];

/** The query as SigV4 encodes it (RFC 3986: only unreserved characters stay as they are), in the CLI's order. */
function queryString(query: Readonly<Record<string, string | readonly string[] | null>>): string {
  const rank = (key: string) => (CLI_QUERY_ORDER.includes(key) ? CLI_QUERY_ORDER.indexOf(key) : CLI_QUERY_ORDER.length);
  return Object.entries(query)
    .sort(([a], [b]) => rank(a) - rank(b))
    .flatMap(([key, value]) =>
      value === null ? [] : [value].flat().map((item) => `${uriEscape(key)}=${uriEscape(item)}`),
    )
    .join('&');
}

function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
