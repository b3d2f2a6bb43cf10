import { readFileSync } from 'node:fs';
import type { BatchPlan, BatchProgress, NodeResult } from '../../functions/shared/batch';
import { isRecord } from '../../functions/shared/batch';
import type { WorkflowEvent } from '../runtime';
import { EXIT, shown, UsageError } from './io';
import { formatDuration } from './progress';

/**
 * `edgekeeper onboard|remove --batch FILE|-`: reading the file, and what a batch shows while it runs (each node as it
 * starts, the step it is at, how it ended) and once it ended (a line per node and the totals).
 */

/** The batch's output (docs/operating.md, "Batches"). */
interface BatchOutput {
  readonly workflow: string;
  readonly concurrency: number;
  readonly budget: BatchProgress['budget'];
  readonly totals: Readonly<Record<string, number>>;
  readonly results: readonly NodeResult[];
}

/**
 * The requests of `--batch FILE` (`-`: stdin): a JSON list of requests, or `{"requests": [...]}` (the workflow's
 * own input). Each request is checked by the workflow, which names the request and the field.
 * @throws UsageError naming --batch when the file cannot be read or holds no list
 */
export function readBatchFile(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`--batch ${shown(path)} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--batch ${shown(path)} is not JSON: ${(error as Error).message}`);
  }
  const requests = isRecord(parsed) ? parsed.requests : parsed;
  if (!Array.isArray(requests)) {
    throw new UsageError(`--batch ${shown(path)} must hold a JSON list of requests, or {"requests": [...]}`);
  }
  return requests;
}

/** The flags a batch takes from its file instead; given with --batch, they are refused by name. */
export function refuseSingleNodeFlags(given: Readonly<Record<string, unknown>>): void {
  const flags = Object.entries(given)
    .filter(([, value]) => value !== undefined)
    .map(([flag]) => flag);
  if (flags.length > 0) {
    throw new UsageError(`--batch takes each request from the file: leave out ${flags.join(', ')}`);
  }
}

/** A successful batch with a failed or skipped node exits 1, like a failed workflow. */
export function batchExitCode(output: unknown): number {
  const totals = (output as BatchOutput | null)?.totals;
  return totals && totals.failed === 0 && totals.skipped === 0 ? EXIT.ok : EXIT.workflowFailed;
}

/** How runWorkflowCommand shows a batch: its progress view, its output, its exit code. */
export const BATCH_VIEW = {
  progress: batchProgressPrinter,
  view: (output: unknown) => formatBatchOutput(output as BatchOutput),
  exitCode: batchExitCode,
} as const;

/** The options a single node's onboarding or removal requires, refused without --batch by name (commander's words). */
export function requireSingleNodeFlags(required: Readonly<Record<string, unknown>>): void {
  const missing = Object.entries(required).find(([, value]) => value === undefined);
  if (missing) throw new UsageError(`required option '${missing[0]}' not specified (or give --batch FILE)`);
}

const MARK = { failed: '✗', skipped: '–' } as const;

/**
 * A line per node as it starts, a line per step it (or its rollback) enters (once per polling loop), a line as it
 * ends; requests that never
 * start (refused, skipped) get their line when the batch decides them. Lines are prefixed with the node name, so
 * many nodes running at once stay readable.
 */
