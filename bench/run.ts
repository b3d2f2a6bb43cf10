/**
 * `npm run bench`: onboarding wall time and per-step durations on the sandbox, Kubernetes API requests per
 * onboarding and for the DaemonSet step alone, Lambda bundle sizes and cold load times, and peak memory.
 * Speed and memory targets live here, never in tests. `--json` prints one JSON document instead of the report.
 * See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Budget, formatBudgets } from './budget';
import { type BundleBench, benchBundles, bundleBudgets } from './bundles';
import {
  benchCompletion,
  type CompletionBench,
  completionBudgets,
  completionDocSection,
  formatCompletionBench,
} from './completion';
import { benchDemo, type DemoBench, demoBudgets, demoDocSection, formatDemoBench } from './demo';
import { benchDrift, type DriftBench, driftBudgets, formatDriftBench } from './drift';
import { benchFleet, type FleetBench, fleetBudgets, fleetDocSection, fleetTimeoutMs, formatFleetBench } from './fleet';
import {
  benchOnboarding,
  formatOnboardingRequests,
  type OnboardingBench,
  onboardingRequestBudgets,
} from './onboarding';
import { type DocSection, performanceDoc } from './performance-doc';
import { formatReport, summaries } from './report';
import {
  benchSeedScript,
  formatSeedScriptBench,
  type SeedScriptBench,
  seedScriptBudgets,
  seedScriptDocSection,
} from './seed-script';
import {
  benchTransitions,
  formatTransitions,
  type TransitionsBench,
  transitionsBudgets,
  transitionsDocSection,
} from './transitions';

const USAGE = `usage: npm run bench -- [--json] [--nodes 1-3] [--runs N] [--skip-onboarding] [--skip-bundles] [--source-maps] [--drift-nodes N] [--skip-drift] [--skip-seed-script] [--skip-transitions] [--skip-completion] [--demo-runs N] [--skip-demo] [--fleet-nodes N] [--skip-fleet] [--write-doc]`;

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
      'skip-seed-script': { type: 'boolean', default: false },
      'skip-transitions': { type: 'boolean', default: false },
      'skip-completion': { type: 'boolean', default: false },
      'fleet-nodes': { type: 'string', default: '200' },
      'skip-fleet': { type: 'boolean', default: false },
      'demo-runs': { type: 'string', default: '1' },
      'skip-demo': { type: 'boolean', default: false },
      'write-doc': { type: 'boolean', default: false },
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
  const demoRuns = Number(values['demo-runs']);
  if (!Number.isInteger(demoRuns) || demoRuns < 1 || demoRuns > 10)
    throw new UsageError(`--demo-runs: expected 1-10, got ${values['demo-runs']}`);
  const progress = (text: string) => {
    if (!values.json) process.stderr.write(`${text}\n`);
  };

  const fleetNodes = Number(values['fleet-nodes']);
  if (!Number.isInteger(fleetNodes) || fleetNodes < 1 || fleetNodes > 300)
    throw new UsageError(`--fleet-nodes: expected 1-300, got ${values['fleet-nodes']}`);

  const loadBefore = loadavg()[0];
  const started = performance.now();
  let onboarding: OnboardingBench | null = null;
  let bundles: BundleBench | null = null;
  let drift: DriftBench | null = null;
  let seedScript: SeedScriptBench | null = null;
  let transitions: TransitionsBench | null = null;
  let demo: DemoBench | null = null;
  let completion: CompletionBench | null = null;
  let fleet: FleetBench | null = null;
  // every section adds the budgets it checks; one that fails makes the exit code 1
  const budgets: Budget[] = [];
  // and the sections of docs/performance.md beyond the budget table
  const docSections: DocSection[] = [];
  if (!values['skip-demo']) {
    // first, while the bench itself is idle: the budget is for a quiet machine
    progress(`bench: npm run demo, once untimed, then ${demoRuns} timed run(s) …`);
    demo = await benchDemo({ runs: demoRuns });
    budgets.push(...demoBudgets(demo));
    docSections.push(demoDocSection(demo));
  }
  if (!values['skip-bundles']) {
    // next, before the sandbox of the sections below starts (and lingers as it winds down): cold loads of a few
    // dozen milliseconds are timed as ratios to a bare node, which stray work on one of two cores skews
    progress(`bench: bundling the Lambda handlers and timing ${runs} cold loads of each …`);
    bundles = await benchBundles({ runs, mapRuns: values['source-maps'] ? Math.min(3, runs) : 0 });
    budgets.push(...bundleBudgets(bundles));
  }
  if (!values['skip-onboarding']) {
    progress(`bench: starting the sandbox and onboarding ${nodes} node(s) with compressed, then real waits …`);
    onboarding = await benchOnboarding({ nodes, compressedWaitMs: 250, timeoutMs: 90_000 });
    budgets.push(...onboardingRequestBudgets(onboarding));
  }
  if (!values['skip-seed-script']) {
    progress("bench: KubeSphere's DaemonSet script with kubectl, then the DaemonSet step, on the same cluster state …");
    seedScript = await benchSeedScript();
    budgets.push(...seedScriptBudgets(seedScript));
    docSections.push(seedScriptDocSection(seedScript));
  }
  if (!values['skip-drift']) {
    progress(`bench: a drift check on the sandbox, then grown to ${driftNodes} nodes (10% edge) and 300 DaemonSets …`);
    drift = await benchDrift({ scale: { nodes: driftNodes, edgeNodes: Math.round(driftNodes / 10), daemonSets: 300 } });
    budgets.push(...driftBudgets(drift));
  }
  if (!values['skip-transitions']) {
    progress('bench: state transitions per onboarding on a simulated timeline, four ways of waiting …');
    // the onboarding section's real-wait round, when it ran, gives the handlers' own times for the Lambda cost
    transitions = await benchTransitions({ onboarding });
    budgets.push(...transitionsBudgets(transitions));
    docSections.push(transitionsDocSection(transitions));
  }
  if (!values['skip-completion']) {
    progress('bench: host script end → workflow moves on, with SSM events, then with every event dropped …');
    completion = await benchCompletion({ progress });
    budgets.push(...completionBudgets(completion));
    docSections.push(completionDocSection(completion));
  }
  if (!values['skip-fleet']) {
    progress(`bench: one batch-onboard of ${fleetNodes} nodes, 20 at a time, on as many sandbox hosts …`);
    fleet = await benchFleet({
      nodes: fleetNodes,
      waits: 'compressed',
      compressedWaitMs: 250,
      timeoutMs: fleetTimeoutMs(fleetNodes),
    });
    budgets.push(...fleetBudgets(fleet));
    docSections.push(fleetDocSection(fleet));
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    // the ratios are measured side by side in one run; the milliseconds move with the machine's load
    machine: { cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    totalMs: performance.now() - started,
  };
  if (values.json) {
    const document = {
      ...meta,
      onboarding: onboarding && { ...onboarding, summary: summaries(onboarding) },
      bundles,
      drift,
      seedScript,
      transitions,
      transitionsPerOnboarding: transitions?.transitionsPerOnboarding ?? null,
      demo,
      completion,
      fleet,
      budgets,
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    process.stdout.write(formatReport(meta, onboarding, bundles));
    if (onboarding) process.stdout.write(formatOnboardingRequests(onboarding));
    if (seedScript) process.stdout.write(formatSeedScriptBench(seedScript));
    if (drift) process.stdout.write(formatDriftBench(drift));
    if (transitions) process.stdout.write(formatTransitions(transitions));
    if (demo) process.stdout.write(formatDemoBench(demo));
    if (completion) process.stdout.write(formatCompletionBench(completion));
    if (fleet) process.stdout.write(formatFleetBench(fleet));
    process.stdout.write(formatBudgets(budgets));
  }
  const failed =
    onboarding !== null &&
    (onboarding.worker.error !== null || onboarding.worker.onboardings.some((o) => o.status !== 'SUCCEEDED'));
  const loadFailed = bundles?.bundles.some((b) => b.loadError !== null) ?? false;
  const driftFailed = drift !== null && drift.error !== null;
  const seedScriptFailed = seedScript !== null && (seedScript.kubectl.error !== null || seedScript.ours.error !== null);
  const transitionsFailed = transitions !== null && transitions.error !== null;
  const demoFailed = demo?.runs.some((run) => run.exitCode !== 0) ?? false;
  if (values['write-doc']) {
    writeFileSync(join(__dirname, '..', 'docs', 'performance.md'), performanceDoc(meta, budgets, docSections));
    progress('bench: wrote docs/performance.md');
  }
  const budgetFailed = budgets.some((b) => !b.holds);
  return failed || loadFailed || driftFailed || seedScriptFailed || transitionsFailed || demoFailed || budgetFailed
    ? 1
    : 0;
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
