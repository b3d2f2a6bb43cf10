import type { BundleBench } from './bundles';
import type { OnboardingBench } from './onboarding';
import type { OnboardingResult } from './protocol';
import { median, percentile, totalOf } from './stats';

const ms = (value: number) =>
  Number.isNaN(value) ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
const pad = (text: string | number, width: number) => String(text).padEnd(width);
const lpad = (text: string | number, width: number) => String(text).padStart(width);

/** Numbers of one wait mode, shared by the text report and `--json`. */
export function summarizeMode(onboardings: readonly OnboardingResult[]) {
  const walls = onboardings.map((o) => o.wallMs);
  const active = onboardings.map((o) => o.wallMs - o.waitMs);
  const stateNames = [...new Set(onboardings.flatMap((o) => o.states.map((s) => s.state)))];
  const states = stateNames.map((state) => {
    const per = onboardings.map((o) => o.states.find((s) => s.state === state));
    return {
      state,
      stateType: per.find((s) => s)?.stateType ?? '',
      visits: median(per.map((s) => s?.visits ?? 0)),
      medianMs: median(per.map((s) => s?.totalMs ?? 0)),
    };
  });
  const keys = [...new Set(onboardings.flatMap((o) => Object.keys(o.requests)))].sort();
  const requests = Object.fromEntries(keys.map((key) => [key, median(onboardings.map((o) => o.requests[key] ?? 0))]));
  return {
    onboardings: onboardings.length,
    failed: onboardings.filter((o) => o.status !== 'SUCCEEDED').length,
    wallMs: { median: median(walls), p95: percentile(walls, 95), each: walls },
    outsideWaitsMs: { median: median(active), p95: percentile(active, 95), each: active },
    states,
    requests,
    requestTotals: onboardings.map((o) => totalOf(o.requests)),
  };
}

type ModeSummary = ReturnType<typeof summarizeMode>;

export interface ReportMeta {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly totalMs: number;
}

/** The human-readable report `npm run bench` prints. */
export function formatReport(
  meta: ReportMeta,
  onboarding: OnboardingBench | null,
  bundles: BundleBench | null,
): string {
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  line(`edgekeeper bench — ${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs, whole run ${ms(meta.totalMs)}`);
  if (onboarding) onboardingSections(onboarding, line);
  if (bundles) bundleSection(bundles, line);
  if (onboarding) memorySection(onboarding, line);
  return `${out.join('\n')}\n`;
}

function onboardingSections(onboarding: OnboardingBench, line: (text?: string) => void): void {
  const all = onboarding.worker.onboardings;
  const c = summarizeMode(all.filter((o) => o.waits === 'compressed'));
  const r = summarizeMode(all.filter((o) => o.waits === 'real'));
  const nodes = all
    .filter((o) => o.round === 0)
    .map((o) => `${o.node.nodeName} = ${o.node.host}`)
    .join(', ');
  line();
  line(`Sandbox: ${onboarding.sandboxMode} isolation, started in ${ms(onboarding.sandboxStartMs)}. Nodes: ${nodes}.`);

  line();
  line('1. Onboarding wall time per node (sequential, one onboarding process for every onboarding)');
  line(`   ${pad('', 40)}${lpad('median', 9)}${lpad('p95', 9)}   each, in order`);
  const row = (label: string, values: { median: number; p95: number; each?: number[] }) =>
    line(
      `   ${pad(label, 40)}${lpad(ms(values.median), 9)}${lpad(ms(values.p95), 9)}   ${(values.each ?? []).map(ms).join(', ')}`,
    );
  row('workflow overhead (compressed waits)', c.wallMs);
  row('  … of it outside Wait states', c.outsideWaitsMs);
  row('real waits (as the ASL says)', r.wallMs);
  row('  … of it outside Wait states', r.outsideWaitsMs);
  line(`   "Workflow overhead" is the compressed-wait round: every Wait state and retry interval lasts`);
  line(
    `   ${onboarding.compressedWaitMs} ms, as \`edgekeeper onboard --sandbox\` runs it; the steps still see real time pass.`,
  );
  line('   The first onboarding of the round also loads the handler modules (cold start).');
  line(`   p95 is nearest-rank: with ${c.onboardings} samples it is the slowest one.`);
  for (const reset of onboarding.worker.resets) {
    line(
      `   Before round ${reset.beforeRound + 1} the hosts were reset over SSM and their Nodes deleted (${ms(reset.ms)}, not counted).`,
    );
  }
  line();
  line('   Time per state (median over onboardings; the visits of a polling state summed):');
  line(`   ${pad('state', 40)}${lpad('visits c/r', 11)}${lpad('compressed', 12)}${lpad('real', 10)}`);
  const stateNames = [...new Set([...c.states, ...r.states].map((s) => s.state))];
  for (const name of stateNames) {
    const cs = c.states.find((s) => s.state === name);
    const rs = r.states.find((s) => s.state === name);
    const type = (cs ?? rs)?.stateType === 'Wait' ? ' (Wait)' : '';
    line(
      `   ${pad(`${name}${type}`, 40)}${lpad(`${cs?.visits ?? 0}/${rs?.visits ?? 0}`, 11)}${lpad(ms(cs?.medianMs ?? Number.NaN), 12)}${lpad(ms(rs?.medianMs ?? Number.NaN), 10)}`,
    );
  }

  line();
  line('2. Kubernetes API requests per onboarding (median). The sandbox counts the workflow and the cloudcore');
  line('   stand-in, which reads the token Secret and writes the Node and its status as real cloudcore would.');
  line(`   ${pad('verb resource', 28)}${lpad('compressed', 11)}${lpad('real', 7)}`);
  const keys = [...new Set([...Object.keys(c.requests), ...Object.keys(r.requests)])].sort();
  for (const key of keys) line(`   ${pad(key, 28)}${lpad(c.requests[key] ?? 0, 11)}${lpad(r.requests[key] ?? 0, 7)}`);
  line(`   ${pad('total', 28)}${lpad(median(c.requestTotals), 11)}${lpad(median(r.requestTotals), 7)}`);
  line(`   each, in order: compressed ${c.requestTotals.join(', ')}; real ${r.requestTotals.join(', ')}`);
  line('   (compressed waits poll the node more often: it needs ~1 s to turn Ready either way)');
  line();
  line('   Step "Keep cloud DaemonSets off edge nodes" alone (counters read just before and after its handler):');
  for (const o of all) {
    const label = pad(`${o.node.nodeName} (${o.waits})`, 24);
    const step = o.daemonSetStep;
    if (!step) {
      line(`   ${label}did not run`);
      continue;
    }
    const total = totalOf(step.requests);
    const detail = Object.entries(step.requests)
      .map(([key, n]) => `${key} ${n}`)
      .join(', ');
    line(
      `   ${label}${lpad(total, 2)} request${total === 1 ? ' ' : 's'} (${detail || 'none'}), ${step.patched} patched, ${step.skipped} left alone, ${ms(step.handlerMs)}`,
    );
  }
  line('   The first onboarding excludes every cloud DaemonSet once; later ones (both rounds) find nothing to patch.');
  line("   KubeSphere's manual script (docs/kubeedge.md §5), per edge node: 17 requests for 3 matching");
  line('   pods with a warm kubectl cache (~20 cold), 8 kubectl processes, and `sleep 1` per pod = 3 s of sleep.');
}

