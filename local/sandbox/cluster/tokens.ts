import { randomBytes } from 'node:crypto';
import type { StatusCause } from './errors';
import type { Grant, Identity } from './rbac';

/** A ServiceAccount as the authenticator names it. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** The API server's bounds of `TokenRequest.spec.expirationSeconds`: at least 10 minutes, at most 2^32 seconds. */
export const TOKEN_EXPIRATION_BOUNDS = { min: 600, max: 2 ** 32, default: 3600 } as const;

interface Entry {
  readonly identity: Identity;
  /** epoch ms; absent for the tokens the sandbox starts with, which live as long as it does */
  readonly expiresAt?: number;
}

/**
 * The bearer tokens the API server accepts: the three it starts with (the admin's, the cloudcore stand-in's, and
 * ServiceAccount kube-system/edgekeeper's), and the bounded ones the TokenRequest API issues for a ServiceAccount. A token issued
 * for a ServiceAccount is held to the grants of that account, as the token the sandbox starts with is; once expired
 * it is unknown again, which the server answers with 401 as a real API server does.
 */
export class TokenAuthenticator {
  private readonly tokens = new Map<string, Entry>();

  constructor(
    /** the grants the RBAC manifest gives a ServiceAccount (none when it binds it to nothing) */
    private readonly grantsOf: (account: ServiceAccountRef) => readonly Grant[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Accepts `token` as `identity` for as long as the sandbox runs. */
  add(token: string, identity: Identity): void {
    this.tokens.set(token, { identity });
  }

  /** Who a bearer token is, or undefined when it is unknown or expired. */
  identify(token: string | undefined): Identity | undefined {
    if (token === undefined) return undefined;
    const entry = this.tokens.get(token);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now().getTime()) {
      this.tokens.delete(token);
      return undefined;
    }
    return entry?.identity;
  }

  /**
   * Issues a token for a ServiceAccount, valid for `expirationSeconds`: what `POST serviceaccounts/<name>/token`
   * answers in `status`. The caller has checked that the account exists and the seconds are within bounds.
   */
  issue(account: ServiceAccountRef, expirationSeconds: number): { token: string; expirationTimestamp: string } {
    const token = randomBytes(32).toString('hex');
    // whole seconds, as the API server's timestamps are
    const expiresAt = Math.floor(this.now().getTime() / 1000) * 1000 + expirationSeconds * 1000;
    const identity = {
      user: `system:serviceaccount:${account.namespace}:${account.name}`,
      grants: this.grantsOf(account),
    };
    this.tokens.set(token, { identity, expiresAt });
    return { token, expirationTimestamp: new Date(expiresAt).toISOString().replace(/\.\d+Z$/, 'Z') };
  }
}

/**
 * What is wrong with a TokenRequest body's `spec.expirationSeconds`, worded as the API server words it; absent or
 * within bounds gives no cause.
 */
export function expirationCauses(expirationSeconds: unknown): StatusCause[] {
  if (expirationSeconds === undefined || expirationSeconds === null) return [];
  const field = 'spec.expirationSeconds';
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) {
    return [
      {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${JSON.stringify(expirationSeconds)}: must be an integer`,
      },
    ];
  }
  if (expirationSeconds < TOKEN_EXPIRATION_BOUNDS.min) {
    return [
      {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
      },
    ];
  }
  if (expirationSeconds > TOKEN_EXPIRATION_BOUNDS.max) {
    return [
      {
        reason: 'FieldValueTooLong',
        field,
        message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`,
      },
    ];
  }
  return [];
}
