/**
 * Named errors drive the workflows: the ASL `Retry` and `Catch` clauses match `error.name`, exactly as Step
 * Functions matches the `errorType` of a failed Lambda invocation. Each class sets a literal `name` (minifiers
 * rename classes) and decides once whether it is transient (worth a retry) or permanent.
 */
export abstract class EdgekeeperError extends Error {
  abstract override readonly name: string;
  /** Transient errors are retried by the workflow; permanent ones go straight to its Catch. */
  readonly transient: boolean = false;
}

/** A request, event or workflow input that fails its schema or a business rule; names field, value and reason. */
export class InvalidRequestError extends EdgekeeperError {
  override readonly name = 'InvalidRequestError';
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('; '));
  }
}

/** One reason a request is rejected: which field, what value, and why. */
export interface Problem {
  readonly field: string;
  readonly value: unknown;
  readonly reason: string;
}

/** `<field> <value> <reason>`, the value cut when long (see {@link shownValue}). */
export function formatProblem({ field, value, reason }: Problem): string {
  return value === undefined ? `${field} ${reason}` : `${field} ${shownValue(value)} ${reason}`;
}

/** At most this many characters of a value go into a message. */
export const SHOWN_CHARACTERS = 80;

/**
 * A value as a message shows it: a string as it is (JSON-quoted with `quoted`, as the CLI shows flag values),
 * anything else as JSON. A longer one is cut and its length given: a request field or a flag may carry a
 * megabyte, and an error message travels into execution histories, events and logs. The one implementation for
 * the steps and the CLI.
 */
export function shownValue(value: unknown, { quoted = false }: { readonly quoted?: boolean } = {}): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return String(value);
  const quote = (part: string) => (quoted ? JSON.stringify(part) : part);
  if (text.length <= SHOWN_CHARACTERS) return quote(text);
  return `${quote(text.slice(0, SHOWN_CHARACTERS))}… (${text.length} characters)`;
}

/**
 * The cluster identity lacks a permission (HTTP 403). Permanent: a retry cannot grant it; deploy/rbac.yaml holds
 * exactly what the steps need.
 */
export class ClusterAccessDeniedError extends EdgekeeperError {
  override readonly name = 'ClusterAccessDeniedError';
}

/** The Kubernetes API or SSM answered with something worth retrying (throttling, 5xx, network). */
export class TransientServiceError extends EdgekeeperError {
  override readonly name = 'TransientServiceError';
  override readonly transient = true;
}

/**
 * KubeEdge (namespace, cloudcore ConfigMap, token Secret) is missing: nothing about this request can fix it, the
 * cluster must. Permanent. Carries every problem of the request, like InvalidRequestError.
 */
export class KubeEdgeNotInstalledError extends EdgekeeperError {
  override readonly name = 'KubeEdgeNotInstalledError';
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('; '));
  }
}
