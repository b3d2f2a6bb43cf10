/**
 * The runtime process of the fleet bench: what `edgekeeper onboard --sandbox DIR --batch FILE` does, in a process of
 * its own so that its peak RSS is the runtime's alone (the sandbox runs in the parent, bench/fleet.ts). It runs one
 * batch-onboard with the real handlers and keeps, per child onboard-node execution, only what the overhead needs:
 * its start and end and the intervals it spent in Wait states. Started with the handler environment (the
 * sandbox's settings, the batch concurrency) as its own; the steps' logs go to a file, as the CLI's do.
 */
import '../local/polyfills';
import { LOCAL_LOG_ENV } from '../functions/shared/powertools';
import { runWorkflow, type WorkflowEvent } from '../local/runtime';

/** What the parent asks for (argv[2], JSON). */
export interface FleetWorkerPlan {
  readonly requests: readonly { nodeName: string; nodeIp: string; instanceId: string }[];
  readonly waits: 'real' | 'compressed';
  readonly compressedWaitMs: number;
  readonly executionName: string;
  readonly executionsDir: string;
  readonly logFile: string;
  readonly timeoutMs: number;
}

/** One child onboard-node execution, as its events told it. */
export interface FleetChild {
  readonly execution: string;
  readonly nodeName: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'RUNNING';
  readonly startedAt: number;
  readonly endedAt: number;
  /** [entered, exited] of every Wait state it passed (epoch ms) */
  readonly waits: readonly (readonly [number, number])[];
}

/** The worker's one message to the parent. */
export interface FleetWorkerDone {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly batchWallMs: number;
  readonly totals: Record<string, number> | null;
  /** the batch's result per node that did not join: name, status, error */
  readonly notJoined: readonly { nodeName: string; status: string; error: string | null }[];
  readonly children: readonly FleetChild[];
  /** process.resourceUsage().maxRSS, KiB */
  readonly maxRssKiB: number;
  /** CPU seconds of this process (user + system) */
  readonly cpuSeconds: number;
  readonly error: string | null;
}

interface ChildTrace {
  nodeName: string;
  status: FleetChild['status'];
  startedAt: number;
  endedAt: number;
  waits: [number, number][];
  openWait?: { state: string; at: number };
}

const ENDED: Record<string, FleetChild['status']> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
};

/** Follows the onboard-node children's events; nothing else is kept. */
function tracer() {
  const traces = new Map<string, ChildTrace>();
  const onEvent = (event: WorkflowEvent) => {
    if (event.workflow !== 'onboard-node') return;
    if (event.type === 'ExecutionStarted') {
      const nodeName = String((event.input as { nodeName?: unknown } | undefined)?.nodeName ?? '');
      traces.set(event.execution, {
        nodeName,
        status: 'RUNNING',
        startedAt: event.timestamp,
        endedAt: Number.NaN,
        waits: [],
      });
      return;
    }
    const trace = traces.get(event.execution);
    if (!trace) return;
    const ended = ENDED[event.type];
    if (ended) {
      trace.status = ended;
      trace.endedAt = event.timestamp;
    } else if (event.stateType === 'Wait' && event.state) {
      if (event.type === 'StateEntered') trace.openWait = { state: event.state, at: event.timestamp };
      else if (event.type === 'StateExited' && trace.openWait?.state === event.state) {
        trace.waits.push([trace.openWait.at, event.timestamp]);
        trace.openWait = undefined;
      }
    }
  };
  const children = (): FleetChild[] =>
    [...traces].map(([execution, t]) => ({
      execution,
      nodeName: t.nodeName,
      status: t.status,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      waits: t.waits,
    }));
  return { onEvent, children };
}

interface BatchOutput {
  totals?: Record<string, number>;
  results?: { nodeName: string; status: string; error?: { name: string; message: string } }[];
}

async function main(plan: FleetWorkerPlan): Promise<FleetWorkerDone> {
  const trace = tracer();
  const started = performance.now();
  const usage = () => {
    const cpu = process.cpuUsage();
    return { maxRssKiB: process.resourceUsage().maxRSS, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  };
  try {
    const result = await runWorkflow({
      workflow: 'batch-onboard',
      input: { requests: plan.requests },
      executionName: plan.executionName,
      executionsDir: plan.executionsDir,
      waits: plan.waits,
      compressedWaitMs: plan.compressedWaitMs,
      environment: { [LOCAL_LOG_ENV]: plan.logFile },
      onEvent: trace.onEvent,
    });
    const batchWallMs = performance.now() - started;
    const output = (result.output ?? {}) as BatchOutput;
    return {
      status: result.status,
      batchWallMs,
      totals: output.totals ?? null,
      notJoined: (output.results ?? [])
        .filter((r) => r.status !== 'joined')
        .map((r) => ({
          nodeName: r.nodeName,
          status: r.status,
          error: r.error ? `${r.error.name}: ${r.error.message}` : null,
        })),
      children: trace.children(),
      ...usage(),
      error: result.error ? `${result.error.name}: ${result.error.message}` : null,
    };
  } catch (error) {
    return {
      status: 'FAILED',
      batchWallMs: performance.now() - started,
      totals: null,
      notJoined: [],
      children: trace.children(),
      ...usage(),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}

const plan = JSON.parse(process.argv[2] ?? '{}') as FleetWorkerPlan;
setTimeout(() => {
  process.stderr.write(`bench fleet worker: gave up after ${plan.timeoutMs} ms\n`);
  process.exit(3);
}, plan.timeoutMs).unref();
main(plan).then((done) => {
  if (!process.send) throw new Error('bench/fleet-worker.ts runs as a child of bench/fleet.ts (IPC channel missing)');
  process.send(done, () => process.disconnect());
});
