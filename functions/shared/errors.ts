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

export function formatProblem({ field, value, reason }: Problem): string {
  return value === undefined ? `${field} ${reason}` : `${field} ${formatValue(value)} ${reason}`;
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
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
