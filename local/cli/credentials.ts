import { readFileSync } from 'node:fs';
import {
  type Cluster,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { dump, loadAll } from 'js-yaml';
import { clusterConfiguration, isConflict, makeClients, statusMessage } from '../../functions/shared/k8s';
import { readSettings, runWithEnvironment, SETTING_SPECS, type Settings } from '../../functions/shared/settings';
import { writeSecureParameter } from '../../functions/shared/ssm';
import { RBAC_MANIFEST } from '../sandbox/cluster/rbac';
import { readSandboxInfo, SandboxInfoError } from '../sandbox/sandbox';
import { EXIT, type Io, shown, UsageError } from './io';
import { handlerEnvironment } from './targets';
import { TOKEN_DURATION } from './token-duration';

export { TOKEN_DURATION } from './token-duration';

/** The field manager this command writes the manifest's objects as. */
const FIELD_MANAGER = 'edgekeeper-credentials';

/** A Go-style duration as kubectl takes one: hours, minutes and seconds, e.g. `720h`, `1h30m`. */
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** The flags of `edgekeeper credentials create`. */
export interface CredentialsFlags {
  readonly local?: boolean;
  readonly sandbox?: string;
  readonly parameter?: string;
  readonly duration?: string;
  readonly print?: boolean;
  readonly json?: boolean;
}

/** The cluster or SSM refused a step of the command; the message says which step and why, never the token. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/**
 * `--duration` in seconds, within {@link TOKEN_DURATION}.
 * @throws UsageError naming the flag, the value and the bound it misses
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (!match || text === '') {
    throw new UsageError(`--duration ${shown(text)} must be a duration such as 720h, 90m or 1h30m (h, m, s)`);
  }
  const [hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  const total = hours * 3600 + minutes * 60 + seconds;
  if (total < TOKEN_DURATION.minSeconds) {
    throw new UsageError(
      `--duration ${shown(text)} is shorter than 10m, the shortest token the Kubernetes TokenRequest API issues`,
    );
  }
  if (total > TOKEN_DURATION.maxSeconds) {
    throw new UsageError(
      `--duration ${shown(text)} is longer than 2160h (90 days), the longest a stored bearer token should live`,
    );
  }
  return total;
}

/** SSM's rule for a parameter path, which the deployed stack's `cluster.kubeconfigParameterName` also follows. */
const PARAMETER_NAME = /^\/(?!aws|ssm)[A-Za-z0-9_.\-/]{1,1010}$/i;

/**
 * `edgekeeper credentials create`: applies deploy/rbac.yaml with the admin's kubeconfig, asks the TokenRequest API
 * for a token of the ServiceAccount it declares, valid for `--duration`, and stores a kubeconfig with that token
 * (the admin kubeconfig's server and CA) as the SSM SecureString the steps read, or prints it with `--print`.
 * What it reports names the parameter, the identity and the expiry, never the token.
 */
export async function createCredentialsCommand(flags: CredentialsFlags, io: Io): Promise<number> {
  const expirationSeconds = parseDuration(flags.duration ?? TOKEN_DURATION.default);
  if (flags.print && flags.json) {
    throw new UsageError('--print and --json exclude each other: with --print, stdout is the kubeconfig');
  }
  if (flags.print && flags.parameter !== undefined) {
    throw new UsageError(`--parameter ${shown(flags.parameter)} has no use with --print, which writes no parameter`);
  }
  if (flags.parameter !== undefined && !PARAMETER_NAME.test(flags.parameter)) {
    throw new UsageError(
      `--parameter ${shown(flags.parameter)} must be an SSM parameter path: "/" then letters, digits and _.-/, ` +
        'not starting with aws or ssm',
    );
  }
  const { admin, environment } = await adminOf(flags, io);
  const env = { ...io.env, ...environment };
  const settings = runWithEnvironment(env, () => readSettings());
  const parameter =
    flags.parameter ?? settings.kubeconfigParameter ?? SETTING_SPECS.kubeconfigParameter.deployedDefault;
  try {
    const issued = await issueKubeconfig(admin, settings, expirationSeconds);
    const expiresAt = issued.expiresAt.toISOString().replace(/\.\d+Z$/, 'Z');
    const capped = issued.expiresAt.getTime() < Date.now() + (expirationSeconds - 60) * 1000;
    const report = {
      identity: issued.identity,
      expiresAt,
      applied: issued.applied,
      ...(capped ? { notice: 'the API server issued a shorter token than asked (its maximum token lifetime)' } : {}),
    };
    if (flags.print) {
      io.stderr(
        `${summary(report, 'Printed it on stdout, not stored.')}\n` +
          `warning: that kubeconfig holds a bearer token: whoever reads it acts as ${issued.identity} until ` +
          `${expiresAt}. Keep it only somewhere secret, e.g. aws ssm put-parameter --type SecureString --overwrite.\n`,
      );
      io.stdout(issued.kubeconfig);
      return EXIT.ok;
    }
    const stored = await runWithEnvironment(env, () =>
      writeSecureParameter(settings, {
        name: parameter,
        value: issued.kubeconfig,
        description:
          `edgekeeper's kubeconfig: ${issued.identity}, token expires ${expiresAt}; ` +
          'renew with `edgekeeper credentials create` before then',
      }),
    ).catch((error: unknown) => {
      throw new CredentialsError(
        `writing SSM parameter ${parameter}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    const result = {
      parameter,
      version: stored.version,
      ...report,
      renew: 'run `edgekeeper credentials create` again before expiresAt',
    };
    io.stdout(
      flags.json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `${summary(report, `Stored it in SSM SecureString ${parameter} (version ${stored.version}).`)}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    io.stderr(`error: ${error.message}\n`);
    return EXIT.workflowFailed;
  }
}

interface Report {
  readonly identity: string;
  readonly expiresAt: string;
  readonly applied: readonly string[];
  readonly notice?: string;
}

/** What the command did, where the kubeconfig went (`destination`), and the reminder to run it again in time. */
function summary(report: Report, destination: string): string {
  return [
    `Applied deploy/rbac.yaml: ${report.applied.join(', ')}.`,
    `Issued a kubeconfig for ${report.identity}; its token expires at ${report.expiresAt}.`,
    destination,
    ...(report.notice ? [`Notice: ${report.notice}.`] : []),
    'Run `edgekeeper credentials create` again before then: once the token has expired, every step fails with ' +
      '401 Unauthorized.',
  ].join('\n');
}

/**
 * The admin's kubeconfig and the environment the SSM call runs in: a sandbox's admin kubeconfig and SSM endpoint,
 * or (`--local`) KUBECONFIG and this shell's AWS configuration, as kubectl and the AWS CLI would take them.
 */
async function adminOf(
  flags: CredentialsFlags,
  io: Io,
): Promise<{ admin: KubeConfig; environment: Record<string, string> }> {
  const admin = new KubeConfig();
  if (flags.sandbox !== undefined) {
    const target = { kind: 'sandbox', dir: flags.sandbox } as const;
    try {
      const info = await readSandboxInfo(flags.sandbox);
      admin.loadFromFile(info.kubeconfig);
      return { admin, environment: await handlerEnvironment(target, 'off') };
    } catch (error) {
      if (!(error instanceof SandboxInfoError)) throw error;
      throw new UsageError(
        `--sandbox ${flags.sandbox}: ${error.message}; start one with: edgekeeper sandbox start --detach --dir ${flags.sandbox}`,
      );
    }
  }
  if (!flags.local) {
    throw new UsageError('choose the cluster: --local (KUBECONFIG is its admin) or --sandbox <dir>');
  }
  try {
    if (io.env.KUBECONFIG) admin.loadFromFile(io.env.KUBECONFIG);
    else admin.loadFromDefault();
  } catch (error) {
    throw new UsageError(
      `--local: the admin kubeconfig (KUBECONFIG ${shown(io.env.KUBECONFIG ?? '~/.kube/config')}) cannot be read: ` +
        (error as Error).message,
    );
  }
  return { admin, environment: {} };
}

/** What {@link issueKubeconfig} made: the kubeconfig (a secret), whose it is, until when, and what it applied. */
interface Issued {
  readonly kubeconfig: string;
  readonly identity: string;
  readonly expiresAt: Date;
  readonly applied: string[];
}

/** Applies the manifest, requests the token and builds the kubeconfig around it. */
async function issueKubeconfig(admin: KubeConfig, settings: Settings, expirationSeconds: number): Promise<Issued> {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new CredentialsError('the admin kubeconfig has no current cluster (current-context)');
  const caData = certificateAuthorityOf(cluster);
  const clients = makeClients(admin, settings.requestTimeoutSeconds);
  // create and patch of any kind (every namespaced object of the manifest names its namespace): the CLI runs
  // locally, where loading client-node's generic object API costs a step nothing
  const generic = new KubernetesObjectApi(clusterConfiguration(admin, settings.requestTimeoutSeconds));
  const objects = manifestObjects();
  const account = serviceAccountOf(objects);
  const applied: string[] = [];
  for (const object of objects) applied.push(`${describeObject(object)} ${await applyObject(generic, object)}`);
  const identity = `system:serviceaccount:${account.namespace}:${account.name}`;
  let answer: Awaited<ReturnType<typeof clients.core.createNamespacedServiceAccountToken>>;
  try {
    answer = await clients.core.createNamespacedServiceAccountToken({
      ...account,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        // no audiences: the API server's own, which it accepts
        spec: { audiences: [], expirationSeconds },
      },
    });
  } catch (error) {
    throw new CredentialsError(`requesting a token for ${identity}: ${statusMessage(error)}`);
  }
  const token = answer.status?.token;
  const expiresAt = answer.status?.expirationTimestamp;
  if (!token || !expiresAt) {
    throw new CredentialsError(`requesting a token for ${identity}: the answer has no status.token or expiry`);
  }
  const kubeconfig = dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: {
          server: cluster.server,
          'certificate-authority-data': caData,
          ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
        },
      },
    ],
    users: [{ name: account.name, user: { token } }],
    contexts: [{ name: account.name, context: { cluster: cluster.name, user: account.name } }],
    'current-context': account.name,
  });
  return { kubeconfig, identity, expiresAt: new Date(expiresAt), applied };
}

