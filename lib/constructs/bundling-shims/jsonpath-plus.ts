/**
 * Stands in for the `jsonpath-plus` package in the Lambda bundles (STEP_BUILD_OPTIONS in ../step-bundle.ts).
 * @kubernetes/client-node's KubeConfig imports it for the `azure` and `gcp` auth providers, which read a token
 * refreshed by their `cmd-path` out of the command's output; no step's kubeconfig names them (the steps sign in
 * with a token or a certificate, or with EKS). This hands out the real `JSONPath`, loaded when one is first called.
 */
import type * as Real from 'jsonpath-plus';

/**
 * The real package by its file (its CommonJS build, which `require` can load): within the bundle, the alias sends
 * every `jsonpath-plus` import path back to this shim. esbuild resolves the path from this directory, at bundling
 * time, and bundles the file.
 */
const real = () => require('../../../node_modules/jsonpath-plus/dist/index-node-cjs.cjs') as typeof Real;

/** `JSONPath({ path, json })`, as the auth providers call it (without `new`), gives the real one's result. */
export function JSONPath<T = unknown>(options: Real.JSONPathOptions): T {
  return real().JSONPath<T>(options);
}
