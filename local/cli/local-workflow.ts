import { dump } from 'js-yaml';
import { listAslFiles } from '../../lib/asl';
import { executionsDirFor } from '../executions';
import { runWorkflow, type WorkflowResult } from '../runtime';
import { EXIT, type Io, type StopCause, UsageError } from './io';
import { environmentFor, type LocalTarget, type LogFlags, logDestination } from './local-target';
import { manualJoinPrinter, stepEnvironment } from './manual-join';
import { progressPrinter } from './progress';

/*
 * A workflow run in this process, by the local runtime, against the shell's credentials or a sandbox. The CLI's
 * command wiring loads this module only when a command runs locally: the --api-url path never loads the runtime.
 */

/** The flags a local run reads. */
export interface LocalRunFlags extends LogFlags {
  readonly json?: boolean;
  readonly executionName?: string;
}

/**
 * `manualJoin`: the request of a manual join, whose join command this process prints once the run waits for it;
 * `view`: how a successful run's output is shown without --json (default: YAML);
 * `progress`: the progress view on stderr (default: step by step); `exitCode`: a successful run's exit code
 * (default 0; a batch with failed nodes exits 1)
 */
export interface LocalRunOptions {
  readonly manualJoin?: unknown;
  readonly view?: (output: unknown) => string;
  readonly progress?: typeof progressPrinter;
  readonly exitCode?: (output: unknown) => number;
}

/** What a stop request does to a running workflow, said once when it arrives. */
const STOP_NOTICE = {
  graceful: (cause: StopCause) =>
    `${cause}: stopping at the next step; the workflow's failure path will roll back what it did and release its ` +
    `lock.${cause === 'parent exited' ? '' : ' Press Ctrl-C again to stop at once (no rollback).'}`,
  immediate: (cause: StopCause) => `${cause} again: stopping at once.`,
};

/** Runs one workflow in-process and reports it; resolves to the exit code. */
export async function runLocalWorkflow(
  workflow: string,
  input: unknown,
  flags: LocalRunFlags,
  target: LocalTarget,
  io: Io,
  options: LocalRunOptions = {},
): Promise<number> {
  if (!listAslFiles().some((asl) => asl.name === workflow)) {
    throw new UsageError(`the ${workflow} workflow is not built yet in this version of edgekeeper`);
  }
  const environment = await environmentFor(target, logDestination(flags, target));
  const graceful = new AbortController();
  const immediate = new AbortController();
  let firstCause: StopCause | undefined;
  const unsubscribe = io.onStop((cause) => {
    if (!firstCause) {
      firstCause = cause;
      io.stderr(`\n${STOP_NOTICE.graceful(cause)}\n`);
      graceful.abort(cause);
    } else if (cause !== 'parent exited' && !immediate.signal.aborted) {
      // an orphaned process only ever stops gracefully: nobody is left to ask twice
      io.stderr(`${STOP_NOTICE.immediate(cause)}\n`);
      immediate.abort(cause);
    }
  });
  let stoppedHere = false;
  const manualJoin =
    options.manualJoin === undefined
      ? undefined
      : manualJoinPrinter(options.manualJoin, {
          io,
          json: Boolean(flags.json),
          env: stepEnvironment(io, environment),
          stop: (why) => {
            stoppedHere = true;
            graceful.abort(why);
          },
        });
  const progress = flags.json
    ? undefined
    : (options.progress ?? progressPrinter)((line) => io.stderr(`${line}\n`), io.color);
  let result: WorkflowResult;
  try {
    result = await runWorkflow({
      workflow,
      input,
      executionName: flags.executionName,
      executionsDir: executionsDirFor(target, io.env),
      environment,
      signal: graceful.signal,
      stopNow: immediate.signal,
      // The sandbox is simulated: shorten pauses, not the time the steps measure.
      waits: target.kind === 'sandbox' ? 'compressed' : 'real',
      compressedWaitMs: 250,
      onEvent:
        manualJoin || progress
          ? (event) => {
              progress?.(event);
              manualJoin?.(event);
            }
          : undefined,
    });
  } finally {
    unsubscribe();
  }
  const shown = options.view && result.status === 'SUCCEEDED' ? options.view(result.output) : formatResult(result);
  io.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : shown);
  if (result.stop && !flags.json) io.stderr(formatStop(result));
  if (stoppedHere && result.status !== 'SUCCEEDED') return EXIT.workflowFailed;
  if (options.exitCode && result.status === 'SUCCEEDED') {
    const code = options.exitCode(result.output);
    // a batch a signal stopped (its children stopped, the rest skipped) exits as a stopped run does
    return code !== EXIT.ok && firstCause ? exitCodeOf({ ...result, status: 'ABORTED' }, firstCause) : code;
  }
  return exitCodeOf(result, firstCause);
}

function exitCodeOf(result: WorkflowResult, cause: StopCause | undefined): number {
  if (result.status === 'SUCCEEDED') return EXIT.ok;
  if (result.status === 'ABORTED') return cause === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  return EXIT.workflowFailed;
}

function formatResult(result: WorkflowResult): string {
  const replayed = result.execution?.replayed
    ? `(execution ${result.execution.name} already ran: this is its result; nothing ran now)\n`
    : '';
  if (result.status !== 'SUCCEEDED')
    return `${replayed}${result.status} ${result.error?.name}: ${result.error?.message}\n`;
  return `${replayed}SUCCEEDED\n${dump(result.output, { lineWidth: 120 })}`;
}

/** What a stop did, in words: which steps ran after it (the rollback and lock release) and where it is recorded. */
export function formatStop(result: WorkflowResult): string {
  const stop = result.stop;
  if (!stop) return '';
  const record = result.execution ? ` Recorded as ${result.status} in ${result.execution.record}.` : '';
  const unlock =
    ' Any lock it still holds is free for the next run, its holder having ended (`edgekeeper unlock` shows it).';
  if (stop.mode === 'immediate') {
    return `Stopped at once on ${stop.reason}: no rollback ran.${record}${unlock}\n`;
  }
  const before = stop.before
    ? ` before "${stop.before}"`
    : result.status === 'SUCCEEDED'
      ? ' too late: the workflow had no step left to stop at'
      : ', but the workflow failed on its own before reaching a step to stop at';
  if (stop.afterwards.length === 0) {
    return `Stopped on ${stop.reason}${before}: nothing needed undoing.${record}\n`;
  }
  const steps = stop.afterwards.map((step) => `${step.state} ${step.ok ? '✓' : '✗'}`).join(', ');
  const clean = stop.afterwards.every((step) => step.ok);
  return (
    `Stopped on ${stop.reason}${before}; then the failure path ran: ${steps}.` +
    `${clean ? ' Rolled back and released.' : ` Not everything was undone.${unlock}`}${record}\n`
  );
}
