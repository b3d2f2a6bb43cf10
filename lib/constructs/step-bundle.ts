import { realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BuildOptions, type BuildResult, build, type Plugin } from 'esbuild';

/** The project root: esbuild runs there, so the alias paths below are relative to it. */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** A file of @kubernetes/client-node's build output, on either kind of path separator. */
const KUBERNETES_CLIENT_DIST = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/;

/** Marks the plugin's own `build.resolve` call, so that its onResolve does not answer it again. */
const RESOLVING = Symbol('kubernetes-client-side-effect-free');

/**
 * Tells esbuild that every module of `@kubernetes/client-node` is free of side effects, as a package.json
 * `"sideEffects": false` would (client-node's has no such field), so that a module none of whose exports a step uses
 * is left out of its bundle. KubeConfig (`dist/config.js`) imports two names from `dist/gen/index.js`, which
 * re-exports all ~700 generated model classes; each model's module assigns static properties to its class
 * (`V1Lease.attributeTypeMap = …`), which esbuild must otherwise assume matters, so it keeps every one (~320 KB of each
 * Kubernetes step, ~30 ms of its cold load) although no step uses them once nothing imports ObjectSerializer.
 *
 * True of this package (1.4.0): the top level of each of its modules declares classes, functions and constants, assigns
 * static properties to its own classes, fills its own TypeScript enums and builds constants from pure helpers
 * (`new ServerConfiguration(…)`, mime-type predicates); none registers anything global, patches another module or
 * imports a module for its side effects alone (no `import './x'`). Dropping an unused one therefore changes nothing
 * that runs. An upgrade of the package must keep that true: test/unit/lib/step-bundle.test.ts loads a step's bundle.
 *
 * `--alias` cannot do this (it rewrites bare package paths, never client-node's relative `./gen/index.js`), and the
 * modules the package imports from other packages keep their own answer: only client-node's files are marked.
 */
export const kubernetesClientSideEffectFree: Plugin = {
  name: 'kubernetes-client-side-effect-free',
  setup(pluginBuild) {
    // Inside the package, every import is relative and names its file (ESM output: `./gen/index.js`): resolved here,
    // as Node resolves it, because esbuild's own `build.resolve` rebuilds its directory cache on every call, which
    // for the package's ~2,600 imports made a step's build about ten times slower (evanw/esbuild#3795).
    pluginBuild.onResolve({ filter: /^\.\.?\//, namespace: 'file' }, (args) => {
      if (!KUBERNETES_CLIENT_DIST.test(args.importer)) return undefined;
      const file = resolve(args.resolveDir, args.path);
      // anything but a file of the package resolves, and reports any error, as it would without the plugin
      if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
      const real = realpathSync(file);
      return KUBERNETES_CLIENT_DIST.test(real) ? { path: real, sideEffects: false } : undefined;
    });
    // The project's own imports of the package's modules (`@kubernetes/client-node/dist/config.js`): a few per step.
    pluginBuild.onResolve({ filter: /^@kubernetes\/client-node(?:\/|$)/ }, async (args) => {
      if (args.pluginData === RESOLVING) return undefined;
      const resolved = await pluginBuild.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        namespace: args.namespace,
        resolveDir: args.resolveDir,
        with: args.with,
        pluginData: RESOLVING,
      });
      if (resolved.errors.length > 0 || resolved.external || !KUBERNETES_CLIENT_DIST.test(resolved.path)) {
        return undefined;
      }
      return { path: resolved.path, namespace: resolved.namespace, suffix: resolved.suffix, sideEffects: false };
    });
  },
};

/**
 * How esbuild builds every step: the one source of these options, which the StepLambda construct deploys
 * (lib/constructs/step-code.ts) and `npm run bench` (bench/bundles.ts) measures. ADR 0016 says why each one is there.
 * - CommonJS for Node.js 22, minified, with a source map (`--enable-source-maps` is set in NODE_OPTIONS).
 * - The AWS SDK v3 and its Smithy packages stay out: the Lambda runtime provides them.
 * - `whatwg-url`, which node-fetch 2 (in @kubernetes/client-node) requires but never uses on Node, where `URL` is
 *   built in, becomes a module that hands out Node's own `URL` (bundling-shims/whatwg-url.ts).
 * - `socks-proxy-agent`, which KubeConfig imports for a `socks5://` proxy-url, becomes a module that loads it when
 *   an agent is first built (bundling-shims/socks-proxy-agent.ts), not with every cold start.
 * - `semver`, whose index the X-Ray SDK's AWS SDK v2 patcher requires for `gte` alone, becomes a module that hands
 *   out that one function (bundling-shims/semver.ts), without evaluating the rest of the package.
 * - `jsonpath-plus`, which KubeConfig imports for the `azure` and `gcp` auth providers, becomes a module that loads
 *   it when one of them first refreshes a token (bundling-shims/jsonpath-plus.ts).
 * - @kubernetes/client-node's modules are side-effect free ({@link kubernetesClientSideEffectFree}): the ones a step
 *   does not use are left out. A plugin is why the project runs esbuild itself rather than through NodejsFunction,
 *   which runs the esbuild CLI (ADR 0016).
 * The alias paths are relative to the project root, where esbuild runs (`absWorkingDir`).
 */
export const STEP_BUILD_OPTIONS: Readonly<BuildOptions> = Object.freeze({
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  external: ['@aws-sdk/*', '@smithy/*'],
  alias: {
    'whatwg-url': './lib/constructs/bundling-shims/whatwg-url.ts',
    'socks-proxy-agent': './lib/constructs/bundling-shims/socks-proxy-agent.ts',
    semver: './lib/constructs/bundling-shims/semver.ts',
    'jsonpath-plus': './lib/constructs/bundling-shims/jsonpath-plus.ts',
  },
  plugins: [kubernetesClientSideEffectFree],
  absWorkingDir: PROJECT_ROOT,
});

/** The file Lambda loads, `index.handler` being the handler, with its source map beside it as `index.js.map`. */
export const STEP_BUNDLE_FILE = 'index.js';

/**
 * Bundles one step's entry (relative to the project root) into `outputDir` as {@link STEP_BUNDLE_FILE} and its map.
 * esbuild prints its warnings and errors; a failed build rejects.
 */
export function bundleStep(entry: string, outputDir: string): Promise<BuildResult> {
  return build({
    ...STEP_BUILD_OPTIONS,
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile: join(outputDir, STEP_BUNDLE_FILE),
    logLevel: 'warning',
  });
}
