import { join } from 'node:path';
import { build } from 'esbuild';
import { JSONPath as realJSONPath } from 'jsonpath-plus';
import { gte as realGte } from 'semver';
import { STEP_NAMES, STEPS } from '../../../functions/registry';
import { JSONPath } from '../../../lib/constructs/bundling-shims/jsonpath-plus';
import { gte } from '../../../lib/constructs/bundling-shims/semver';
import { STEP_BUILD_OPTIONS } from '../../../lib/constructs/step-bundle';

const REPO = join(__dirname, '..', '..', '..');

/** One bundling of every step, as the construct bundles them (STEP_BUILD_OPTIONS), shared by the tests. */
let bundling: ReturnType<typeof bundleSteps> | undefined;

function bundleSteps() {
  return build({
    ...STEP_BUILD_OPTIONS,
    entryPoints: STEP_NAMES.map((name) => join(REPO, STEPS[name].entry)),
    outdir: join(REPO, 'cdk.out', 'bundling-shims-test'),
    write: false,
    metafile: true,
    absWorkingDir: REPO,
    logLevel: 'silent',
  });
}

/** Every module of every step's bundle that imports `shim` (STEP_BUILD_OPTIONS' alias sends the package to it). */
async function importersOf(shim: string): Promise<string[]> {
  bundling ??= bundleSteps();
  const result = await bundling;
  const importers = Object.entries(result.metafile.inputs).flatMap(([path, input]) =>
    input.imports.some((entry) => entry.path === `lib/constructs/bundling-shims/${shim}`) ? [path] : [],
  );
  return [...new Set(importers)].sort();
}

describe('the semver shim', () => {
  it('answers gte as semver does', () => {
    // Prepare
    const pairs: [string, string][] = [
      ['22.11.0', '8.0.0'],
      ['2.7.15', '2.7.15'],
      ['2.7.14', '2.7.15'],
      ['3.0.0-beta.1', '3.0.0'],
    ];

    // Act
    const answers = pairs.map(([a, b]) => gte(a, b));

    // Assess
    expect(answers).toEqual(pairs.map(([a, b]) => realGte(a, b)));
  });

  it('is imported, in the step bundles, only by the X-Ray SDK’s AWS SDK v2 patcher, which calls gte alone', async () => {
    // Act
    const importers = await importersOf('semver.ts');

    // Assess
    expect(importers).toEqual(['node_modules/aws-xray-sdk-core/dist/lib/patchers/aws_p.js']);
  }, 60_000);
});

describe('the jsonpath-plus shim', () => {
  it('answers JSONPath({ path, json }) as the real one does, as the auth providers call it', () => {
    // Prepare
    const json = { status: { token: 'secret-token', expiry: '2026-12-02T10:00:00Z' } };

    // Act
    const token = JSONPath({ path: '$.status.token', json });

    // Assess
    expect(token).toEqual(realJSONPath({ path: '$.status.token', json }));
    expect(token).toEqual(['secret-token']);
  });

  it('is imported, in the step bundles, only by the Kubernetes client’s azure and gcp auth providers', async () => {
    // Act
    const importers = await importersOf('jsonpath-plus.ts');

    // Assess
    expect(importers).toEqual([
      'node_modules/@kubernetes/client-node/dist/azure_auth.js',
      'node_modules/@kubernetes/client-node/dist/gcp_auth.js',
    ]);
  }, 60_000);
});
