import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type WorkflowEvent, type WorkflowResult, workflowStates } from '../../../local/runtime';
import type { E2E } from '../harness';

/**
 * The kill-at-state harness of the fault-injection suite: runs a workflow against the sandbox in a child process
 * and SIGKILLs that process at a chosen state, as a crash of the local runtime would; then reruns the same input
 * and returns both runs, so a test can assert that the rerun converged.
 *
 * Kill points come from the workflow's ASL (`killPoints`): a state added to a workflow is covered without
 * touching the tests. A Task can be killed as it is entered (before its handler runs) or as it exits (after its
 * handler returned, before the engine recorded the result: the work is done but the workflow does not know it).
 */

/** Where to kill: a state of a workflow (the root's or a child's, such as remove-node inside a rollback). */
export interface KillPoint {
  readonly workflow: string;
  readonly state: string;
  readonly phase: 'enter' | 'exit';
}

/** Every kill point of a workflow: each state on entry, and each Task also on exit. */
export function killPoints(workflow: string): KillPoint[] {
  return workflowStates(workflow).flatMap(({ name, type }): KillPoint[] => [
    { workflow, state: name, phase: 'enter' },
    ...(type === 'Task' ? [{ workflow, state: name, phase: 'exit' as const }] : []),
  ]);
}

/** A kill point as a test title: `onboard-node: "Lock the node" (exit)`. */
export function describeKillPoint(point: KillPoint): string {
  return `${point.workflow}: "${point.state}" (${point.phase})`;
}

/** What run-workflow.ts reads. */
export interface ChildSpec {
  readonly workflow: string;
  readonly input: unknown;
  readonly executionName: string;
  readonly executionsDir: string;
  readonly environment: Record<string, string>;
  readonly compressedWaitMs: number;
  readonly killAt?: KillPoint;
}

/** One run in a child process. */
export interface ChildRun {
  readonly executionName: string;
  /** the kill point was reached and the process died there */
  readonly killed: boolean;
  readonly events: WorkflowEvent[];
  /** how the run ended, unless it was killed */
  readonly result?: WorkflowResult;
  readonly stderr: string;
}

const RUNNER = join(__dirname, 'run-workflow.ts');

/** Runs a workflow in a child process against the harness's sandbox, killing it at `killAt` if that is reached. */
export async function runInChild(
  e2e: E2E,
  options: { workflow: string; input: unknown; executionName?: string; killAt?: KillPoint; timeoutMs?: number },
): Promise<ChildRun> {
  const executionName = options.executionName ?? `fault-${randomUUID().slice(0, 8)}`;
  const spec: ChildSpec = {
    workflow: options.workflow,
    input: options.input,
    executionName,
    executionsDir: e2e.executionsDir,
    environment: e2e.environment,
    compressedWaitMs: 50,
    ...(options.killAt && { killAt: options.killAt }),
  };
  const specFile = join(e2e.dir, `${executionName}.spec.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, RUNNER, specFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
    child.once('close', (_code, killedBy) => resolve(killedBy));
  });
  clearTimeout(timeout);
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { event?: WorkflowEvent; result?: WorkflowResult });
  const result = lines.find((line) => line.result)?.result;
  if (signal !== 'SIGKILL' && !result) throw new Error(`the workflow process failed (${signal ?? 'exit'}):\n${stderr}`);
  return {
    executionName,
    killed: signal === 'SIGKILL' && !result,
    events: lines.flatMap((line) => (line.event ? [line.event] : [])),
    ...(result && { result }),
    stderr,
  };
}

/**
 * Kills a run of `workflow` at `killAt`, then runs the same input again to its end: under a new execution name,
 * as an operator rerunning the command would (`sameName: false`), or under the killed one, which the local
 * runtime continues as the same execution (`sameName: true`).
 */
export async function killAndRerun(
  e2e: E2E,
  options: { workflow: string; input: unknown; killAt: KillPoint; sameName?: boolean },
): Promise<{ killed: ChildRun; rerun: ChildRun & { result: WorkflowResult } }> {
  const killed = await runInChild(e2e, { workflow: options.workflow, input: options.input, killAt: options.killAt });
  const rerun = await runInChild(e2e, {
    workflow: options.workflow,
    input: options.input,
    ...(options.sameName && { executionName: killed.executionName }),
  });
  if (!rerun.result) throw new Error(`the rerun did not finish:\n${rerun.stderr}`);
  return { killed, rerun: { ...rerun, result: rerun.result } };
}
