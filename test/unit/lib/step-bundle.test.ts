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

describe('the steps’ zod (ADR 0016): zod/mini with its English messages', () => {
  /** A Kubernetes step and one that only renders: between them they hold most of the shared schemas. */
  const BUNDLED = ['LockNode', 'RenderHostScript'] as const;
  const CLASSIC = 'zod/v4/classic/';
  let dir: string;
  let built: Promise<Record<(typeof BUNDLED)[number], BuildResult<{ metafile: true }>>>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-step-zod-'));
    built = (async () => {
      const results = await Promise.all(
        BUNDLED.map((step) =>
          build({
            ...STEP_BUILD_OPTIONS,
            entryPoints: [join(REPO, STEPS[step].entry)],
            outfile: join(dir, step, 'index.js'),
            metafile: true,
            logLevel: 'silent',
          }),
        ),
      );
      return Object.fromEntries(BUNDLED.map((step, i) => [step, results[i]])) as Record<
        (typeof BUNDLED)[number],
        BuildResult<{ metafile: true }>
      >;
    })();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles no module of zod classic: one classic import anywhere in a step brings all of it back', async () => {
    // Act
    const results = await built;
    const classic = Object.fromEntries(
      BUNDLED.map((step) => [
        step,
        Object.keys(results[step].metafile.inputs).filter((path) => path.includes(CLASSIC)),
      ]),
    );

    // Assess
    expect(classic).toEqual({ LockNode: [], RenderHostScript: [] });
  }, 120_000);

  it('answers a bad input with zod’s English message, in a process where nothing else configured zod', async () => {
    // Prepare
    await built;
    const file = join(dir, 'RenderHostScript', 'index.js');
    const env = { ...process.env, NODE_PATH: join(REPO, 'node_modules') };
    // JoinSettings' nodeName has no message of its own: the message is the locale's (without one, "Invalid input")
    const settings = {
      nodeName: 5,
      nodeIp: '10.0.0.5',
      profile: 'fork',
      version: 'v1.6.1',
      region: 'zh',
      downloadUrl: 'https://example.com/keadm.tar.gz',
      cloudcore: { address: '203.0.113.10', ports: { cloudhub: 1, quic: 2, https: 3, stream: 4, tunnel: 5 } },
      taint: true,
      labels: {},
    };
    const script = `
      require(${JSON.stringify(file)})
        .handler(${JSON.stringify({ operationId: 'op-1', settings })})
        .then(
          () => console.log('RESULT ' + JSON.stringify('accepted')),
          (error) => console.log('RESULT ' + JSON.stringify(error.message)),
        );`;

    // Act
    const run = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 30_000 });
    // the step's own log lines share the output: the answer is the line marked RESULT
    const line = run.stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));

    // Assess
    expect({ status: run.status, answer: line && JSON.parse(line.slice('RESULT '.length)) }).toEqual({
      status: 0,
      answer: 'settings.nodeName 5 Invalid input: expected string, received number',
    });
  }, 120_000);
});
