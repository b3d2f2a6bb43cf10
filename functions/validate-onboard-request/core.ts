import { EdgekeeperError, InvalidRequestError, KubeEdgeNotInstalledError, type Problem } from '../shared/errors';
import { isSupportedVersion, supportedVersions } from '../shared/keadm/profiles';
import { type EdgeWatcherConfig, OnboardRequest, problemsFromIssues } from '../shared/schemas';

/** What the handler reads from the cluster and SSM for one request; plain data, so the rules are pure. */
export interface ObservedCluster {
  readonly nodes: readonly { readonly name: string; readonly internalIps: readonly string[] }[];
  /** ConfigMap `kubeedge/edge-watcher-config` data; null/undefined when absent (then KubeSphere's defaults apply). */
  readonly edgeWatcherConfig?: EdgeWatcherConfig | null;
  readonly kubeedgeNamespacePresent: boolean;
  readonly cloudcoreConfigPresent: boolean;
  readonly tokenSecretPresent: boolean;
  /** SSM `DescribeInstanceInformation` for the instance; null/undefined when it is not registered. */
  readonly ssmInstance?: { readonly pingStatus: string; readonly platformType: string } | null;
}

/** A problem and the class of error it belongs to (see `validateOnboardRequest`). */
type Kind = 'kubeedge' | 'request' | 'host-offline';
interface ClassifiedProblem extends Problem {
  readonly kind: Kind;
}

/**
 * The host is registered in SSM but not Online, or not registered yet, and that is the only problem: a device that
 * is booting or still activating, so the workflow may retry it with backoff. Transient.
 */
export class HostOfflineError extends EdgekeeperError {
  override readonly name = 'HostOfflineError';
  override readonly transient = true;
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatted).join('; '));
  }
}

/** Any error `validateOnboardRequest` throws; each lists every problem of the request in `problems`. */
export type OnboardValidationError = InvalidRequestError | KubeEdgeNotInstalledError | HostOfflineError;

function formatted(problem: Problem): string {
  return new InvalidRequestError([problem]).message;
}

/**
 * Validates an onboarding request against the cluster and the SSM inventory and returns the parsed request.
 *
 * Every problem is reported at once, in one error whose `problems` lists them all and whose message joins them.
 * The error's *name* tells the workflow what to do, chosen by the most decisive problem:
 * - `KubeEdgeNotInstalledError` if KubeEdge is missing (fix the cluster; no request can succeed),
 * - else `InvalidRequestError` if the request itself is wrong, conflicts with a node, or the host is not Linux,
 * - else `HostOfflineError` when the only problems are the host not being Online/registered (retry later).
 * @throws OnboardValidationError
 */
export function validateOnboardRequest(request: unknown, observed: ObservedCluster): OnboardRequest {
  const parsed = OnboardRequest.safeParse(request);
  const problems: ClassifiedProblem[] = parsed.success
    ? []
    : problemsFromIssues(parsed.error.issues, request).map((problem) => ({ ...problem, kind: 'request' }));
  const fields = parsed.success ? parsed.data : validFields(request);
  problems.push(...versionProblems(fields.kubeedgeVersion));
  problems.push(...conflictProblems(fields, observed));
  problems.push(...edgeWatcherProblems(observed.edgeWatcherConfig));
  problems.push(...kubeedgeProblems(observed));
  if (fields.instanceId !== undefined) problems.push(...hostProblems(fields.instanceId, observed.ssmInstance));
  if (problems.length === 0 && parsed.success) return parsed.data;
  throw errorFor(problems);
}

function errorFor(problems: readonly ClassifiedProblem[]): OnboardValidationError {
  const plain = problems.map(({ field, value, reason }) => ({ field, value, reason }));
  if (problems.some((problem) => problem.kind === 'kubeedge')) return new KubeEdgeNotInstalledError(plain);
  if (problems.some((problem) => problem.kind === 'request')) return new InvalidRequestError(plain);
  return new HostOfflineError(plain);
}

