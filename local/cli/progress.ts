import type { WorkflowEvent } from '../runtime';

/** States that are bookkeeping, not work a person would name: they stay out of the progress view. */
const QUIET = new Set(['Choice', 'Pass', 'Wait', 'Succeed', 'Fail']);

/**
 * A readable step-by-step view of a running workflow, written to stderr: each step as it ends — succeeded (with
 * its duration), retried, or failed with its error — and nested workflows indented under their parent.
 */
export function progressPrinter(write: (line: string) => void, color = false): (event: WorkflowEvent) => void {
  const entered = new Map<string, number>();
  const failed = new Set<string>();
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let root: string | undefined;
  return (event) => {
    root ??= event.execution;
    const indent = event.execution === root ? '  ' : '    ';
    const key = `${event.execution}/${event.state}`;
    if (event.type === 'ExecutionStarted') {
      write(`${indent.slice(2)}${paint(1, event.workflow)}`);
      return;
    }
    if (!event.state || QUIET.has(event.stateType ?? '')) return;
    switch (event.type) {
      case 'StateEntered':
        entered.set(key, event.timestamp);
        failed.delete(key);
        return;
      case 'StateRetried':
        failed.delete(key);
        write(`${indent}${paint(33, '↻')} ${event.state}: retrying after a transient error`);
        return;
      case 'StateFailed':
        failed.add(key);
        write(`${indent}${paint(31, '✗')} ${event.state}: ${event.error?.name}: ${event.error?.message}`);
        return;
      case 'StateExited': {
        if (failed.has(key)) return;
        const took = event.timestamp - (entered.get(key) ?? event.timestamp);
        write(`${indent}${paint(32, '✓')} ${event.state} ${paint(2, `(${formatDuration(took)})`)}`);
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
