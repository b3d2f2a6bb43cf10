/**
 * Stands in for the `socks-proxy-agent` package in the Lambda bundles (STEP_BUILD_OPTIONS in ../step-bundle.ts).
 * @kubernetes/client-node's KubeConfig imports it for a cluster whose kubeconfig names a `socks5://` proxy-url, which
 * no step's cluster does; evaluated with the bundle, it and its `socks` and `ip-address` dependencies cost a
 * Kubernetes step ~15% of its cold module load. This hands out the real agent, loaded when one is first built.
 */
import type * as Real from 'socks-proxy-agent';

/**
 * The real package by its file: within the bundle, the alias sends every `socks-proxy-agent` import path (subpaths
 * too) back to this shim. esbuild resolves the path from this directory, at bundling time, and bundles the file.
 */
const real = () => require('../../../node_modules/socks-proxy-agent/dist/index.js') as typeof Real;

/** `new SocksProxyAgent(uri, options)`, as KubeConfig calls it, gives the real agent (a constructor's returned object). */
export function SocksProxyAgent(...args: ConstructorParameters<typeof Real.SocksProxyAgent>): Real.SocksProxyAgent {
  return new (real().SocksProxyAgent)(...args);
}
