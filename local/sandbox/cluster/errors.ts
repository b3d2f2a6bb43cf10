import type { ResourceType } from './resources';

/** One `details.causes[]` entry of an Invalid Status: the field path and why it is wrong. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

/**
 * An error the API server answers with a `kind: Status` body. Thrown anywhere below the router; the router turns
 * it into the HTTP response, so handlers never write error responses themselves.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  /** The `kind: Status` body a real API server sends for this error. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `<resource>.<group>` as the API server prints it in messages (`daemonsets.apps`, `pods`). */
export function qualifiedName(t: ResourceType): string {
  return t.group === '' ? t.name : `${t.name}.${t.group}`;
}

/** 404: `pods "x" not found`. */
export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(t)} "${name}" not found`, {
    name,
    group: t.group,
    kind: t.name,
  });
}

/** 409 AlreadyExists. */
export function alreadyExists(t: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(t)} "${name}" already exists`, {
    name,
    group: t.group,
    kind: t.name,
  });
}

/** 409 Conflict on a stale resourceVersion, worded like the real API server. */
export function conflict(t: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: t.group, kind: t.name },
  );
}

/** 422 Invalid, listing every field problem. */
export function invalid(t: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: ${list}`, {
    name,
    group: t.group,
    kind: t.kind,
    causes,
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}
