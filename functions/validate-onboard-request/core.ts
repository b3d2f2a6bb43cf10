import { EdgekeeperError, InvalidRequestError, KubeEdgeNotInstalledError, type Problem } from '../shared/errors';
import { isSupportedVersion, normalizeVersion, supportedVersions } from '../shared/keadm/profiles';
import { type EdgeWatcherConfig, type JoinMode, joinModeOf, OnboardRequest } from '../shared/schemas';
import { problemsFromIssues } from '../shared/zod-problems';

/** A node as validation sees it: its addresses and what edgekeeper recorded on it. */
export interface ObservedNode {
  readonly name: string;
  readonly internalIps: readonly string[];
  /** annotation `edgekeeper.io/instance-id`: the SSM instance edgekeeper joined it from */
  readonly instanceId?: string;
  /** label `edgekeeper.io/managed=true`: edgekeeper finished it */
  readonly managed?: boolean;
  /** annotation `edgekeeper.io/kubeedge-version`: the KubeEdge version it was joined with */
  readonly kubeedgeVersion?: string;
}

/**
 * What one lock Lease records: the node name, instance and IP an operation locked, and whether its holder still
 * runs. A Lease whose holder died is the only record of a join that crashed before the node was finished.
 */
export interface LockClaim {
  readonly nodeName?: string;
  readonly instanceId?: string;
  readonly nodeIp?: string;
  /** the holder execution's id */
  readonly holder?: string;
  /** the holder has ended (or its status cannot be read and the Lease expired): the Lease binds no one now */
  readonly free: boolean;
}

/** The host as SSM's inventory describes it. */
export interface ObservedHost {
  readonly pingStatus: string;
  readonly platformType: string;
  /** the address the SSM agent reports for the host */
  readonly ipAddress?: string;
}

/** What the handler reads from the cluster and SSM for one request; plain data, so the rules are pure. */
export interface ObservedCluster {
  readonly nodes: readonly ObservedNode[];
  /** ConfigMap `kubeedge/edge-watcher-config` data; null/undefined when absent (then KubeSphere's defaults apply). */
  readonly edgeWatcherConfig?: EdgeWatcherConfig | null;
  readonly kubeedgeNamespacePresent: boolean;
  readonly cloudcoreConfigPresent: boolean;
  readonly tokenSecretPresent: boolean;
  /** SSM `DescribeInstanceInformation` for the instance; null/undefined when it is not registered. */
  readonly ssmInstance?: ObservedHost | null;
  /** every lock Lease edgekeeper holds or left behind */
  readonly claims?: readonly LockClaim[];
}

/** The presence of KubeEdge's objects in the cluster. */
export type KubeEdgeObjects = Pick<
  ObservedCluster,
  'edgeWatcherConfig' | 'kubeedgeNamespacePresent' | 'cloudcoreConfigPresent' | 'tokenSecretPresent'
>;

/** The narrow ports validation reads through; the handler builds them over the Kubernetes API and SSM. */
export interface ValidationPorts {
  listNodes(): Promise<readonly ObservedNode[]>;
  kubeedgeObjects(): Promise<KubeEdgeObjects>;
  /** null when the instance is not registered in SSM */
  describeHost(instanceId: string): Promise<ObservedHost | null>;
  listClaims(): Promise<readonly LockClaim[]>;
}

