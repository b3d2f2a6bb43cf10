import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { POLL_DELAY } from '../functions/shared/backoff';
import { defaultLogFile, handlerEnvironment } from '../local/cli/targets';
import { runWorkflow, type WorkflowResult } from '../local/runtime';
import { type Sandbox, startSandbox } from '../local/sandbox/sandbox';
import { atMost, type Budget } from './budget';
import { joinableHosts } from './onboarding';
import type { DocSection } from './performance-doc';
import { median } from './stats';

/**
 * Completion detection (issue 14, budget 4): how long after the host script ends the onboarding moves on. The
 * sandbox runs in this process; the real onboard-node ASL runs in the local runtime with the real handlers. With
 * events, the sandbox's SSM endpoint sends SSM's status-change event when the script ends and ResumeOnCommandEvent
 * sends the waiting task's token back; without events (every event dropped by the sandbox's fault hook) the wait
 * times out and the check polls.
 *
 * Waits: Wait states are compressed (they do not touch the figure); the wait for the event keeps its real timeout,
 * the backoff cap (30 s), with events, and without events runs with the cap scaled by 1/10 (3 s), so one sample
 * takes seconds, not half a minute; its budget is that scaled cap.
 */

const WAIT = 'Wait for the host script';
const CHECK = 'Check the host script';
const AFTER = 'Start waiting for the node';
/** the wait for the event without events: the backoff cap scaled by 1/10 */
export const CAP_SCALE = 10;
const CAP_MS = POLL_DELAY.maxSeconds * 1000;
const SCALED_CAP_MS = CAP_MS / CAP_SCALE;
const WITH_EVENTS_BUDGET_MS = 1000;

export type CompletionMode = 'withEvents' | 'withoutEvents';

export interface CompletionSample {
  readonly mode: CompletionMode;
  readonly nodeName: string;
  readonly status: WorkflowResult['status'];
  /** from the end of the host script (its invocation's end, as the sandbox recorded it) … */
  readonly scriptEndedAt: string | null;
  /** … to the check entered after it: the wait let go */
  readonly toCheckMs: number | null;
  /** … to the first state after the host-script loop: the workflow moved on */
  readonly toMovedOnMs: number | null;
  /** the waits that ended by timeout, and the checks, over the whole host script */
  readonly waitTimeouts: number;
  readonly checks: number;
}

export interface CompletionBench {
  readonly sandboxStartMs: number;
  readonly capMs: number;
  readonly scaledCapMs: number;
  readonly samples: CompletionSample[];
  readonly summary: Record<CompletionMode, { medianMs: number; maxMs: number; count: number }>;
  readonly error: string | null;
}

/** Onboards each joinable host with events, removes them, and onboards them again with every event dropped. */
export async function benchCompletion(options: { progress?: (text: string) => void } = {}): Promise<CompletionBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bench-completion-'));
  const samples: CompletionSample[] = [];
  let sandboxStartMs = 0;
  let error: string | null = null;
  try {
    const started = performance.now();
    const sandbox = await startSandbox({ dir });
    sandboxStartMs = performance.now() - started;
    try {
      const target = { kind: 'sandbox', dir } as const;
      const environment = await handlerEnvironment(target, defaultLogFile(target));
      const nodes = joinableHosts(sandbox.info).map((host, i) => ({
        nodeName: `edge-${i + 1}`,
        nodeIp: host.ipAddress,
        instanceId: host.instanceId,
      }));
      for (const mode of ['withEvents', 'withoutEvents'] as const) {
        const stopDropping =
          mode === 'withoutEvents'
            ? sandbox.faults.interceptCommandEvents({ action: 'drop', times: Number.POSITIVE_INFINITY })
            : () => undefined;
        try {
          for (const node of nodes) {
            options.progress?.(`bench: completion ${mode}: onboarding ${node.nodeName} …`);
            samples.push(await sample(sandbox, environment, node, mode));
          }
        } finally {
          stopDropping();
        }
        if (mode === 'withEvents') {
          for (const node of nodes) {
            options.progress?.(`bench: completion: removing ${node.nodeName} …`);
            await remove(environment, node.nodeName);
          }
        }
      }
    } finally {
      await sandbox.stop();
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    (['withEvents', 'withoutEvents'] as const).map((mode) => {
      const delays = samples.filter((s) => s.mode === mode).map((s) => s.toCheckMs ?? Number.POSITIVE_INFINITY);
      return [mode, { medianMs: median(delays), maxMs: Math.max(...delays), count: delays.length }];
    }),
  ) as CompletionBench['summary'];
  return { sandboxStartMs, capMs: CAP_MS, scaledCapMs: SCALED_CAP_MS, samples, summary, error };
}

