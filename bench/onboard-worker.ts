/**
 * The onboarding process of `npm run bench`: what `edgekeeper onboard --sandbox DIR` does, N times in a row, in a
 * process of its own so that its peak RSS is the onboarding's alone. The parent (bench/onboarding.ts) owns the
 * sandbox and answers request-log reads over IPC. Started by the parent with the handler environment applied.
 */
import '../local/polyfills';
import { Console } from 'node:console';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { STEPS } from '../functions/registry';
import { script as RESET_SCRIPT_TEMPLATE } from '../functions/shared/scripts/generated/reset-edge-node';
import { SETTINGS_ENV } from '../functions/shared/settings';
import { runWorkflow, type StepHandler } from '../local/runtime';
import type {
  CountsReply,
  OnboardingResult,
  PlannedNode,
  ResetResult,
  Round,
  WorkerDone,
  WorkerMessage,
  WorkerPlan,
} from './protocol';
import { diffCounts, stateTimes } from './stats';

const REPO_ROOT = join(__dirname, '..');

let nextId = 0;
const pending = new Map<number, (counts: Record<string, number>) => void>();

function send(message: WorkerMessage): void {
  if (!process.send) throw new Error('bench/onboard-worker.ts runs as a child of bench/run.ts (IPC channel missing)');
  process.send(message);
}

/** Reads the sandbox's request counters (and resets them when asked) in the parent, which owns the sandbox. */
function requestCounts(reset = false): Promise<Record<string, number>> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    send({ kind: 'counts', id, reset });
  });
}

process.on('message', (message: CountsReply) => {
  if (message.kind !== 'counts') return;
  pending.get(message.id)?.(message.counts);
  pending.delete(message.id);
});

interface DaemonSetWindow {
  requests: Record<string, number>;
  handlerMs: number;
  patched: number;
  skipped: number;
}

/**
 * The real KeepDaemonSetsOffEdge handler, loaded on first use as the runtime loads handlers, with the sandbox's
 * counters read just before and just after it: the step's own requests, nothing else in the window.
 */
function countingDaemonSetHandler(window: { current: DaemonSetWindow | null }): StepHandler {
  let real: StepHandler | undefined;
  return async (event) => {
    real ??= (require(join(REPO_ROOT, STEPS.KeepDaemonSetsOffEdge.entry)) as { handler: StepHandler }).handler;
    const before = await requestCounts();
    const started = performance.now();
    let result: { patched?: unknown[]; skipped?: unknown[] } | undefined;
    try {
      result = (await real(event)) as typeof result;
      return result;
    } finally {
      const handlerMs = performance.now() - started;
      const requests = diffCounts(await requestCounts(), before);
      window.current ??= { requests: {}, handlerMs: 0, patched: 0, skipped: 0 };
      // A retried step runs the handler again: every attempt counts.
      for (const [key, n] of Object.entries(requests)) {
        window.current.requests[key] = (window.current.requests[key] ?? 0) + n;
      }
      window.current.handlerMs += handlerMs;
      window.current.patched = result?.patched?.length ?? window.current.patched;
      window.current.skipped = result?.skipped?.length ?? window.current.skipped;
    }
  };
}

async function onboard(round: number, spec: Round, node: PlannedNode, compressedWaitMs: number) {
  const window: { current: DaemonSetWindow | null } = { current: null };
  await requestCounts(true);
  const started = performance.now();
  const result = await runWorkflow({
    workflow: 'onboard-node',
    input: {
      nodeName: node.nodeName,
      nodeIp: node.nodeIp,
      instanceId: node.instanceId,
      taint: true,
      labels: {},
      dryRun: false,
    },
    waits: spec.waits,
    compressedWaitMs,
    handlers: { KeepDaemonSetsOffEdge: countingDaemonSetHandler(window) },
  });
  const wallMs = performance.now() - started;
  const requests = await requestCounts();
  const states = stateTimes(result.events);
  const onboarding: OnboardingResult = {
    round,
    waits: spec.waits,
    node,
    status: result.status,
    error: result.error ? `${result.error.name}: ${result.error.message}` : null,
    wallMs,
    waitMs: states.filter((s) => s.stateType === 'Wait').reduce((sum, s) => sum + s.totalMs, 0),
    states,
    requests,
    daemonSetStep: window.current,
  };
  return onboarding;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Puts hosts back to "never joined": the project's reset script over SSM, then the Node objects deleted. */
async function resetHosts(nodes: readonly PlannedNode[]): Promise<void> {
  const ssm = new SSMClient({ endpoint: process.env[SETTINGS_ENV.ssmEndpoint] });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(process.env[SETTINGS_ENV.kubeconfigPath] ?? '');
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await Promise.all(
    nodes.map(async (node) => {
      const sent = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [node.instanceId],
          Parameters: { commands: [RESET_SCRIPT_TEMPLATE] },
        }),
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        await sleep(100);
        const invocation = await ssm
          .send(new GetCommandInvocationCommand({ CommandId: sent.Command?.CommandId, InstanceId: node.instanceId }))
          .catch(() => ({ Status: 'Pending', StandardErrorContent: '' }));
        if (invocation.Status === 'Success') break;
        if (!['Pending', 'InProgress', 'Delayed'].includes(invocation.Status ?? '') || Date.now() > deadline) {
          throw new Error(
            `resetting ${node.instanceId}: ${invocation.Status}: ${invocation.StandardErrorContent?.slice(-300)}`,
          );
        }
      }
      await core.deleteNode({ name: node.nodeName }).catch((error: { code?: number }) => {
        if (error.code !== 404) throw error;
      });
    }),
  );
  ssm.destroy();
}

async function main(plan: WorkerPlan): Promise<WorkerDone> {
  // Like the CLI: the steps' Powertools logs go to a file, not to the report.
  const log = createWriteStream(plan.logFile, { flags: 'a' });
  globalThis.console = new Console({ stdout: log, stderr: log });
  const onboardings: OnboardingResult[] = [];
  const resets: ResetResult[] = [];
  try {
    for (const [index, round] of plan.rounds.entries()) {
      if (index > 0) {
        const started = performance.now();
        await resetHosts(plan.rounds[index - 1].nodes);
        resets.push({ beforeRound: index, ms: performance.now() - started });
      }
      for (const node of round.nodes) onboardings.push(await onboard(index, round, node, plan.compressedWaitMs));
    }
    return { kind: 'done', onboardings, resets, maxRssKiB: process.resourceUsage().maxRSS, error: null };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { kind: 'done', onboardings, resets, maxRssKiB: process.resourceUsage().maxRSS, error: message };
  } finally {
    log.end();
  }
}

const plan = JSON.parse(process.argv[2] ?? '{}') as WorkerPlan;
setTimeout(() => {
  process.stderr.write(`bench worker: gave up after ${plan.timeoutMs} ms\n`);
  process.exit(3);
}, plan.timeoutMs).unref();
main(plan).then((done) => {
  send(done);
  process.disconnect?.();
});
