import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildResult, build, type Plugin } from 'esbuild';
import { STEPS } from '../../../functions/registry';
import { kubernetesClientSideEffectFree, STEP_BUILD_OPTIONS } from '../../../lib/constructs/step-bundle';

const REPO = join(__dirname, '..', '..', '..');
const MODELS = 'node_modules/@kubernetes/client-node/dist/gen/models/';
const V1_LEASE = `${MODELS}V1Lease.js`;

/** The files that put bytes into the bundle of a module `contents` (JavaScript at the project root). */
async function bundledFiles(contents: string, plugins: Plugin[]): Promise<string[]> {
  const result = await build({
    ...STEP_BUILD_OPTIONS,
    plugins,
    stdin: { contents, resolveDir: REPO, sourcefile: 'probe.js', loader: 'js' },
    outfile: join(REPO, 'cdk.out', 'step-bundle-test', 'probe.js'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).flatMap(([path, input]) => (input.bytesInOutput > 0 ? [path] : [])),
  );
}

describe('STEP_BUILD_OPTIONS', () => {
  it('are the options ADR 0016 documents, the Kubernetes client plugin included', () => {
    // Assess
    expect(STEP_BUILD_OPTIONS).toEqual({
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
      absWorkingDir: REPO,
    });
  });
});

describe('the Kubernetes client plugin', () => {
  const importLease = `import { V1Lease } from '@kubernetes/client-node/dist/gen/models/V1Lease.js';`;
  const unused = `${importLease}\nexport const probe = 1;`;

  it('leaves out a client-node module none of whose exports is used, which esbuild keeps without it', async () => {
    // Act
    const without = await bundledFiles(unused, []);
    const withPlugin = await bundledFiles(unused, [kubernetesClientSideEffectFree]);

    // Assess
    expect({ without: without.includes(V1_LEASE), withPlugin: withPlugin.includes(V1_LEASE) }).toEqual({
      without: true,
      withPlugin: false,
    });
  }, 60_000);

  it('keeps a client-node module whose export is used', async () => {
    // Prepare
    const used = `${importLease}\nexport const probe = new V1Lease();`;

    // Act
    const files = await bundledFiles(used, [kubernetesClientSideEffectFree]);

    // Assess
    expect(files).toContain(V1_LEASE);
  }, 60_000);
});

describe('a Kubernetes step’s bundle (LockNode), built as it deploys', () => {
  let dir: string;
  let built: Promise<BuildResult<{ metafile: true }>>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-step-bundle-'));
    built = build({
      ...STEP_BUILD_OPTIONS,
      entryPoints: [join(REPO, STEPS.LockNode.entry)],
      outfile: join(dir, 'index.js'),
      metafile: true,
      logLevel: 'silent',
    });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds none of the ~700 generated model classes of the Kubernetes client', async () => {
    // Act
    const { metafile } = await built;
    const models = Object.values(metafile.outputs).flatMap((output) =>
      Object.keys(output.inputs).filter((path) => path.startsWith(MODELS)),
    );

    // Assess
    expect(models).toEqual([]);
  }, 60_000);

  it('loads, with only the AWS SDK from outside it, and exports its handler', async () => {
    // Prepare
    await built;
    const file = join(dir, 'index.js');
    // the externals resolve from the project's node_modules, standing in for the SDK the Lambda runtime provides
    const env = { ...process.env, NODE_PATH: join(REPO, 'node_modules') };

    // Act
    const run = spawnSync(
      process.execPath,
      ['-e', `process.stdout.write(typeof require(${JSON.stringify(file)}).handler)`],
      { env, encoding: 'utf8', timeout: 30_000 },
    );

    // Assess
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 0,
      stdout: 'function',
      stderr: '',
    });
  }, 60_000);
});
