/**
 * `npm run bench`: onboarding wall time and per-step durations on the sandbox, Kubernetes API requests per
 * onboarding and for the DaemonSet step alone, Lambda bundle sizes and cold load times, and peak memory.
 * Speed and memory targets live here, never in tests. `--json` prints one JSON document instead of the report.
 * See bench/README.md.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { type BundleBench, benchBundles } from './bundles';
import { benchDrift, type DriftBench, formatDriftBench } from './drift';
import { benchOnboarding, type OnboardingBench } from './onboarding';
import { formatReport, summaries } from './report';

const USAGE = `usage: npm run bench -- [--json] [--nodes 1-3] [--runs N] [--skip-onboarding] [--skip-bundles] [--source-maps] [--drift-nodes N] [--skip-drift]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      nodes: { type: 'string', default: '3' },
      runs: { type: 'string', default: '5' },
      'skip-onboarding': { type: 'boolean', default: false },
      'skip-bundles': { type: 'boolean', default: false },
      'source-maps': { type: 'boolean', default: false },
      'drift-nodes': { type: 'string', default: '5000' },
      'skip-drift': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const nodes = Number(values.nodes);
  const runs = Number(values.runs);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 3)
    throw new UsageError(`--nodes: expected 1-3, got ${values.nodes}`);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20)
    throw new UsageError(`--runs: expected 1-20, got ${values.runs}`);
  const driftNodes = Number(values['drift-nodes']);
  if (!Number.isInteger(driftNodes) || driftNodes < 500 || driftNodes > 20000)
    throw new UsageError(`--drift-nodes: expected 500-20000, got ${values['drift-nodes']}`);
  const progress = (text: string) => {
    if (!values.json) process.stderr.write(`${text}\n`);
  };

  const started = performance.now();
  let onboarding: OnboardingBench | null = null;
  let bundles: BundleBench | null = null;
  let drift: DriftBench | null = null;
  if (!values['skip-onboarding']) {
    progress(`bench: starting the sandbox and onboarding ${nodes} node(s) with compressed, then real waits …`);
    onboarding = await benchOnboarding({ nodes, compressedWaitMs: 250, timeoutMs: 90_000 });
  }
  if (!values['skip-bundles']) {
    progress(`bench: bundling the Lambda handlers and timing ${runs} cold loads of each …`);
    bundles = await benchBundles({ runs, mapRuns: values['source-maps'] ? Math.min(3, runs) : 0 });
  }
  if (!values['skip-drift']) {
    progress(`bench: a drift check over 500, then ${driftNodes} seeded edge nodes …`);
    drift = await benchDrift({ sizes: [500, driftNodes] });
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    totalMs: performance.now() - started,
  };
  if (values.json) {
    const document = {
      ...meta,
      onboarding: onboarding && { ...onboarding, summary: summaries(onboarding) },
      bundles,
      drift,
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    process.stdout.write(formatReport(meta, onboarding, bundles));
    if (drift) process.stdout.write(formatDriftBench(drift));
  }
  const failed =
    onboarding !== null &&
    (onboarding.worker.error !== null || onboarding.worker.onboardings.some((o) => o.status !== 'SUCCEEDED'));
  const loadFailed = bundles?.bundles.some((b) => b.loadError !== null) ?? false;
  const driftFailed = drift !== null && drift.error !== null;
  return failed || loadFailed || driftFailed ? 1 : 0;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
