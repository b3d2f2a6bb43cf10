import { CALLBACK_TIMEOUT_MESSAGE } from '../callbacks/timeout';
import type { WorkflowEvent } from '../runtime';

/** States that are bookkeeping, not work a person would name: they stay out of the progress view. */
const QUIET = new Set(['Choice', 'Pass', 'Wait', 'Succeed', 'Fail']);

interface Repeat {
  readonly key: string;
  readonly indent: string;
  readonly since: number;
  count: number;
  until: number;
}

/**
 * A readable step-by-step view of a running workflow: each step as it ends — succeeded (with its duration),
 * retried, failed with its error, or a wait for an event that timed out into a check — and nested workflows indented
 * under their parent. A polling loop exits the
 * same step again and again: it is printed once, followed by how many checks it took.
 */
export function progressPrinter(write: (line: string) => void, color = false): (event: WorkflowEvent) => void {
  const entered = new Map<string, number>();
  const failed = new Set<string>();
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let root: string | undefined;
  let repeat: Repeat | undefined;
  const flushRepeat = () => {
    if (repeat && repeat.count > 1) {
      write(
        `${repeat.indent}  ${paint(2, `↳ ${repeat.count} checks over ${formatDuration(repeat.until - repeat.since)}`)}`,
      );
    }
    repeat = undefined;
  };
  return (event) => {
    root ??= event.execution;
    const indent = event.execution === root ? '  ' : '    ';
    const key = `${event.execution}/${event.state}`;
    if (event.type === 'ExecutionStarted') {
      flushRepeat();
      write(`${indent.slice(2)}${paint(1, event.workflow)}`);
      return;
    }
    if (!event.state || QUIET.has(event.stateType ?? '')) {
      if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') flushRepeat();
      return;
    }
    if (event.type !== 'StateEntered' && !(event.type === 'StateExited' && repeat?.key === key)) flushRepeat();
    switch (event.type) {
      case 'StateEntered':
        if (repeat?.key !== key) entered.set(key, event.timestamp);
        failed.delete(key);
        return;
      case 'StateRetried':
        // the engine retries without entering the state again: a retry that succeeds must still end with ✓
        failed.delete(key);
        write(`${indent}${paint(33, '↻')} ${event.state}: retrying after a transient error`);
        return;
      case 'StateFailed':
        failed.add(key);
        if (event.error?.name === 'States.Timeout' && event.error.message === CALLBACK_TIMEOUT_MESSAGE) {
          // a wait for a command's end event that heard none: the workflow checks the command instead
          const waited = formatDuration(event.timestamp - (entered.get(key) ?? event.timestamp));
          write(`${indent}${paint(2, '⧗')} ${event.state}: no end event within ${waited}, checking instead`);
          return;
        }
        // the first line says what failed; the rest (a stderr tail) belongs in --json and the logs
        write(
          `${indent}${paint(31, '✗')} ${event.state}: ${event.error?.name}: ${event.error?.message.split('\n')[0]}`,
        );
        return;
      case 'StateExited': {
        if (failed.has(key)) return;
        if (repeat?.key === key) {
          repeat.count += 1;
          repeat.until = event.timestamp;
          return;
        }
        const since = entered.get(key) ?? event.timestamp;
        write(`${indent}${paint(32, '✓')} ${event.state} ${paint(2, `(${formatDuration(event.timestamp - since)})`)}`);
        repeat = { key, indent, since, count: 1, until: event.timestamp };
        return;
      }
      default:
        return;
    }
  };
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
