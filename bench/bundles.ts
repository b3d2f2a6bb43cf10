import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { STEP_NAMES, STEPS, type StepName } from '../functions/registry';
import { STEP_BUILD_OPTIONS } from '../lib/constructs/step-bundle';
import { atMost, type Budget } from './budget';
import { median } from './stats';

const REPO_ROOT = join(__dirname, '..');

/** One handler's bundle and how long `node -e "require(bundle)"` takes. */
export interface BundleResult {
  readonly name: StepName;
  /** the step talks to Kubernetes (`kubernetes` in its uses): its bundle carries the Kubernetes client */
  readonly kubernetes: boolean;
  readonly bytes: number;
  readonly mapBytes: number;
  /** the three npm packages (or `(project)`) contributing most bytes to the bundle */
  readonly packages: readonly { readonly name: string; readonly bytes: number }[];
  /** median wall time of `node -e "require('<bundle>')"`, ms */
  readonly loadMs: number;
  /** the same with `--enable-source-maps`, which the construct sets in NODE_OPTIONS on Lambda; null when not run */
  readonly loadWithSourceMapsMs: number | null;
  /** a failed require: first line of stderr */
  readonly loadError: string | null;
}

export interface BundleBench {
  readonly runs: number;
  /** one esbuild call for all handlers */
  readonly buildMs: number;
  /** runs with --enable-source-maps (0: not measured) */
  readonly mapRuns: number;
  /** median wall time of bare `node -e ''`, ms */
  readonly bareNodeMs: number;
  readonly bundles: readonly BundleResult[];
  /** one successful onboarding from cold: every function it invokes loads once */
  readonly coldOnboarding: ColdOnboarding;
}

export interface ColdOnboarding {
  /** the distinct functions of onboard-node's success path, in the order it first invokes them */
  readonly functions: readonly StepName[];
  /** the sum of their module-init times: each bundle's load time minus bare node's (medians), ms */
  readonly moduleInitMs: number;
}

function timeNode(args: string[], env: NodeJS.ProcessEnv): { ms: number; error: string | null } {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 20_000 });
  const ms = performance.now() - started;
  const error = run.status === 0 ? null : (run.stderr.split('\n').find((line) => line.trim()) ?? `exit ${run.status}`);
  return { ms, error };
}

/**
 * Bundles every handler of functions/registry.ts with the options the StepLambda construct deploys them with
 * (STEP_BUILD_OPTIONS of lib/constructs/step-bundle.ts, its plugin included: the one source of both, so that the
 * bench measures what deploys), into a temp dir, then times `runs` cold loads of each, interleaved with bare
 * `node -e ''` runs so that machine noise spreads evenly. The externals resolve from this repository's node_modules
 * (NODE_PATH), standing in for the SDK the Lambda runtime provides.
 */
export async function benchBundles(options: { runs: number; mapRuns: number }): Promise<BundleBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bundles-'));
  try {
    // One esbuild call with every handler as its own entry point: the same options (STEP_BUILD_OPTIONS, plugin
    // included) as the construct's one call per function, and without code splitting each output is the same
    // self-contained bundle (a few bytes of map comment apart).
    const started = performance.now();
    const result = await build({
      ...STEP_BUILD_OPTIONS,
      entryPoints: Object.fromEntries(STEP_NAMES.map((name) => [name, join(REPO_ROOT, STEPS[name].entry)])),
      outdir: dir,
      metafile: true,
      logLevel: 'silent',
    });
    const buildMs = performance.now() - started;
    const built = STEP_NAMES.map((name) => {
      const file = join(dir, `${name}.js`);
      const output = result.metafile.outputs[relative(REPO_ROOT, file)];
      return {
        name,
        kubernetes: (STEPS[name].uses as readonly string[]).includes('kubernetes'),
        file,
        bytes: statSync(file).size,
        mapBytes: statSync(`${file}.map`).size,
        packages: topPackages(output?.inputs ?? {}),
      };
    });

    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(REPO_ROOT, 'node_modules') };
    delete env.NODE_OPTIONS;
    const bare: number[] = [];
    const loads = new Map(
      built.map((b) => [b.name, { plain: [] as number[], maps: [] as number[], error: null as string | null }]),
    );
    for (let run = 0; run < options.runs; run++) {
      bare.push(timeNode(['-e', ''], env).ms);
      for (const bundle of built) {
        const load = loads.get(bundle.name);
        if (!load) continue;
        const code = `require(${JSON.stringify(bundle.file)})`;
        const plain = timeNode(['-e', code], env);
        load.plain.push(plain.ms);
        load.error ??= plain.error;
        if (run >= options.mapRuns) continue;
        const maps = timeNode(['--enable-source-maps', '-e', code], env);
        load.maps.push(maps.ms);
        load.error ??= maps.error;
      }
    }
    const bareNodeMs = median(bare);
    const results: BundleResult[] = built.map((bundle) => {
      const load = loads.get(bundle.name);
      return {
        name: bundle.name,
        kubernetes: bundle.kubernetes,
        bytes: bundle.bytes,
        mapBytes: bundle.mapBytes,
        packages: bundle.packages,
        loadMs: median(load?.plain ?? []),
        loadWithSourceMapsMs: load?.maps.length ? median(load.maps) : null,
        loadError: load?.error ?? null,
      };
    });
    return {
      runs: options.runs,
      mapRuns: Math.min(options.mapRuns, options.runs),
      buildMs,
      bareNodeMs,
      bundles: results,
      coldOnboarding: coldOnboarding(results, bareNodeMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes in the output per npm package (scoped names kept whole), largest first, top three. */
function topPackages(inputs: Record<string, { bytesInOutput: number }>): { name: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const at = path.lastIndexOf('node_modules/');
    const parts = at < 0 ? [] : path.slice(at + 'node_modules/'.length).split('/');
    const name = parts.length === 0 ? '(project)' : parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    sums.set(name, (sums.get(name) ?? 0) + bytesInOutput);
  }
  return [...sums]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3);
}