export function batchProgressPrinter(write: (line: string) => void, color = false): (event: WorkflowEvent) => void {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let batch: string | undefined;
  /** child execution name → node name */
  const nodes = new Map<string, string>();
  const startedAt = new Map<string, number>();
  /** the step each child (or rollback) last showed: a polling loop re-entering it is not shown again */
  const lastStep = new Map<string, string>();
  /** child execution names whose node's final line is written */
  const ended = new Set<string>();
  const nodeOf = (execution: string) => nodes.get(execution) ?? nodes.get(execution.replace(/-rollback$/, ''));
  const endLine = (result: Pick<NodeResult, 'nodeName' | 'status' | 'error'>, tookMs?: number) => {
    const took = tookMs === undefined ? '' : ` ${paint(2, `(${formatDuration(tookMs)})`)}`;
    if (result.status === 'failed' || result.status === 'skipped') {
      const mark = paint(result.status === 'failed' ? 31 : 33, MARK[result.status]);
      const why = result.error ? `: ${result.error.name}: ${result.error.message.split('\n')[0]}` : '';
      return `  ${mark} ${result.nodeName} ${result.status}${why}${took}`;
    }
    return `  ${paint(32, '✓')} ${result.nodeName} ${result.status}${took}`;
  };
  return (event) => {
    batch ??= event.execution;
    if (event.execution === batch) {
      if (event.type !== 'StateExited') return;
      const output = event.output as { plan?: BatchPlan; progress?: BatchProgress; wave?: WaveEntry[] } | undefined;
      if (event.state === 'Check the batch' && output?.plan) {
        const { plan } = output;
        write(
          `${paint(1, event.workflow)}: ${plan.requested} request(s), ${plan.concurrency} at a time, ` +
            `${plan.toleratedFailures} failure(s) tolerated (${plan.toleratedFailurePercent} %)`,
        );
      }
      if (event.state === 'Plan the next wave' && output?.progress) {
        // requests decided without a child of their own: refused, skipped, or replayed from an earlier run
        for (const result of output.progress.results) {
          const execution = result.operationId.slice(result.operationId.indexOf(':') + 1);
          if (ended.has(execution)) continue;
          ended.add(execution);
          write(endLine(result));
        }
        for (const item of output.wave ?? []) {
          nodes.set(item.executionName, String(item.input.nodeName ?? item.executionName));
        }
      }
      return;
    }
    const node = nodeOf(event.execution);
    if (!node) return;
    // an onboarding's rollback runs as `<child>-rollback`: its steps belong to the same node
    const rollback = !nodes.has(event.execution);
    if (event.type === 'ExecutionStarted' && !rollback) {
      startedAt.set(event.execution, event.timestamp);
      write(`  ${paint(36, '▸')} ${node} started as ${event.workflow}:${event.execution}`);
    } else if (event.type === 'StateEntered' && event.stateType === 'Task') {
      if (lastStep.get(event.execution) === event.state) return;
      lastStep.set(event.execution, event.state ?? '');
      write(`    ${paint(2, `${node} ›${rollback ? ' rollback:' : ''} ${event.state}`)}`);
    } else if ((event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') && !rollback) {
      ended.add(event.execution);
      const status =
        event.type === 'ExecutionFailed' ? 'failed' : event.workflow === 'remove-node' ? 'removed' : 'joined';
      const since = startedAt.get(event.execution) ?? event.timestamp;
      write(endLine({ nodeName: node, status, error: event.error }, event.timestamp - since));
    }
  };
}

interface WaveEntry {
  readonly executionName: string;
  readonly input: Record<string, unknown>;
}

/** A line per node (name, status, operation id, error), then the summary line. */
export function formatBatchOutput(output: BatchOutput): string {
  const width = Math.max(...output.results.map((node) => node.nodeName.length), 4);
  const lines = output.results.map((node) => {
    const error = node.error ? `  ${node.error.name}: ${node.error.message}` : '';
    return `${node.nodeName.padEnd(width)}  ${node.status.padEnd(7)}  ${node.operationId}${error}`;
  });
  return `${lines.join('\n')}\n${summaryLine(output)}\n`;
}

/** `5 requested: 3 joined, 2 failed, 0 skipped; failure budget 1 of 0 tolerated: exceeded, the rest not started` */
export function summaryLine(output: BatchOutput): string {
  const { requested, failed, skipped, ...done } = output.totals;
  const [doneWord, doneCount] = Object.entries(done)[0] ?? ['succeeded', 0];
  const { failedChildren, toleratedFailures, exceeded } = output.budget;
  const budget = exceeded
    ? `failure budget exceeded (${failedChildren} failed, ${toleratedFailures} tolerated): the rest were not started`
    : `failure budget kept (${failedChildren} failed, ${toleratedFailures} tolerated)`;
  return `${requested} requested: ${doneCount} ${doneWord}, ${failed} failed, ${skipped} skipped; ${budget}`;
}
