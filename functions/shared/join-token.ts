import { createHash } from 'node:crypto';

// A module of its own (join-script.ts re-exports it) so that the steps that only delete the token parameter do not
// load the join script renderer and its keadm flag table with it.

/**
 * Where the send step keeps the join token for one execution: a SecureString parameter under this path, which the
 * host reads with its own AWS credentials. IAM scopes both sides to the path (the send and check steps may put and
 * delete under it; the edge hosts' role may only read it). See docs/adr/0004-join-token-handling.md.
 */
export const JOIN_TOKEN_PARAMETER_PATH = '/edgekeeper/join-token/';

/** Parameter names take `[A-Za-z0-9_.-/]`; an execution name outside that alphabet is named by its hash. */
const PARAMETER_SAFE_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

/**
 * The token parameter of an execution (its name, `$$.Execution.Name`): the send step writes it, the check step and
 * the rollback delete it, each deriving the same name from the execution, so nothing carries it in between.
 */
export function joinTokenParameterName(operationId: string): string {
  const leaf = PARAMETER_SAFE_NAME.test(operationId)
    ? operationId
    : `sha256-${createHash('sha256').update(operationId).digest('hex').slice(0, 40)}`;
  return `${JOIN_TOKEN_PARAMETER_PATH}${leaf}`;
}
