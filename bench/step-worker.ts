/**
 * One step of `functions/registry.ts` in a process of its own: its module loaded, optionally warmed with one
 * invocation (a warm Lambda container: clients built, connection open), then invoked once more with the event that
 * is measured. The bench that forked it owns the sandbox and counts the requests: it hears when the timed invocation
 * is about to start (to reset its counters) and gets the report: how long the module took to load and the handler
 * to answer, the peak RSS and the handler's result. Forked with the handler environment of the sandbox as its own.
 */
import '../local/polyfills';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStepName, STEPS } from '../functions/registry';

export interface StepWorkerPlan {
  readonly step: string;
  readonly event: unknown;
  /** an invocation before the measured one, neither timed nor counted (e.g. a dry run: it changes nothing) */
  readonly warmUp?: unknown;
}

export interface StepWorkerResult {
  readonly step: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error: string | null;
  /** require() of the handler's module */
  readonly loadMs: number;
  /** the measured invocation, from call to answer */
  readonly handlerMs: number;
  /** `process.resourceUsage().maxRSS`, KiB */
  readonly maxRssKiB: number;
  readonly result: unknown;
}

type ToParent = { readonly kind: 'ready' } | { readonly kind: 'done'; readonly report: StepWorkerResult };

/**
 * Forks the worker under tsx with `env`; `beforeTimed` runs in this process right before the measured invocation
 * (after any warm-up), so request counters reset there count that invocation alone.
 */
export function runStepWorker(
  plan: StepWorkerPlan,
  env: NodeJS.ProcessEnv,
  beforeTimed: () => void = () => undefined,
): Promise<StepWorkerResult> {
  const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
  const child = fork(join(__dirname, 'step-worker.ts'), [JSON.stringify(plan)], {
    execArgv: ['--import', tsxLoader],
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString('utf8')}`.slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let report: StepWorkerResult | undefined;
    const timer = setTimeout(() => child.kill(), 300_000);
    child.on('message', (message: ToParent) => {
      if (message.kind === 'ready') {
        beforeTimed();
        child.send('go');
      } else report = message.report;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (report) resolve(report);
      else reject(new Error(`the step worker exited (${signal ?? code}) without reporting:\n${stderr}`));
    });
  });
}

async function main(plan: StepWorkerPlan): Promise<StepWorkerResult> {
  if (!isStepName(plan.step)) throw new Error(`no step ${plan.step} in functions/registry.ts`);
  const loading = performance.now();
  const { handler } = require(join(__dirname, '..', STEPS[plan.step].entry)) as {
    handler: (event: unknown) => Promise<unknown>;
  };
  const loadMs = performance.now() - loading;
  if (plan.warmUp !== undefined) await handler(plan.warmUp).catch(() => undefined);
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    send({ kind: 'ready' });
  });
  const started = performance.now();
  let result: unknown = null;
  let error: string | null = null;
  try {
    result = await handler(plan.event);
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  }
  const handlerMs = performance.now() - started;
  const status = error === null ? 'SUCCEEDED' : 'FAILED';
  return { step: plan.step, status, error, loadMs, handlerMs, maxRssKiB: process.resourceUsage().maxRSS, result };
}

function send(message: ToParent): void {
  if (!process.send) throw new Error('bench/step-worker.ts runs as a child of the bench (IPC channel missing)');
  process.send(message);
}

if (require.main === module) {
  main(JSON.parse(process.argv[2] ?? '{}') as StepWorkerPlan).then(
    (report) => {
      send({ kind: 'done', report });
      process.disconnect?.();
    },
    (error: unknown) => {
      process.stderr.write(`step worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
