/**
 * Stands in for the `whatwg-url` package in the Lambda bundles (STEP_BUILD_OPTIONS in ../step-bundle.ts). node-fetch 2,
 * which @kubernetes/client-node uses, takes Node's own `URL` (`Url.URL || whatwgUrl.URL`) and needs the package
 * only where Node has none, which no Node.js 22 runtime is; bundled, the package and its tr46 tables weigh ~290 KB
 * and cost load time on every cold start.
 */
export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;
