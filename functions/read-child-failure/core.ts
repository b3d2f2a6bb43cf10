import type { ChildOutcome } from '../shared/batch';
import { isRecord, shortMessage } from '../shared/batch';

/** What a Catch records: the error's name and its cause, as Step Functions writes them. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** A child execution that ended without an error of its own: its status says how (DescribeExecution's words). */
const ENDED_WITHOUT_ERROR: Record<string, string> = {
  ABORTED: 'ExecutionAborted',
  TIMED_OUT: 'States.Timeout',
};

/**
 * Reads why a child of a batch did not succeed, keeping only what the batch's results carry: the error's name and
 * its message's first line, cut. A failed child (`States.TaskFailed` from `startExecution.sync:2`) carries its own
 * error and cause inside the cause, as DescribeExecution gives them; any other error stopped the child from
 * starting (a name that already ran, throttling past the retries, a stop asked for first).
 */
export function readChildFailure(index: number, failure: CaughtError): Required<ChildOutcome> {
  if (failure.Error === 'States.TaskFailed') {
    const child = parseJson(failure.Cause);
    if (isRecord(child) && typeof child.Status === 'string') {
      const name =
        typeof child.Error === 'string' && child.Error !== ''
          ? child.Error
          : (ENDED_WITHOUT_ERROR[child.Status] ?? failure.Error);
      return { index, started: true, error: { name, message: shortMessage(messageOf(child.Cause) || child.Status) } };
    }
  }
  return { index, started: false, error: { name: failure.Error, message: shortMessage(messageOf(failure.Cause)) } };
}

/**
 * The human message inside a cause: a Lambda error's `errorMessage` (its cause is the JSON Lambda returns), a
 * nested execution's `Cause`, or the text itself.
 */
export function messageOf(cause: unknown): string {
  if (typeof cause !== 'string') return '';
  const parsed = parseJson(cause);
  if (isRecord(parsed)) {
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (parsed.Cause !== undefined) return messageOf(parsed.Cause);
  }
  return cause;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: the cause is already a message
    return undefined;
  }
}
