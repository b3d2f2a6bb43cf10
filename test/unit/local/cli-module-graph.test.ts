import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

const REPO = join(__dirname, '..', '..', '..');

/** What must not load before a command's action asks for it: the local runtime, the sandbox, their packages. */
const LOCAL_MODULE = /^local\/(runtime|api-engine|demo)\.ts$|^local\/(sandbox\/(?!defaults\.ts$)|inventory\/)/;
const LOCAL_PACKAGE = /^(aws-local-stepfunctions|@kubernetes\/client-node|@aws-sdk\/client-ssm)$/;

/**
 * The loads an action makes when it runs: the sources import with `import` statements; the CLI's actions load
 * their modules with `require` (see local/cli/program.ts), as `import()` would.
 */
const LAZY_KINDS: readonly string[] = ['require-call', 'dynamic-import'];

/** Leaves every lazy load out of the bundle, so that the graph is what loads at startup. */
const lazyLoadsExternal: Plugin = {
  name: 'lazy-loads-external',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) =>
      LAZY_KINDS.includes(args.kind) ? { path: args.path, external: true } : undefined,
    );
  },
};

/** The package a specifier loads: `@kubernetes/client-node/dist/config.js` is `@kubernetes/client-node`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** The modules a file loads statically, its packages, and the specifiers it loads lazily. */
async function staticGraph(entry: string): Promise<{ modules: string[]; packages: string[]; lazy: string[] }> {
  const result = await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    splitting: false,
    format: 'esm',
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    absWorkingDir: REPO,
    logLevel: 'silent',
    plugins: [lazyLoadsExternal],
  });
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports);
  const external = (kind: (entry: Metafile['inputs'][string]['imports'][number]) => boolean) => [
    ...new Set(imports.filter((entry) => entry.external && kind(entry)).map((entry) => entry.path)),
  ];
  return {
    modules: Object.keys(result.metafile.inputs),
    packages: [...new Set(external((entry) => !LAZY_KINDS.includes(entry.kind)).map(packageOf))],
    lazy: external((entry) => LAZY_KINDS.includes(entry.kind)),
  };
}

describe('the module graph of the CLI', () => {
  it('loads neither the local runtime nor the sandbox until a local command runs', async () => {
    const graph = await staticGraph('local/cli/program.ts');
    // the graph is real: the wiring loads at startup, the local workflow and the API's client when a command asks
    expect(graph.modules).toEqual(expect.arrayContaining(['local/cli/program.ts', 'local/cli/flags.ts']));
    expect(graph.packages).toContain('commander');
    expect(graph.lazy).toEqual(expect.arrayContaining(['./local-workflow', './serve', '../demo', './api-client']));
    expect(graph.modules.filter((path) => LOCAL_MODULE.test(path))).toEqual([]);
    expect(graph.packages.filter((name) => LOCAL_PACKAGE.test(name))).toEqual([]);
  });

  it('keeps the local runtime and the sandbox out of the API client, which --api-url loads', async () => {
    const graph = await staticGraph('local/cli/api-client.ts');
    expect(graph.packages).toContain('@aws-sdk/credential-provider-node');
    expect(graph.modules.filter((path) => LOCAL_MODULE.test(path))).toEqual([]);
    expect(graph.packages.filter((name) => LOCAL_PACKAGE.test(name))).toEqual([]);
  });

  it('loads none of them when the CLI starts, as bin/edgekeeper.js runs it', () => {
    // what the metafile cannot tell: a `require` outside an action would load at startup
    const script =
      "require('./local/cli/program.ts'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))";
    const loaded = (
      JSON.parse(
        execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: REPO, encoding: 'utf8' }),
      ) as string[]
    ).map((path) => relative(REPO, path));
    expect(loaded).toContain('local/cli/program.ts');
    expect(loaded.filter((path) => LOCAL_MODULE.test(path) || path === 'local/cli/api-client.ts')).toEqual([]);
    expect(
      loaded.filter((path) =>
        /node_modules\/(aws-local-stepfunctions|@kubernetes\/client-node|@aws-sdk\/credential-provider-node)\//.test(
          path,
        ),
      ),
    ).toEqual([]);
  });

  it('sees the runtime and the sandbox where they are loaded', async () => {
    // the same check, on the module that runs a workflow locally, finds what it must: it can fail
    const graph = await staticGraph('local/cli/local-workflow.ts');
    expect(graph.modules).toEqual(expect.arrayContaining(['local/runtime.ts', 'local/sandbox/sandbox.ts']));
    expect(graph.packages).toEqual(expect.arrayContaining(['aws-local-stepfunctions', '@kubernetes/client-node']));
  });

  it('keeps the defaults the help shows free of imports', async () => {
    const graph = await staticGraph('local/sandbox/defaults.ts');
    expect(graph).toEqual({ modules: ['local/sandbox/defaults.ts'], packages: [], lazy: [] });
  });
});
