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

/**
 * Whether a run's own events show it passed `point`: the state entered, or, for an exit, a Task whose handler
 * returned (it exited, and not through its Catch). A run that passed its kill point without dying there shows a
 * broken hook; one that never came there (a dry-run branch, the uninstall states, a poll that found the end at
 * once) took another path, which timing alone can decide.
 */
export function passedKillPoint(events: readonly WorkflowEvent[], point: KillPoint): boolean {
  const here = events.filter((e) => e.workflow === point.workflow && e.state === point.state);
  if (point.phase === 'enter') return here.some((e) => e.type === 'StateEntered');
  return here.some((e, i) => e.type === 'StateExited' && here[i - 1]?.type !== 'StateCaught');
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
 * Where a crash hurts most, and what `npm test` kills at: right after the onboarding's locks are taken (a dead
 * holder must free them), right after the join script is sent (the host joins while nothing records it: a
 * half-joined node the rerun must adopt), and right after the removal's "Delete the node" (the rerun finds no node
 * and must still clean up and succeed). The uninstall's risky point, between the release Secrets and the
 * namespace, has its own test in test/e2e/remove-node.test.ts; the failure path's, a rollback killed under its
 * parent's lock, is in kill-at-state.test.ts.
 */
export const RISKY_KILL_POINTS: readonly KillPoint[] = [
  { workflow: 'onboard-node', state: 'Lock the node', phase: 'exit' },
  { workflow: 'onboard-node', state: 'Send the join script to the host', phase: 'exit' },
  { workflow: 'remove-node', state: 'Delete the node', phase: 'exit' },
];

/**
 * The kill points a sweep of `workflow` visits: all of them (`full`), or only the risky ones. Every kill point costs
 * a workflow run and a rerun (15 to 25 s on a busy two-core machine), so `npm test` keeps to the few where a crash
 * has done harm before; the full list is `npm run test:faults:full`.
 */
export function sweepPoints(workflow: string, full: boolean): KillPoint[] {
  const all = killPoints(workflow);
  if (full) return all;
  const same = (a: KillPoint, b: KillPoint) => a.workflow === b.workflow && a.state === b.state && a.phase === b.phase;
  return all.filter((point) => RISKY_KILL_POINTS.some((risky) => same(risky, point)));
}