/** What the workflow does with a valid request. */
export interface OnboardDecision {
  /**
   * the parsed request, labels defaulted to none, its join mode decided, and `instanceId` null for a manual join (the
   * workflow's states read it, and a path to a missing field would fail the execution)
   */
  readonly request: OnboardRequest & {
    readonly labels: Readonly<Record<string, string>>;
    readonly mode: JoinMode;
    readonly instanceId: string | null;
  };
  /**
   * edgekeeper already finished this node from this instance with this IP: the join is skipped, and the labels and
   * taint of the request are applied to the node as it is.
   */
  readonly alreadyJoined: boolean;
  /**
   * the node exists but was never finished (a run crashed after the join), and its Lease or annotation records
   * this instance for this name: the run joins again (the script answers already-joined) and finishes the node.
   */
  readonly adopting: boolean;
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
 * Gathers what the rules need through the ports and validates the request. SSM is asked about the instance only
 * when its id is well formed: asking about a malformed one would only add a second, vaguer error.
 * @param self the id of the execution asking, whose own Leases are no conflict
 * @throws OnboardValidationError
 */
export async function checkOnboardRequest(
  request: unknown,
  ports: ValidationPorts,
  self: { readonly holder?: string } = {},
): Promise<OnboardDecision> {
  const instanceId = validFields(request).instanceId;
  const [nodes, kubeedge, ssmInstance, claims] = await Promise.all([
    ports.listNodes(),
    ports.kubeedgeObjects(),
    instanceId === undefined ? null : ports.describeHost(instanceId),
    ports.listClaims(),
  ]);
  const others = claims.filter((claim) => self.holder === undefined || claim.holder !== self.holder);
  return validateOnboardRequest(request, { nodes, ...kubeedge, ssmInstance, claims: others });
}

/**
 * Validates an onboarding request against the cluster, the lock Leases and the SSM inventory, and decides whether
 * the node is new, already joined, or half-joined and to be adopted.
 *
 * Never harm what you did not create: a host that backs another node (its instance id is on that node, or that
 * node's InternalIP is the address SSM reports for the host) or that another operation locked is refused here,
 * before any lock or host command, naming both nodes. A name that is taken is refused unless edgekeeper's own
 * records (the node's instance annotation, or a Lease for this name) say this name owns this instance.
 *
 * A manual join (no instance: a person runs the join command on the device) has no host to check: the SSM and
 * instance checks are skipped, the name and IP must still be free.
 *
 * Every problem is reported at once, in one error whose `problems` lists them all and whose message joins them.
 * The error's *name* tells the workflow what to do, chosen by the most decisive problem:
 * - `KubeEdgeNotInstalledError` if KubeEdge is missing (fix the cluster; no request can succeed),
 * - else `InvalidRequestError` if the request itself is wrong, conflicts with a node, or the host is not Linux,
 * - else `HostOfflineError` when the only problems are the host not being Online/registered (retry later).
 * @throws OnboardValidationError
 */
export function validateOnboardRequest(request: unknown, observed: ObservedCluster): OnboardDecision {
  const parsed = OnboardRequest.safeParse(request);
  const problems: ClassifiedProblem[] = parsed.success
    ? []
    : problemsFromIssues(parsed.error.issues, request).map((problem) => ({ ...problem, kind: 'request' }));
  const fields: Fields = parsed.success
    ? { ...parsed.data, instanceId: parsed.data.instanceId ?? undefined }
    : validFields(request);
  problems.push(...versionProblems(fields.kubeedgeVersion));
  const own = ownNode(fields, observed);
  problems.push(...ownNodeProblems(fields, own));
  problems.push(...conflictProblems(fields, observed));
  problems.push(...edgeWatcherProblems(observed.edgeWatcherConfig));
  problems.push(...kubeedgeProblems(observed));
  if (fields.instanceId !== undefined) problems.push(...hostProblems(fields.instanceId, observed.ssmInstance));
  if (problems.length > 0 || !parsed.success) throw errorFor(unique(problems));
  const alreadyJoined = own?.managed === true;
  const version = parsed.data.kubeedgeVersion ?? (alreadyJoined ? own?.kubeedgeVersion : undefined);
  return {
    // a rerun that names no version keeps the node's own, so that the settings it resolves match the node
    request: {
      ...parsed.data,
      ...(version ? { kubeedgeVersion: version } : {}),
      labels: parsed.data.labels ?? {},
      mode: joinModeOf(parsed.data),
      instanceId: parsed.data.instanceId ?? null,
    },
    alreadyJoined,
    adopting: own !== undefined && !alreadyJoined,
  };
}

function errorFor(problems: readonly ClassifiedProblem[]): OnboardValidationError {
  const plain = problems.map(({ field, value, reason }) => ({ field, value, reason }));
  if (problems.some((problem) => problem.kind === 'kubeedge')) return new KubeEdgeNotInstalledError(plain);
  if (problems.some((problem) => problem.kind === 'request')) return new InvalidRequestError(plain);
  return new HostOfflineError(plain);
}

/** One execution holds up to three Leases recording the same thing: say each problem once. */
function unique(problems: readonly ClassifiedProblem[]): ClassifiedProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.field}\u0000${String(problem.value)}\u0000${problem.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The request's fields the cluster checks read; `instanceId` undefined for a manual join. */
interface Fields {
  readonly nodeName?: string;
  readonly nodeIp?: string;
  readonly instanceId?: string;
  readonly kubeedgeVersion?: string;
}

/** Fields that passed the schema on their own, so cluster checks still run when another field is wrong. */
function validFields(request: unknown): Fields {
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

/**
 * The existing node of the requested name when edgekeeper's records say this name owns this instance: the node's
 * instance annotation, or a Lease of an earlier run for this name and instance (the only record of a join that
 * crashed before the node was finished). A live holder of that Lease is the lock step's to refuse.
 */
function ownNode(fields: Fields, observed: ObservedCluster): ObservedNode | undefined {
  const node = observed.nodes.find((candidate) => candidate.name === fields.nodeName);
  if (!node || fields.instanceId === undefined) return undefined;
  if (node.instanceId !== undefined) return node.instanceId === fields.instanceId ? node : undefined;
  const claimed = (observed.claims ?? []).some(
    (claim) => claim.nodeName === node.name && claim.instanceId === fields.instanceId,
  );
  return claimed ? node : undefined;
}

/** A rerun converges labels and taint, but cannot move a node to another IP or KubeEdge version. */
function ownNodeProblems(fields: Fields, node: ObservedNode | undefined): ClassifiedProblem[] {
  if (!node) return [];
  const problems: ClassifiedProblem[] = [];
  if (fields.nodeIp !== undefined && node.internalIps.length > 0 && !node.internalIps.includes(fields.nodeIp)) {
    problems.push({
      field: 'nodeIp',
      value: fields.nodeIp,
      reason:
        `differs from ${node.internalIps.join(', ')}, the InternalIP of node ${node.name}: a node cannot change ` +
        'its IP; remove it and onboard it again',
      kind: 'request',
    });
  }
  const requested = fields.kubeedgeVersion;
  if (
    node.managed &&
    requested !== undefined &&
    node.kubeedgeVersion !== undefined &&
    normalizeVersion(requested) !== normalizeVersion(node.kubeedgeVersion)
  ) {
    problems.push({
      field: 'kubeedgeVersion',
      value: requested,
      reason:
        `differs from ${node.kubeedgeVersion}, the version node ${node.name} runs: edgekeeper does not upgrade ` +
        'nodes; remove it and onboard it again',
      kind: 'request',
    });
  }
  return problems;
}

/** Name, IP and instance must not belong to another node, nor be locked for another node by any operation. */
function conflictProblems(fields: Fields, observed: ObservedCluster): ClassifiedProblem[] {
  const { nodeName, nodeIp, instanceId } = fields;
  const problems: ClassifiedProblem[] = [];
  const request = (field: string, value: string, reason: string): ClassifiedProblem => ({
    field,
    value,
    reason,
    kind: 'request',
  });
  const named = observed.nodes.find((node) => node.name === nodeName);
  if (named && nodeName !== undefined && ownNode(fields, observed) === undefined) {
    const on = named.instanceId ? ` on instance ${named.instanceId}` : '';
    problems.push(request('nodeName', nodeName, `is already the name of a node${on}`));
  }
  const hostIp = observed.ssmInstance?.ipAddress;
  for (const node of observed.nodes) {
    if (node.name === nodeName) continue;
    if (nodeIp !== undefined && node.internalIps.includes(nodeIp)) {
      problems.push(request('nodeIp', nodeIp, `is already the InternalIP of node ${node.name}`));
    }
    if (instanceId === undefined) continue;
    const target = nodeName === undefined ? '' : `; it cannot also back node ${nodeName}`;
    if (node.instanceId === instanceId) {
      problems.push(request('instanceId', instanceId, `already backs node ${node.name}${target}`));
    } else if (node.instanceId === undefined && hostIp !== undefined && node.internalIps.includes(hostIp)) {
      // A node that records another instance is elsewhere: edge sites often reuse the same private addresses.
      problems.push(
        request(
          'instanceId',
          instanceId,
          `has address ${hostIp} in SSM, the InternalIP of node ${node.name}: the host already backs node ` +
            `${node.name}${target}`,
        ),
      );
    }
  }
  for (const claim of observed.claims ?? []) {
    if (claim.nodeName === undefined || claim.nodeName === nodeName) continue;
    if (instanceId !== undefined && claim.instanceId === instanceId) {
      problems.push(request('instanceId', instanceId, claimReason(claim)));
    }
    if (nodeIp !== undefined && claim.nodeIp === nodeIp) problems.push(request('nodeIp', nodeIp, claimReason(claim)));
  }
  return problems;
}

/** Why a Lease of another node blocks this request, and what frees it. */
function claimReason(claim: LockClaim): string {
  const holder = `execution ${claim.holder ?? 'unknown'}`;
  return !claim.free
    ? `is locked for node ${claim.nodeName} by ${holder}, which is still running`
    : `was locked for node ${claim.nodeName} by ${holder}, which ended without releasing it: rerun that ` +
        `onboarding, or remove node ${claim.nodeName} (edgekeeper remove --name ${claim.nodeName}) first`;
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