/** Fields that passed the schema on their own, so cluster checks still run when another field is wrong. */
function validFields(
  request: unknown,
): Partial<Pick<OnboardRequest, 'nodeName' | 'nodeIp' | 'instanceId' | 'kubeedgeVersion'>> {
  if (request === null || typeof request !== 'object') return {};
  const shape = OnboardRequest.shape;
  const record = request as Record<string, unknown>;
  const pick = <K extends 'nodeName' | 'nodeIp' | 'instanceId' | 'kubeedgeVersion'>(key: K) => {
    const result = shape[key].safeParse(record[key]);
    return result.success && typeof result.data === 'string' ? result.data : undefined;
  };
  return {
    nodeName: pick('nodeName'),
    nodeIp: pick('nodeIp'),
    instanceId: pick('instanceId'),
    kubeedgeVersion: pick('kubeedgeVersion'),
  };
}

function versionProblems(version: string | undefined): ClassifiedProblem[] {
  if (version === undefined || isSupportedVersion(version)) return [];
  return [
    {
      field: 'kubeedgeVersion',
      value: version,
      reason: `is not supported: expected one of ${supportedVersions().join(', ')}`,
      kind: 'request',
    },
  ];
}

function conflictProblems(
  fields: Partial<Pick<OnboardRequest, 'nodeName' | 'nodeIp'>>,
  observed: ObservedCluster,
): ClassifiedProblem[] {
  const problems: ClassifiedProblem[] = [];
  if (fields.nodeName !== undefined && observed.nodes.some((node) => node.name === fields.nodeName)) {
    problems.push({
      field: 'nodeName',
      value: fields.nodeName,
      reason: 'is already the name of a node',
      kind: 'request',
    });
  }
  const holder = observed.nodes.find((node) => fields.nodeIp !== undefined && node.internalIps.includes(fields.nodeIp));
  if (holder && fields.nodeIp !== undefined) {
    problems.push({
      field: 'nodeIp',
      value: fields.nodeIp,
      reason: `is already the InternalIP of node ${holder.name}`,
      kind: 'request',
    });
  }
  return problems;
}

/** KubeSphere answers 400 for a present but bad edge-watcher-config, so the request cannot go on either. */
function edgeWatcherProblems(config: EdgeWatcherConfig | null | undefined): ClassifiedProblem[] {
  if (!config) return [];
  const problems: ClassifiedProblem[] = [];
  const field = 'configmap kubeedge/edge-watcher-config';
  if (config.region !== 'zh' && config.region !== 'en') {
    problems.push({ field: `${field} region`, value: config.region, reason: 'must be zh or en', kind: 'request' });
  }
  if (!config.version || config.version.trim() === '') {
    problems.push({ field: `${field} version`, value: undefined, reason: 'must not be empty', kind: 'request' });
  } else if (!isSupportedVersion(config.version)) {
    problems.push({
      field: `${field} version`,
      value: config.version,
      reason: `is not supported: expected one of ${supportedVersions().join(', ')}`,
      kind: 'request',
    });
  }
  return problems;
}

function kubeedgeProblems(observed: ObservedCluster): ClassifiedProblem[] {
  const problems: ClassifiedProblem[] = [];
  if (!observed.kubeedgeNamespacePresent || !observed.cloudcoreConfigPresent) {
    const missing = [
      observed.kubeedgeNamespacePresent ? undefined : 'namespace kubeedge',
      observed.cloudcoreConfigPresent ? undefined : 'configmap cloudcore',
    ].filter(Boolean);
    problems.push({
      field: 'KubeEdge',
      value: undefined,
      reason: `is not installed in this cluster (${missing.join(' / ')} missing)`,
      kind: 'kubeedge',
    });
  }
  if (!observed.tokenSecretPresent) {
    problems.push({
      field: 'KubeEdge',
      value: undefined,
      reason: 'has no join token (secret kubeedge/tokensecret missing: is cloudcore running?)',
      kind: 'kubeedge',
    });
  }
  return problems;
}

function hostProblems(instanceId: string, instance: ObservedCluster['ssmInstance']): ClassifiedProblem[] {
  if (!instance) {
    return [{ field: 'instanceId', value: instanceId, reason: 'is not registered in SSM', kind: 'host-offline' }];
  }
  const problems: ClassifiedProblem[] = [];
  if (instance.platformType !== 'Linux') {
    problems.push({
      field: 'instanceId',
      value: instanceId,
      reason: `runs ${instance.platformType}, but edge hosts must run Linux`,
      kind: 'request',
    });
  }
  if (instance.pingStatus !== 'Online') {
    problems.push({
      field: 'instanceId',
      value: instanceId,
      reason: `is ${instance.pingStatus} in SSM, expected Online`,
      kind: 'host-offline',
    });
  }
  return problems;
}