function bundleSection(bundles: BundleBench, line: (text?: string) => void): void {
  const bare = bundles.bareNodeMs;
  line();
  line('3. Lambda bundles (esbuild as CDK runs it: cjs, node22, minify, sourcemap, @aws-sdk/* @smithy/* external)');
  line(`   built in ${ms(bundles.buildMs)} (one esbuild call, every handler its own entry point)`);
  line(
    `   load = median of ${bundles.runs} runs of \`node -e "require('<bundle>')"\`; bare \`node -e ''\` = ${ms(bare)}`,
  );
  const maps = bundles.mapRuns > 0;
  if (maps)
    line(`   +maps = median of ${bundles.mapRuns} runs with --enable-source-maps (set in NODE_OPTIONS on Lambda)`);
  const mapsHeader = maps ? `${lpad('+maps', 9)}${lpad('/bare', 8)}` : '';
  line(
    `   ${pad('handler (K: Kubernetes)', 24)}${lpad('bundle', 10)}${lpad('map', 10)}${lpad('load', 9)}${lpad('/bare', 8)}${mapsHeader}`,
  );
  for (const b of bundles.bundles) {
    line(
      `   ${pad(`${b.name}${b.kubernetes ? ' K' : ''}`, 24)}${lpad(kb(b.bytes), 10)}${lpad(kb(b.mapBytes), 10)}${lpad(ms(b.loadMs), 9)}${lpad(ratio(b.loadMs, bare), 8)}${b.loadWithSourceMapsMs === null ? '' : `${lpad(ms(b.loadWithSourceMapsMs), 9)}${lpad(ratio(b.loadWithSourceMapsMs, bare), 8)}`}${b.loadError ? `  LOAD FAILED: ${b.loadError}` : ''}`,
    );
  }
  const largest = [...bundles.bundles].sort((a, b) => b.bytes - a.bytes)[0];
  if (largest) {
    const parts = largest.packages.map((p) => `${p.name} ${kb(p.bytes)}`).join(', ');
    line(`   Largest, ${largest.name}: ${parts}.`);
  }
  const cold = bundles.coldOnboarding;
  line(
    `   Cold onboarding: module init (load − bare node) summed over its ${cold.functions.length} functions = ${ms(cold.moduleInitMs)}.`,
  );
  line('   Externals load from node_modules (NODE_PATH), standing in for the SDK the runtime provides.');
  line('   Compare ratios, not milliseconds: bare node is slower when the machine is busy.');
}

function memorySection(onboarding: OnboardingBench, line: (text?: string) => void): void {
  const h = onboarding.memory.hostProcesses;
  line();
  line('4. Memory (peak RSS)');
  line(`   onboarding process (runtime, handlers, SDK clients)         ${mib(onboarding.memory.onboardingMaxRssKiB)}`);
  line(`   sandbox process (cluster API, SSM, cloudcore, mirror, bench) ${mib(onboarding.memory.sandboxMaxRssKiB)}`);
  line(`   edge host processes (${h.count}, summed peaks)                   ${mib(h.peakRssKiB)}`);
  if (onboarding.worker.error) line(`\n   ONBOARDING WORKER FAILED: ${onboarding.worker.error}`);
  for (const o of onboarding.worker.onboardings.filter((x) => x.status !== 'SUCCEEDED')) {
    line(`   FAILED ${o.node.nodeName} (${o.waits} waits): ${o.error}`);
  }
}

/** For `--json`: the per-mode summaries next to the raw results. */
export function summaries(onboarding: OnboardingBench): { compressed: ModeSummary; real: ModeSummary } {
  const all = onboarding.worker.onboardings;
  return {
    compressed: summarizeMode(all.filter((o) => o.waits === 'compressed')),
    real: summarizeMode(all.filter((o) => o.waits === 'real')),
  };
}
