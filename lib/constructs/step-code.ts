import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PROJECT_ROOT, STEP_BUNDLE_FILE } from './step-bundle';

/** The child process's script: it runs esbuild's asynchronous `build`, the one that takes plugins. */
const BUNDLE_CLI = join(__dirname, 'step-bundle-cli.ts');

/** The Lambda handler of a step's code: the `handler` export of {@link STEP_BUNDLE_FILE}. */
export const STEP_HANDLER = `${STEP_BUNDLE_FILE.replace(/\.js$/, '')}.handler`;

/**
 * A step's code: its entry (relative to the project root) bundled with the shared options of step-bundle.ts, as
 * NodejsFunction staged it: the asset is the bundle alone (index.js and its map), hashed by that output, so a
 * change elsewhere in the project does not redeploy a step whose bundle is the same. When a synthesis skips bundling
 * (`aws:cdk:bundling-stacks` without the stack, as the infra tests do), CDK neither runs this nor reads the project.
 */
export function stepCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // CDK requires an image; it would run only if `tryBundle` returned false, which it never does (it bundles or
      // throws), so no synthesis needs Docker. NodejsFunction names the same placeholder when esbuild is local.
      image: DockerImage.fromRegistry('dummy'),
      local: new StepBundler(entry),
    },
  });
}

/**
 * Bundles a step on this machine. `entry` is a field, not only a closure: CDK keys its staging of an asset on the
 * bundling options as JSON, and two steps must never share a key (they would share a bundle).
 */
export class StepBundler implements ILocalBundling {
  constructor(public readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    bundleStepSync(this.entry, outputDir);
    return true;
  }
}

/**
 * Runs step-bundle-cli.ts in a child node process with tsx's CommonJS hook (CDK's local bundling is synchronous,
 * esbuild's `build` with plugins is not) and waits for it. Throws, with esbuild's messages, when the bundle is not built:
 * a silent fall back to Docker would build without the plugin, if at all.
 */
export function bundleStepSync(entry: string, outputDir: string): void {
  // tsx's CommonJS hook alone (the project's modules are CommonJS): its ESM loader starts a hooks thread, ~0.25 s
  // more per step
  const run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), BUNDLE_CLI, entry, outputDir], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.error) throw new Error(`could not start esbuild for step ${entry}: ${run.error.message}`);
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.status !== 0) {
    const how = run.status === null ? `was killed by ${run.signal}` : `exited with ${run.status}`;
    throw new Error(`esbuild could not bundle step ${entry} (it ${how}):\n${output}`);
  }
  // warnings, as the esbuild CLI that NodejsFunction ran printed them
  if (output) process.stderr.write(`${output}\n`);
  const bundle = join(outputDir, STEP_BUNDLE_FILE);
  if (!existsSync(bundle)) throw new Error(`esbuild reported success for step ${entry} and wrote no ${bundle}`);
}
