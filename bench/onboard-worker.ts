/**
 * The onboarding process of `npm run bench`: what `edgekeeper onboard --sandbox DIR` does, N times in a row, in a
 * process of its own so that its peak RSS is the onboarding's alone. The parent (bench/onboarding.ts) owns the
 * sandbox and answers request-log reads over IPC. Started by the parent with the handler environment as its own
 * environment; like the CLI, it sends the steps' logs to a file through the runs' environment (EDGEKEEPER_LOCAL_LOG).
 */
import '../local/polyfills';
import { join } from 'node:path';
import { STEPS } from '../functions/registry';
import { bashCommands } from '../functions/shared/host-commands';
import { kubeClients } from '../functions/shared/k8s';
import { profileFor } from '../functions/shared/keadm/profiles';
import { LOCAL_LOG_ENV } from '../functions/shared/powertools';
import { renderResetScript } from '../functions/shared/reset-script';
import { script as RESET_SCRIPT_TEMPLATE } from '../functions/shared/scripts/generated/reset-edge-node';
import { readSettings } from '../functions/shared/settings';
import { readInvocation, sendShellCommand } from '../functions/shared/ssm';
import { runWorkflow, type StepHandler } from '../local/runtime';
import { CLOUDCORE_USER, EDGEKEEPER_USER } from '../local/sandbox/cluster/rbac';
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
const pending = new Map<number, (counts: Record<string, Record<string, number>>) => void>();

function send(message: WorkerMessage): void {
  if (!process.send) throw new Error('bench/onboard-worker.ts runs as a child of bench/run.ts (IPC channel missing)');
  process.send(message);
}

/** Reads the sandbox's request counters per client (and resets them when asked) in the parent, which owns the sandbox. */
function requestCounts(reset = false): Promise<Record<string, Record<string, number>>> {
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
    const before = (await requestCounts())[EDGEKEEPER_USER] ?? {};
    const started = performance.now();
    let result: { patched?: unknown[]; skipped?: unknown[] } | undefined;
    try {
      result = (await real(event)) as typeof result;
      return result;
    } finally {
      const handlerMs = performance.now() - started;
      const requests = diffCounts((await requestCounts())[EDGEKEEPER_USER] ?? {}, before);
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

async function onboard(round: number, spec: Round, node: PlannedNode, plan: WorkerPlan) {
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
    compressedWaitMs: plan.compressedWaitMs,
    // the steps' Powertools logs go to a file, not to the report
    environment: { [LOCAL_LOG_ENV]: plan.logFile },
    handlers: { KeepDaemonSetsOffEdge: countingDaemonSetHandler(window) },
  });
  const wallMs = performance.now() - started;
  const byClient = await requestCounts();
  const requests: Record<string, number> = {};
  for (const counts of Object.values(byClient)) {
    for (const [key, n] of Object.entries(counts)) requests[key] = (requests[key] ?? 0) + n;
  }
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
    ownRequests: byClient[EDGEKEEPER_USER] ?? {},
    cloudcoreRequests: byClient[CLOUDCORE_USER] ?? {},
    daemonSetStep: window.current,
  };
  return onboarding;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts hosts back to "never joined": the project's reset script over SSM, rendered for the node each host joined
 * as (the script refuses a host that serves another node), then the Node objects deleted. Through the project's own
 * adapters, with the settings of this process's environment (the sandbox's, from the parent).
 */
async function resetHosts(nodes: readonly PlannedNode[]): Promise<void> {
  const settings = readSettings();
  const { core } = await kubeClients(settings);
  await Promise.all(
    nodes.map(async (node) => {
      const version = settings.defaultKubeedgeVersion;
      const script = renderResetScript(RESET_SCRIPT_TEMPLATE, {
        nodeName: node.nodeName,
        instanceId: node.instanceId,
        profile: profileFor(version),
        version,
        keadmTimeoutSeconds: settings.keadmResetTimeoutSeconds,
      });
      const commandId = await sendShellCommand(settings, {
        instanceId: node.instanceId,
        commands: bashCommands(script),
        comment: `bench: reset ${node.nodeName}`,
      });
      const deadline = Date.now() + 60_000;
      for (;;) {
        await sleep(100);
        // not created yet, or a blip of the sandbox's endpoint: look again until the deadline
        const invocation = await readInvocation(settings, commandId, node.instanceId).catch(() => null);
        const status = invocation?.status ?? 'Pending';
        if (status === 'Success') break;
        if (!['Pending', 'InProgress', 'Delayed'].includes(status) || Date.now() > deadline) {
          throw new Error(`resetting ${node.instanceId}: ${status}: ${invocation?.stderr.slice(-300) ?? ''}`);
        }
      }
      await core.deleteNode({ name: node.nodeName }).catch((error: { code?: number }) => {
        if (error.code !== 404) throw error;
      });
    }),
  );
}

async function main(plan: WorkerPlan): Promise<WorkerDone> {
  const onboardings: OnboardingResult[] = [];
  const resets: ResetResult[] = [];
  try {
    for (const [index, round] of plan.rounds.entries()) {
      if (index > 0) {
        const started = performance.now();
        await resetHosts(plan.rounds[index - 1].nodes);
        resets.push({ beforeRound: index, ms: performance.now() - started });
      }
      for (const node of round.nodes) onboardings.push(await onboard(index, round, node, plan));
    }
    return { kind: 'done', onboardings, resets, maxRssKiB: process.resourceUsage().maxRSS, error: null };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { kind: 'done', onboardings, resets, maxRssKiB: process.resourceUsage().maxRSS, error: message };
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
