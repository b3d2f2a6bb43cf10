import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultPlan } from '../faults';
import { ControllerManager } from './controllers';
import { writeKubeconfig } from './kubeconfig';
import type { RequestLog } from './request-log';
import { ResourceApi } from './routes/resources';
import { seed } from './seed';
import { ApiServer } from './server';
import { Store } from './store';
import { makeTlsMaterial } from './tls';

export type { RequestLog } from './request-log';

/** The default fixture: a KubeSphere 3.2 cluster with KubeEdge enabled. */
export const DEFAULT_FIXTURE = join(__dirname, '..', 'fixtures', 'cluster.yaml');

/** A running simulated Kubernetes cluster. */
export interface SandboxCluster {
  /** `https://127.0.0.1:<random port>`. */
  readonly url: string;
  /** `<dir>/kubeconfig`: server, certificate-authority-data, bearer token; context "sandbox". */
  readonly kubeconfigPath: string;
  /** Request counters per verb and resource, e.g. `{ 'list pods': 3, 'patch daemonsets': 2 }`. */
  readonly requestLog: RequestLog;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

/**
 * Starts the simulated cluster: a fresh CA and token, the fixture seeded (controllers already run, so DaemonSet
 * and Deployment pods exist), the API server listening on 127.0.0.1, and a kubeconfig written into `dir`.
 */
export async function startCluster(options: {
  dir: string;
  fixture?: string;
  faults?: FaultPlan;
}): Promise<SandboxCluster> {
  mkdirSync(options.dir, { recursive: true });
  const tls = makeTlsMaterial();
  const token = randomBytes(24).toString('hex');
  const store = new Store();
  const controllers = new ControllerManager(store);
  seed(store, options.fixture ?? DEFAULT_FIXTURE);
  controllers.reconcile();
  const api = new ResourceApi(store, controllers);
  const server = new ApiServer({ key: tls.serverKey, cert: tls.serverCert, token, store, api, faults: options.faults });
  const url = await server.listen();
  options.faults?.attachRefuser('kube', (ms) => server.refuseConnections(ms));
  const kubeconfigPath = join(options.dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, tls.caCert, token);
  return {
    url,
    kubeconfigPath,
    requestLog: server.requestLog,
    async stop() {
      api.stop();
      await server.close();
    },
  };
}
