/**
 * Stands in for the `semver` package in the Lambda bundles (STEP_BUILD_OPTIONS in ../step-bundle.ts). The one bundled
 * module that imports it is aws-xray-sdk-core's AWS SDK v2 patcher (`captureAWS`, which Powertools Tracer never
 * calls: the steps use SDK v3), loaded with the X-Ray SDK's index; it calls `semver.gte` alone, and the package's
 * index would evaluate every function, class and range of semver with it. This hands out `gte` from its own file,
 * loaded on its first call.
 * A bundled module that needs more of semver would find it missing here: an ES import of another name fails the
 * bundling, and test/unit/lib/bundling-shims.test.ts bundles the steps' shared modules to check that only the
 * patcher imports it.
 */
import type * as Real from 'semver';

/**
 * The real function by its file, loaded when first called (never, while the steps use SDK v3): within the bundle, the
 * alias sends every `semver` import path (subpaths too) back to this shim. esbuild resolves the path from this
 * directory, at bundling time, and bundles the file; evaluating it builds semver's ~40 regular expressions.
 */
export function gte(...args: Parameters<typeof Real.gte>): boolean {
  const real: typeof Real.gte = require('../../../node_modules/semver/functions/gte.js');
  return real(...args);
}
