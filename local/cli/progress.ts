import type { WorkflowEvent } from '../runtime';

/**
 * A readable step-by-step view of a running workflow, written to stderr: each state as it starts, how it ended,
 * and how long it took. Choice/Pass states are bookkeeping and stay quiet; nested workflows are indented.
 */
export function progressPrinter(write: (line: string) => void, color = false): (event: WorkflowEvent) => void {
  const entered = new Map<string, number>();
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const quiet = new Set(['Choice', 'Pass', 'Wait']);
  let rootWorkflow: string | undefined;
  return (event) => {
    rootWorkflow ??= event.workflow;
    const indent = event.workflow === rootWorkflow ? '  ' : '    ';
    const key = `${event.workflow}/${event.state}`;
    switch (event.type) {
      case 'ExecutionStarted':
        write(`${indent.slice(2)}${paint(1, event.workflow)}`);
        return;
      case 'StateEntered':
        entered.set(key, event.timestamp);
        return;
      case 'StateExited': {
        if (!event.state || quiet.has(event.stateType ?? '')) return;
        const took = event.timestamp - (entered.get(key) ?? event.timestamp);
        write(`${indent}${paint(32, '✓')} ${event.state} ${paint(2, `(${formatDuration(took)})`)}`);
        return;
      }
      case 'StateRetried':
        write(`${indent}${paint(33, '↻')} ${event.state}: retrying`);
        return;
      case 'StateCaught':
      case 'StateFailed':
        write(
          `${indent}${paint(31, '✗')} ${event.state}${event.error ? `: ${event.error.name}: ${event.error.message}` : ''}`,
        );
        return;
      default:
        return;
    }
  };
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