/**
 * The cluster's CA as base64 PEM, embedded: the steps run where the admin's CA file is not. A cluster without one
 * (insecure-skip-tls-verify) is refused: the token would go to whoever answers at the server's address.
 */
function certificateAuthorityOf(cluster: Cluster): string {
  if (cluster.caData) return cluster.caData;
  if (cluster.caFile) {
    try {
      return readFileSync(cluster.caFile).toString('base64');
    } catch (error) {
      throw new CredentialsError(
        `the admin kubeconfig's certificate-authority ${cluster.caFile} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  throw new CredentialsError(
    `the admin kubeconfig's cluster ${shown(cluster.name)} has no certificate authority ` +
      '(certificate-authority-data or certificate-authority): edgekeeper must verify the API server it sends its token to',
  );
}

/** The objects of deploy/rbac.yaml, in its order (the ServiceAccount first, then the roles and their bindings). */
function manifestObjects(): KubernetesObject[] {
  return loadAll(readFileSync(RBAC_MANIFEST, 'utf8')).filter(
    (o): o is KubernetesObject => typeof o === 'object' && o !== null,
  );
}

/** The one ServiceAccount the manifest declares: the identity the token is for. */
function serviceAccountOf(objects: readonly KubernetesObject[]): { name: string; namespace: string } {
  const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
  const [account] = accounts;
  if (accounts.length !== 1 || !account?.metadata?.name || !account.metadata.namespace) {
    throw new CredentialsError(
      `deploy/rbac.yaml must declare exactly one ServiceAccount; it declares ${accounts.length}`,
    );
  }
  return { name: account.metadata.name, namespace: account.metadata.namespace };
}

function describeObject(object: KubernetesObject): string {
  const namespace = object.metadata?.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind} ${namespace}${object.metadata?.name}`;
}

/**
 * Creates an object of the manifest, or brings the one that exists to the manifest: a merge patch sets its rules,
 * subjects and labels exactly as written, and keeps what others added beside them (annotations, a ServiceAccount's
 * image pull secrets). Server-side apply would do the same with field ownership; a merge patch needs no more than
 * every API server serves.
 */
async function applyObject(objects: KubernetesObjectApi, object: KubernetesObject): Promise<'created' | 'updated'> {
  try {
    await objects.create(object, undefined, undefined, FIELD_MANAGER);
    return 'created';
  } catch (error) {
    if (!isConflict(error)) throw applyFailure(object, error);
  }
  try {
    await objects.patch(object, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
    return 'updated';
  } catch (error) {
    throw applyFailure(object, error);
  }
}

function applyFailure(object: KubernetesObject, error: unknown): CredentialsError {
  return new CredentialsError(`applying deploy/rbac.yaml: ${describeObject(object)}: ${statusMessage(error)}`);
}