async function sample(
  sandbox: Sandbox,
  environment: Record<string, string>,
  node: { nodeName: string; nodeIp: string; instanceId: string },
  mode: CompletionMode,
): Promise<CompletionSample> {
  const result = await runWorkflow({
    workflow: 'onboard-node',
    input: { ...node, taint: true, labels: {}, dryRun: false },
    waits: 'compressed',
    compressedWaitMs: 100,
    compressedCallbackTimeoutMs: mode === 'withEvents' ? CAP_MS : SCALED_CAP_MS,
    environment,
  });
  const own = result.events.filter((e) => e.workflow === 'onboard-node');
  const entered = (state: string) => own.filter((e) => e.type === 'StateEntered' && e.state === state);
  const sent = own.find((e) => e.type === 'StateExited' && e.state === 'Send the join script to the host');
  const commandId = (sent?.output as { command?: { commandId?: string } } | undefined)?.command?.commandId;
  const endedAt = commandId ? await scriptEnd(sandbox, commandId, node.instanceId) : null;
  const after = (state: string) => {
    const first = endedAt === null ? undefined : entered(state).find((e) => e.timestamp >= endedAt);
    return first && endedAt !== null ? first.timestamp - endedAt : null;
  };
  return {
    mode,
    nodeName: node.nodeName,
    status: result.status,
    scriptEndedAt: endedAt === null ? null : new Date(endedAt).toISOString(),
    toCheckMs: after(CHECK),
    toMovedOnMs: after(AFTER),
    waitTimeouts: own.filter((e) => e.type === 'StateFailed' && e.state === WAIT && e.error?.name === 'States.Timeout')
      .length,
    checks: entered(CHECK).length,
  };
}

/** When the sandbox saw the host script end (GetCommandInvocation's ExecutionEndDateTime, milliseconds). */
async function scriptEnd(sandbox: Sandbox, commandId: string, instanceId: string): Promise<number | null> {
  const ssm = new SSMClient({
    endpoint: sandbox.info.ssm.endpoint,
    region: sandbox.info.ssm.region,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
  try {
    const invocation = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
    );
    return invocation.ExecutionEndDateTime ? Date.parse(invocation.ExecutionEndDateTime) : null;
  } finally {
    ssm.destroy();
  }
}

async function remove(environment: Record<string, string>, nodeName: string): Promise<void> {
  const result = await runWorkflow({
    workflow: 'remove-node',
    input: { mode: 'remove', nodeName, drain: false, force: false },
    waits: 'compressed',
    compressedWaitMs: 100,
    environment,
  });
  if (result.status !== 'SUCCEEDED') throw new Error(`removing ${nodeName}: ${result.error?.message ?? result.status}`);
}

export function completionBudgets(bench: CompletionBench): Budget[] {
  const failed = bench.error !== null || bench.samples.some((s) => s.status !== 'SUCCEEDED');
  const worst = (mode: CompletionMode) => (failed ? Number.NaN : bench.summary[mode].maxMs);
  return [
    atMost(
      'completion.withEvents',
      'host script end → workflow moves on, with events (slowest sample)',
      worst('withEvents'),
      WITH_EVENTS_BUDGET_MS,
      'ms',
      `${bench.summary.withEvents.count} onboardings on the sandbox; until the check after the wait is entered`,
    ),
    atMost(
      'completion.withoutEvents',
      'host script end → workflow moves on, events lost (slowest sample)',
      worst('withoutEvents'),
      bench.scaledCapMs,
      'ms',
      `the backoff cap ${bench.capMs / 1000} s scaled by 1/${CAP_SCALE}: the wait's timeout runs scaled too`,
    ),
  ];
}

export function formatCompletionBench(bench: CompletionBench): string {
  const rows = bench.samples.map(
    (s) =>
      `  ${s.mode.padEnd(13)} ${s.nodeName.padEnd(7)} ${s.status.padEnd(9)} to check ${ms(s.toCheckMs)}, moved on ${ms(s.toMovedOnMs)}` +
      `  (${s.waitTimeouts} wait timeout(s), ${s.checks} check(s))`,
  );
  return [
    '',
    `Completion detection (sandbox start ${(bench.sandboxStartMs / 1000).toFixed(1)} s; backoff cap ${bench.capMs / 1000} s, ` +
      `${bench.scaledCapMs / 1000} s without events)`,
    ...rows,
    `  median to the check: with events ${ms(bench.summary.withEvents.medianMs)}, without ${ms(bench.summary.withoutEvents.medianMs)}`,
    ...(bench.error ? [`  error: ${bench.error}`] : []),
    '',
  ].join('\n');
}

export function completionDocSection(bench: CompletionBench): DocSection {
  return {
    heading: 'Completion detection of the host script',
    lines: [
      'From the end of the host script (its invocation end in the sandbox) to the check entered after the wait, and to the first state after the host-script loop. ' +
        `With events the wait keeps its real timeout (${bench.capMs / 1000} s); without events every event is dropped and the timeout is the cap scaled by 1/${CAP_SCALE} (${bench.scaledCapMs / 1000} s). Wait states are compressed.`,
      '',
      '| mode | node | to the check | moved on | wait timeouts | checks |',
      '| - | - | -: | -: | -: | -: |',
      ...bench.samples.map(
        (s) =>
          `| ${s.mode} | ${s.nodeName} | ${ms(s.toCheckMs)} | ${ms(s.toMovedOnMs)} | ${s.waitTimeouts} | ${s.checks} |`,
      ),
    ],
  };
}

function ms(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : `${Math.round(value)} ms`;
}