/** The onboarding workflow whose cold start the bench adds up. */
const ONBOARD_ASL = join(REPO_ROOT, 'statemachine', 'onboard-node.asl.json');

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly End?: boolean;
}

/**
 * The distinct functions on the ASL's success path, in the order it first invokes them: the first loop-free path
 * from StartAt to an End state, taking each state's Next and, at a Choice, its Default before its branches. In
 * onboard-node that is an onboarding over SSM (a Choice's Default is its way on: not a dry run, not joined yet;
 * where the Default loops back to poll again, the branch that moves on). Catch edges are never followed, and a
 * path to a Fail state is no success. Throws when there is no such path, so a changed ASL cannot shorten the list.
 */
export function successPathFunctions(asl: {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}): StepName[] {
  const path = (name: string, visited: ReadonlySet<string>): string[] | null => {
    const state = asl.States[name];
    if (!state || visited.has(name) || state.Type === 'Fail') return null;
    if (state.End || state.Type === 'Succeed') return [name];
    const next = state.Type === 'Choice' ? [state.Default, ...(state.Choices ?? []).map((c) => c.Next)] : [state.Next];
    for (const candidate of next) {
      const rest = candidate === undefined ? null : path(candidate, new Set([...visited, name]));
      if (rest) return [name, ...rest];
    }
    return null;
  };
  const states = path(asl.StartAt, new Set());
  if (!states) throw new Error('the ASL has no path from StartAt to an End state');
  const functions: StepName[] = [];
  for (const name of states) {
    const state = asl.States[name];
    if (state?.Type !== 'Task') continue;
    const { Catch: _catch, Retry: _retry, ...task } = state as AslState & { Catch?: unknown; Retry?: unknown };
    for (const [, step] of JSON.stringify(task).matchAll(/\$\{(\w+)FunctionArn\}/g)) {
      const known = STEP_NAMES.find((candidate) => candidate === step);
      if (!known) throw new Error(`state ${name} invokes ${step}, which functions/registry.ts does not list`);
      if (!functions.includes(known)) functions.push(known);
    }
  }
  return functions;
}

function coldOnboarding(results: readonly BundleResult[], bareNodeMs: number): ColdOnboarding {
  const functions = successPathFunctions(JSON.parse(readFileSync(ONBOARD_ASL, 'utf8')));
  const moduleInitMs = functions
    .map((name) => results.find((r) => r.name === name)?.loadMs ?? Number.NaN)
    .reduce((sum, loadMs) => sum + Math.max(0, loadMs - bareNodeMs), 0);
  return { functions, moduleInitMs };
}

/** Issue 14's bundle budgets: size by kind of handler, cold load against bare node, and one cold onboarding. */
export const BUNDLE_LIMITS = {
  kubernetesBytes: 1_200_000,
  otherBytes: 300_000,
  loadRatio: 2.0,
  coldOnboardingMs: 1_500,
} as const;

/** The budgets of this section, each the worst handler of its kind (the note names it and any other that fails). */
export function bundleBudgets(bench: BundleBench): Budget[] {
  const worst = (of: readonly BundleResult[], figure: (b: BundleResult) => number, limit: number) => {
    const sorted = [...of].sort((a, b) => figure(b) - figure(a));
    const failing = sorted.filter((b) => !(figure(b) <= limit)).map((b) => b.name);
    const top = sorted[0];
    const note = top === undefined ? 'no handler' : failing.length > 1 ? `over: ${failing.join(', ')}` : top.name;
    return { value: top === undefined ? Number.NaN : figure(top), note };
  };
  const kube = worst(
    bench.bundles.filter((b) => b.kubernetes),
    (b) => b.bytes,
    BUNDLE_LIMITS.kubernetesBytes,
  );
  const other = worst(
    bench.bundles.filter((b) => !b.kubernetes),
    (b) => b.bytes,
    BUNDLE_LIMITS.otherBytes,
  );
  const load = worst(bench.bundles, (b) => b.loadMs / bench.bareNodeMs, BUNDLE_LIMITS.loadRatio);
  const cold = bench.coldOnboarding;
  return [
    atMost(
      'bundles.kubernetesMaxBytes',
      'largest bundle of a Kubernetes handler',
      kube.value,
      BUNDLE_LIMITS.kubernetesBytes,
      'bytes',
      kube.note,
    ),
    atMost(
      'bundles.otherMaxBytes',
      'largest bundle of any other handler',
      other.value,
      BUNDLE_LIMITS.otherBytes,
      'bytes',
      other.note,
    ),
    atMost(
      'bundles.loadRatioMax',
      `slowest cold module load / bare node (median of ${bench.runs}, interleaved)`,
      load.value,
      BUNDLE_LIMITS.loadRatio,
      '×',
      `${load.note}; bare node ${Math.round(bench.bareNodeMs)} ms`,
    ),
    atMost(
      'bundles.coldOnboardingModuleInitMs',
      `module init summed over the ${cold.functions.length} functions of one cold onboarding`,
      Math.round(cold.moduleInitMs),
      BUNDLE_LIMITS.coldOnboardingMs,
      'ms',
      cold.functions.join(', '),
    ),
  ];
}
