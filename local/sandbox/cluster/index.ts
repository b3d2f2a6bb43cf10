import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultPlan } from '../faults';
import { ControllerManager } from './controllers';
import { writeKubeconfig } from './kubeconfig';
import { CLOUDCORE_USER, EDGEKEEPER_SUBJECT, EDGEKEEPER_USER, grantsFor, RBAC_MANIFEST } from './rbac';
import { ACCESS_LOG_DIR_ENV, AccessLog, type RequestLog } from './request-log';
import { ResourceApi } from './routes/resources';
import { seed, seedObjects } from './seed';
import { ApiServer } from './server';
import { Store } from './store';
import { makeTlsMaterial } from './tls';
import { TokenAuthenticator } from './tokens';
import type { KubeObject } from './types';

export { CLOUDCORE_USER, EDGEKEEPER_USER } from './rbac';
export type { RequestLog } from './request-log';

/** The default fixture: a KubeSphere 3.2 cluster with KubeEdge enabled. */
export const DEFAULT_FIXTURE = join(__dirname, '..', 'fixtures', 'cluster.yaml');

/** A running simulated Kubernetes cluster. */
export interface SandboxCluster {
  /** `https://127.0.0.1:<random port>`. */
  readonly url: string;
  /** `<dir>/kubeconfig`: server, certificate-authority-data, the admin's bearer token; context "sandbox". */
  readonly kubeconfigPath: string;
  /**
   * `<dir>/edgekeeper.kubeconfig`: the token of ServiceAccount kube-system/edgekeeper, held to deploy/rbac.yaml
   * (403 Forbidden for anything it does not grant); context "edgekeeper". What the workflows' steps use.
   */
  readonly edgekeeperKubeconfigPath: string;
  /** `<dir>/cloudcore.kubeconfig`: the cloudcore stand-in's own identity ({@link CLOUDCORE_USER}), context "cloudcore". */
  readonly cloudcoreKubeconfigPath: string;
  /** The requests the edgekeeper identity was allowed, in order. */
  readonly accessLog: AccessLog;
  /** Request counters per verb and resource, e.g. `{ 'list pods': 3, 'patch daemonsets': 2 }`. */
  readonly requestLog: RequestLog;
  /** Adds objects straight to the store, then runs the controllers once (see `seedObjects`). */
  seedObjects(objects: readonly KubeObject[]): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

/**
 * Starts the simulated cluster: a fresh CA and three tokens (the admin's, the cloudcore stand-in's, and edgekeeper's
 * ServiceAccount bound by `rbacManifest`; the TokenRequest API issues more, bound by the same manifest), the fixture seeded (controllers already run, so DaemonSet and Deployment pods exist), the API
 * server listening on 127.0.0.1, and a kubeconfig per identity written into `dir`. When the environment names an
 * access log directory (ACCESS_LOG_DIR_ENV), the requests allowed to edgekeeper are appended to a file there.
 */
export async function startCluster(options: {
  dir: string;
  fixture?: string;
  faults?: FaultPlan;
  /** @default deploy/rbac.yaml */
  rbacManifest?: string;
  /** the clock the expiry of issued tokens is measured by (tests move it) @default the system clock */
  now?: () => Date;
}): Promise<SandboxCluster> {
  mkdirSync(options.dir, { recursive: true });
  const tls = makeTlsMaterial();
  const token = randomBytes(24).toString('hex');
  const edgekeeperToken = randomBytes(24).toString('hex');
  const cloudcoreToken = randomBytes(24).toString('hex');
  const manifest = readFileSync(options.rbacManifest ?? RBAC_MANIFEST, 'utf8');
  const tokens = new TokenAuthenticator((account) => grantsFor(manifest, account), options.now);
  tokens.add(token, { user: 'admin' });
  tokens.add(edgekeeperToken, { user: EDGEKEEPER_USER, grants: grantsFor(manifest, EDGEKEEPER_SUBJECT) });
  tokens.add(cloudcoreToken, { user: CLOUDCORE_USER });
  const logDir = process.env[ACCESS_LOG_DIR_ENV];
  const accessLog = new AccessLog(logDir ? AccessLog.fileIn(logDir) : undefined);
  const store = new Store();
  const controllers = new ControllerManager(store);
  seed(store, options.fixture ?? DEFAULT_FIXTURE);
  controllers.reconcile();
  const api = new ResourceApi(store, controllers);
  const server = new ApiServer({
    key: tls.serverKey,
    cert: tls.serverCert,
    tokens,
    accessLog,
    store,
    api,
    faults: options.faults,
  });
  const url = await server.listen();
  options.faults?.attachRefuser('kube', (ms) => server.refuseConnections(ms));
  const kubeconfigPath = join(options.dir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, tls.caCert, token);
  const edgekeeperKubeconfigPath = join(options.dir, 'edgekeeper.kubeconfig');
  writeKubeconfig(edgekeeperKubeconfigPath, url, tls.caCert, edgekeeperToken, 'edgekeeper');
  const cloudcoreKubeconfigPath = join(options.dir, 'cloudcore.kubeconfig');
  writeKubeconfig(cloudcoreKubeconfigPath, url, tls.caCert, cloudcoreToken, 'cloudcore');
  return {
    url,
    kubeconfigPath,
    edgekeeperKubeconfigPath,
    cloudcoreKubeconfigPath,
    accessLog,
    requestLog: server.requestLog,
    seedObjects(objects) {
      seedObjects(store, objects);
      controllers.reconcile();
    },
    async stop() {
      api.stop();
      await server.close();
    },
  };
}
