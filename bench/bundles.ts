import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { STEP_NAMES, STEPS, type StepName } from '../functions/registry';
import { median } from './stats';

const REPO_ROOT = join(__dirname, '..');

/**
 * What `NodejsFunction` passes esbuild for these steps (lib/constructs/step-lambda.ts and aws-cdk-lib's
 * bundling.js): `--bundle --target=node22 --platform=node --format=cjs --minify --sourcemap`,
 * and, for a Node.js 22 runtime with `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` on (cdk.json),
 * `--external:@aws-sdk/* --external:@smithy/*`: the runtime provides the SDK.
 */
export const CDK_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  external: ['@aws-sdk/*', '@smithy/*'],
} as const;

/** One handler's bundle and how long `node -e "require(bundle)"` takes. */
export interface BundleResult {
  readonly name: StepName;
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
}

function timeNode(args: string[], env: NodeJS.ProcessEnv): { ms: number; error: string | null } {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 20_000 });
  const ms = performance.now() - started;
  const error = run.status === 0 ? null : (run.stderr.split('\n').find((line) => line.trim()) ?? `exit ${run.status}`);
  return { ms, error };
}

/**
 * Bundles every handler of functions/registry.ts as CDK would, into a temp dir, then times `runs` cold loads of
 * each, interleaved with bare `node -e ''` runs so that machine noise spreads evenly. The externals resolve from
 * this repository's node_modules (NODE_PATH), standing in for the SDK the Lambda runtime provides.
 */
export async function benchBundles(options: { runs: number; mapRuns: number }): Promise<BundleBench> {
  const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-bundles-'));
  try {
    // One esbuild call with every handler as its own entry point: the same options as CDK's one call per function,
    // and without code splitting each output is the same self-contained bundle (a few bytes of map comment apart).
    const started = performance.now();
    const result = await build({
      ...CDK_ESBUILD_OPTIONS,
      external: [...CDK_ESBUILD_OPTIONS.external],
      entryPoints: Object.fromEntries(STEP_NAMES.map((name) => [name, join(REPO_ROOT, STEPS[name].entry)])),
      outdir: dir,
      absWorkingDir: REPO_ROOT,
      metafile: true,
      logLevel: 'silent',
    });
    const buildMs = performance.now() - started;
    const built = STEP_NAMES.map((name) => {
      const file = join(dir, `${name}.js`);
      const output = result.metafile.outputs[relative(REPO_ROOT, file)];
      return {
        name,
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
    return {
      runs: options.runs,
      mapRuns: Math.min(options.mapRuns, options.runs),
      buildMs,
      bareNodeMs: median(bare),
      bundles: built.map((bundle) => {
        const load = loads.get(bundle.name);
        return {
          name: bundle.name,
          bytes: bundle.bytes,
          mapBytes: bundle.mapBytes,
          packages: bundle.packages,
          loadMs: median(load?.plain ?? []),
          loadWithSourceMapsMs: load?.maps.length ? median(load.maps) : null,
          loadError: load?.error ?? null,
        };
      }),
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
