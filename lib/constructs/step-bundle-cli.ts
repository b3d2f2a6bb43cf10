/**
 * `node --require tsx/cjs lib/constructs/step-bundle-cli.ts <entry> <outputDir>`: bundles one step as the StepLambda
 * construct deploys it. CDK's local bundling must finish synchronously and esbuild runs plugins only in its
 * asynchronous `build`, so lib/constructs/step-code.ts runs this in a child process and waits for it.
 */
import { bundleStep } from './step-bundle';

const [entry, outputDir] = process.argv.slice(2);
if (!entry || !outputDir) {
  console.error('usage: step-bundle-cli.ts <entry, relative to the project root> <output directory>');
  process.exitCode = 2;
} else {
  bundleStep(entry, outputDir).catch((error: unknown) => {
    // esbuild has printed each build error with its place (its rejection only repeats them); anything else has not
    const buildFailure =
      typeof error === 'object' && error !== null && Array.isArray((error as { errors?: unknown }).errors);
    if (!buildFailure) console.error(error);
    process.exitCode = 1;
  });
}
