import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import { EDGEKEEPER_PREFIX, LOCK_ANNOTATIONS, LOCK_NAMESPACE } from './domain';
import { EdgekeeperError, InvalidRequestError, type Problem } from './errors';

export { LOCK_NAMESPACE };

/*
 * Locks are coordination.k8s.io/v1 Leases, one per thing a workflow changes: the node name, the SSM instance and
 * the node IP (all three or none), plus one cluster-wide Lease for uninstall. The holder is the execution's ARN as
 * Step Functions (or the local runtime) gives it in the context object, never a value from the request: an id that
 * arrives in input can be copied from an error message and replayed. A Lease is free once its holder's execution
 * has ended; its duration only bounds how long a holder whose status cannot be read blocks others.
 */

/** The three things one node operation locks, in the order they are always taken (a fixed order cannot deadlock). */
export type LockKey = 'node' | 'instance' | 'ip';
const KEY_ORDER: readonly LockKey[] = ['node', 'instance', 'ip'];

/** The request field each key comes from: messages name it, as every rejection names its field. */
const KEY_FIELD: Readonly<Record<LockKey, string>> = { node: 'nodeName', instance: 'instanceId', ip: 'nodeIp' };

/** Label on every lock Lease: which kind of key it locks, so that all of them can be listed in one call. */
export const LOCK_KIND_LABEL = `${EDGEKEEPER_PREFIX}lock`;
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'edgekeeper' } as const;
/** Selects every Lease edgekeeper wrote, including node Leases written before keys had kinds. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=edgekeeper';

/**
 * Label on every lock Lease: which execution holds it, as a hash (a label value holds at most 63 characters, an
 * ARN more). Written in the same write that sets the holder, so it always names the Lease's current holder: the
 * release deletes this execution's Leases by it, in one request.
 */
export const HOLDER_LABEL = `${EDGEKEEPER_PREFIX}holder`;
/** Label a hand-over sets: a Lease handed to a rollback child is never deleted by its holder's label alone. */
export const HANDED_OVER_LABEL = `${EDGEKEEPER_PREFIX}handed-over`;

/** The holder label's value: the first 40 hex digits of the holder's SHA-256. */
export function holderLabelValue(holder: string): string {
  return createHash('sha256').update(holder).digest('hex').slice(0, 40);
}

/**
 * The node lock Leases the holder holds itself: written by its own lock step, not handed over. A Lease another
 * execution took over carries that one's hash; one a rollback child adopted keeps its parent's.
 */
export function heldBySelector(holder: string): string {
  return [
    MANAGED_BY_SELECTOR,
    `${LOCK_KIND_LABEL} in (${KEY_ORDER.join(',')})`,
    `${HOLDER_LABEL}=${holderLabelValue(holder)}`,
    `!${HANDED_OVER_LABEL}`,
  ].join(',');
}

/** The cluster-wide Lease an uninstall holds; onboarding refuses while a live execution holds it. */
export const UNINSTALL_LOCK = 'edgekeeper-uninstall';

/** Lease names are DNS-1123 subdomains of at most 253 characters; longer keys keep a readable prefix and a hash. */
function boundedName(prefix: string, value: string): string {
  const name = `${prefix}${value}`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 12);
  return `${name.slice(0, 253 - hash.length - 1).replace(/[-.]+$/, '')}-${hash}`;
}

export function lockName(nodeName: string): string {
  return boundedName('edgekeeper-node-', nodeName);
}

export function instanceLockName(instanceId: string): string {
  return boundedName('edgekeeper-instance-', instanceId);
}

export function ipLockName(nodeIp: string): string {
  return boundedName('edgekeeper-ip-', nodeIp);
}

/** The narrow Kubernetes port the locks need: coordination.k8s.io/v1 Leases in LOCK_NAMESPACE. */
export interface LeasePort {
  readLease(name: string): Promise<V1Lease | null>;
  /** answers 'exists' when a Lease of that name exists */
  createLease(lease: V1Lease): Promise<V1Lease | 'exists'>;
  /** answers 'conflict' when the resourceVersion is stale or the Lease is gone */
  replaceLease(lease: V1Lease): Promise<V1Lease | 'conflict'>;
  deleteLease(name: string, resourceVersion: string): Promise<'deleted' | 'gone' | 'conflict'>;
  /**
   * deletes every Lease in LOCK_NAMESPACE the label selector matches (one deletecollection), answering them;
   * 'forbidden' when the cluster's RBAC does not grant deletecollection yet
   */
  deleteLeases(labelSelector: string): Promise<V1Lease[] | 'forbidden'>;
  /** every Lease edgekeeper wrote in LOCK_NAMESPACE (MANAGED_BY_SELECTOR) */
  listLeases(): Promise<V1Lease[]>;
}

/** What the status of a holder execution says about its Lease: `unknown` falls back to the Lease's expiry. */
export type ExecutionStatus = 'running' | 'ended' | 'unknown';

/** Whether the execution that holds a Lease still runs: Step Functions when deployed, the local registry locally. */
export interface ExecutionStatusPort {
  statusOf(holderId: string): Promise<ExecutionStatus>;
}

/** A node as the uniqueness re-check sees it. */
export interface ClusterNode {
  readonly name: string;
  readonly internalIps: readonly string[];
  /** the `edgekeeper.io/instance-id` annotation, when edgekeeper finished the node */
  readonly instanceId?: string;
}

/** The nodes of the cluster, read under the lock so that a node created since validation is seen. */
export interface NodeDirectoryPort {
  listNodes(): Promise<readonly ClusterNode[]>;
}

export interface LockPorts {
  readonly leases: LeasePort;
  readonly executions: ExecutionStatusPort;
}

/** Another live execution holds what this one needs; the message says what, who, since when and its status. */
export class NodeLockedError extends EdgekeeperError {
  override readonly name = 'NodeLockedError';
}

/** KubeEdge is being uninstalled by a live execution: onboarding waits for it to finish. */
export class ClusterLockedError extends EdgekeeperError {
  override readonly name = 'ClusterLockedError';
}

export interface NodeLockRequest {
  /** the running execution's ARN (`$$.Execution.Id`) */
  readonly holder: string;
  readonly nodeName: string;
  readonly instanceId?: string | null;
  readonly nodeIp?: string | null;
  readonly durationSeconds: number;
  readonly now: Date;
  /** onboarding: refuse while an uninstall runs, and re-check under the lock that name, IP and instance are unused */
  readonly onboarding?: { readonly nodes: NodeDirectoryPort };
}

/** How one key was locked: taken now, already ours (a retried step), or the parent's, adopted by its rollback. */
export type KeyOutcome = 'acquired' | 'held' | 'adopted';

export interface LockOutcome {
  /** `adopted` when any key runs under the parent's lock, else `held` when all were ours already, else `acquired` */
  readonly lock: KeyOutcome;
  readonly keys: readonly {
    readonly key: LockKey;
    readonly value: string;
    readonly lease: string;
    readonly outcome: KeyOutcome;
    /** the Lease's version as this step left it, when it holds it itself: the release deletes it by its labels */
    readonly resourceVersion?: string;
  }[];
}

interface KeyTarget {
  readonly key: LockKey;
  readonly value: string;
  readonly lease: string;
}

function keysOf(request: { nodeName: string; instanceId?: string | null; nodeIp?: string | null }): KeyTarget[] {
  const values: Record<LockKey, string | null | undefined> = {
    node: request.nodeName,
    instance: request.instanceId,
    ip: request.nodeIp,
  };
  const names: Record<LockKey, (value: string) => string> = {
    node: lockName,
    instance: instanceLockName,
    ip: ipLockName,
  };
  return KEY_ORDER.flatMap((key) => {
    const value = values[key];
    return value ? [{ key, value, lease: names[key](value) }] : [];
  });
}

/**
 * Locks the node name, its instance and its IP for the holder, all or none: keys are taken in a fixed order and,
 * when one is refused, the ones taken by this call are released before the error is thrown. Idempotent for the
 * same holder (a retried step renews). A rollback child (`<parent>-rollback`) runs under its parent's Leases while
 * the parent runs, once the parent has handed them to it. Onboarding then checks, under the lock, that no uninstall runs and that no other node has the
 * name, the IP or the instance.
 */
export async function acquireNodeLocks(ports: LockPorts, request: NodeLockRequest): Promise<LockOutcome> {
  const taken: { key: LockKey; value: string; lease: string; outcome: KeyOutcome; resourceVersion?: string }[] = [];
  try {
    for (const target of keysOf(request)) {
      taken.push({ ...target, ...(await acquireKey(ports, request, target)) });
    }
    if (request.onboarding) {
      await refuseWhileUninstalling(ports, request.holder, request.now);
      await recheckUniqueness(request.onboarding.nodes, request);
    }
  } catch (error) {
    await releaseTaken(ports.leases, request.holder, taken);
    throw error;
  }
  const outcomes = taken.map((key) => key.outcome);
  const lock: KeyOutcome = outcomes.includes('adopted')
    ? 'adopted'
    : outcomes.every((outcome) => outcome === 'held')
      ? 'held'
      : 'acquired';
  return { lock, keys: taken };
}

/** How one key was locked, and the Lease's resourceVersion when this execution holds it itself. */
type KeyTaken = { outcome: KeyOutcome; resourceVersion?: string };

function versionOf(lease: V1Lease): { resourceVersion?: string } {
  const resourceVersion = lease.metadata?.resourceVersion;
  return resourceVersion ? { resourceVersion } : {};
}

async function acquireKey(ports: LockPorts, request: NodeLockRequest, target: KeyTarget): Promise<KeyTaken> {
  const wanted = lockLease(target.lease, target.key, request);
  // A Lease deleted between our failed create and our read is simply created again; a few rounds settle any race.
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = await ports.leases.createLease(wanted);
    if (created !== 'exists') return { outcome: 'acquired', ...versionOf(created) };
    const current = await ports.leases.readLease(target.lease);
    if (!current) continue;
    const holder = current.spec?.holderIdentity ?? '';
    if (holder === request.holder) {
      const renewed = await renewOrThrow(ports.leases, current, request, target, recordedFor(current, request));
      return { outcome: 'held', ...versionOf(renewed) };
    }
    const status = holder ? await ports.executions.statusOf(holder) : 'unknown';
    if (isHandedTo(current, request.holder) && status === 'running') {
      // the parent's Lease: no version carried, so that no release of this execution goes by label (it lists)
      await renewOrThrow(ports.leases, current, request, target, current.metadata?.annotations ?? {});
      return { outcome: 'adopted' };
    }
    if (!isFree(current, status, request.now)) {
      throw new NodeLockedError(`${describeKey(target)} is locked by ${describeHolder(current, status)}`);
    }
    const owner = current.metadata?.annotations?.[LOCK_ANNOTATIONS.nodeName];
    if (target.key !== 'node' && owner && owner !== request.nodeName) {
      // The last operation on that node died without releasing: its host may be half-joined, and only a removal
      // of that node (or an explicit unlock) may decide it is safe to give the instance or IP to another name.
      throw new NodeLockedError(
        `${describeKey(target)} was locked for node ${owner} by ${describeHolder(current, status)} and never ` +
          `released; remove node ${owner} (edgekeeper remove --name ${owner}) or break the lock ` +
          `(edgekeeper unlock --name ${owner}) first`,
      );
    }
    const replaced = await ports.leases.replaceLease({
      ...wanted,
      metadata: { ...wanted.metadata, resourceVersion: current.metadata?.resourceVersion },
    });
    if (replaced === 'conflict') {
      throw new NodeLockedError(`${describeKey(target)} was locked by another operation at the same moment`);
    }
    return { outcome: 'acquired', ...versionOf(replaced) };
  }
  throw new NodeLockedError(`${describeKey(target)} kept changing hands while it was being locked`);
}

async function renewOrThrow(
  leases: LeasePort,
  current: V1Lease,
  request: { now: Date; durationSeconds: number },
  target: KeyTarget,
  annotations: Record<string, string>,
): Promise<V1Lease> {
  const renewed = await leases.replaceLease({
    ...current,
    metadata: { ...current.metadata, annotations },
    spec: { ...current.spec, renewTime: request.now, leaseDurationSeconds: request.durationSeconds },
  });
  if (renewed === 'conflict') {
    throw new NodeLockedError(`${describeKey(target)} changed hands while its lock was being renewed`);
  }
  return renewed;
}

/** The annotations of a Lease we hold, completed with what this request knows (an earlier run may have known less). */
function recordedFor(lease: V1Lease, request: NodeLockRequest): Record<string, string> {
  return { ...(lease.metadata?.annotations ?? {}), ...ownershipAnnotations(request) };
}

function ownershipAnnotations(request: {
  nodeName: string;
  instanceId?: string | null;
  nodeIp?: string | null;
}): Record<string, string> {
  return {
    [LOCK_ANNOTATIONS.nodeName]: request.nodeName,
    ...(request.instanceId ? { [LOCK_ANNOTATIONS.instanceId]: request.instanceId } : {}),
    ...(request.nodeIp ? { [LOCK_ANNOTATIONS.nodeIp]: request.nodeIp } : {}),
  };
}

function lockLease(
  name: string,
  kind: LockKey | 'uninstall',
  request: {
    holder: string;
    durationSeconds: number;
    now: Date;
    nodeName?: string;
    instanceId?: string | null;
    nodeIp?: string | null;
  },
): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: LOCK_NAMESPACE,
      labels: { ...MANAGED_BY, [LOCK_KIND_LABEL]: kind, [HOLDER_LABEL]: holderLabelValue(request.holder) },
      annotations: request.nodeName ? ownershipAnnotations({ ...request, nodeName: request.nodeName }) : {},
    },
    spec: {
      holderIdentity: request.holder,
      leaseDurationSeconds: request.durationSeconds,
      acquireTime: request.now,
      renewTime: request.now,
    },
  };
}

async function refuseWhileUninstalling(ports: LockPorts, holder: string, now: Date): Promise<void> {
  const lease = await ports.leases.readLease(UNINSTALL_LOCK);
  const uninstaller = lease?.spec?.holderIdentity;
  if (!lease || !uninstaller || uninstaller === holder) return;
  const status = await ports.executions.statusOf(uninstaller);
  if (!isFree(lease, status, now)) {
    throw new ClusterLockedError(
      `KubeEdge is being uninstalled by ${describeHolder(lease, status)}; no node can be onboarded meanwhile`,
    );
  }
}

/**
 * Validation saw the cluster before the lock; a node created since (by a join that finished meanwhile, or by hand)
 * is only seen now. A node of our own name on our IP is ours (a rerun, or a half-joined node to adopt) unless it
 * records another instance.
 */
async function recheckUniqueness(nodes: NodeDirectoryPort, request: NodeLockRequest): Promise<void> {
  const problems: Problem[] = [];
  for (const node of await nodes.listNodes()) {
    if (node.name === request.nodeName) {
      if (request.nodeIp && !node.internalIps.includes(request.nodeIp)) {
        problems.push({
          field: 'nodeName',
          value: request.nodeName,
          reason: `is already the name of a node with InternalIP ${node.internalIps.join(', ') || 'none'}`,
        });
      } else if (request.instanceId && node.instanceId && node.instanceId !== request.instanceId) {
        problems.push({
          field: 'nodeName',
          value: request.nodeName,
          reason: `is already the name of a node on instance ${node.instanceId}`,
        });
      }
      continue;
    }
    if (request.nodeIp && node.internalIps.includes(request.nodeIp)) {
      problems.push({
        field: 'nodeIp',
        value: request.nodeIp,
        reason: `is already the InternalIP of node ${node.name}`,
      });
    }
    if (request.instanceId && node.instanceId === request.instanceId) {
      problems.push({
        field: 'instanceId',
        value: request.instanceId,
        reason: `already backs node ${node.name}`,
      });
    }
  }
  if (problems.length > 0) throw new InvalidRequestError(problems);
}

async function releaseTaken(
  leases: LeasePort,
  holder: string,
  taken: readonly { lease: string; outcome: KeyOutcome }[],
) {
  for (const { lease, outcome } of [...taken].reverse()) {
    if (outcome !== 'adopted') await deleteIfHeld(leases, lease, holder);
  }
}

async function deleteIfHeld(leases: LeasePort, name: string, holder: string): Promise<boolean> {
  const current = await leases.readLease(name);
  if (!current || current.spec?.holderIdentity !== holder) return false;
  return (await leases.deleteLease(name, current.metadata?.resourceVersion ?? '')) === 'deleted';
}

/**
 * Deletes a Lease held by `holder` at the resourceVersion it was just read with: one request, where reading it again
 * first would be two. When it changed since (the delete's precondition fails), it is read and decided again.
 */
async function deleteAsListed(
  leases: LeasePort,
  name: string,
  holder: string,
  resourceVersion: string | undefined,
): Promise<boolean> {
  if (resourceVersion) {
    const answer = await leases.deleteLease(name, resourceVersion);
    if (answer !== 'conflict') return answer === 'deleted';
  }
  return deleteIfHeld(leases, name, holder);
}

export interface ReleaseOutcome {
  /**
   * `released` when this execution let go of at least one Lease; `kept-for-parent` when a rollback ran under its
   * parent's Leases (the parent releases them); `not-held` otherwise.
   */
  readonly lock: 'released' | 'not-held' | 'kept-for-parent';
  readonly released: readonly string[];
}

/**
 * Releases every Lease the holder holds for the node: the ones named by the request and any other recorded for
 * that node name (a step that knew the instance or IP only later). Leases of other holders are left alone. With
 * `taken`, the lock step's keys of this same request (onboarding), it deletes the holder's own Leases in one
 * request, by their labels, and lists only when that did not delete every key.
 */
export async function releaseNodeLocks(
  leases: LeasePort,
  request: { holder: string; nodeName: string; instanceId?: string | null; nodeIp?: string | null },
  taken?: readonly { readonly lease: string; readonly resourceVersion?: string }[],
): Promise<ReleaseOutcome> {
  const byLabel = taken ? await releaseAsTaken(leases, request, taken) : null;
  if (byLabel?.complete)
    return { lock: byLabel.released.length > 0 ? 'released' : 'not-held', released: byLabel.released };
  const listed = await releaseListed(leases, request);
  const released = [...(byLabel?.released ?? []), ...listed.released];
  return { lock: released.length > 0 ? 'released' : listed.lock, released };
}

/**
 * Deletes the Leases this execution holds itself with one deletecollection selected by heldBySelector: its holder
 * label is written with the holder, so a Lease another execution took over no longer matches, nor one handed to a
 * rollback child, nor one a rollback child adopted (it keeps its parent's label). Skipped when a key carries no
 * version (the lock step did not take it itself); incomplete, and the listing release takes over, when it did not
 * delete every key (a Lease already gone, or written before Leases had a holder label) or was not allowed to.
 */
async function releaseAsTaken(
  leases: LeasePort,
  request: { holder: string; nodeName: string; instanceId?: string | null; nodeIp?: string | null },
  taken: readonly { readonly lease: string; readonly resourceVersion?: string }[],
): Promise<{ complete: boolean; released: string[] }> {
  const versions = new Map(taken.map(({ lease, resourceVersion }) => [lease, resourceVersion]));
  const names = keysOf(request).map((key) => key.lease);
  if (names.some((name) => !versions.get(name))) return { complete: false, released: [] };
  const answer = await leases.deleteLeases(heldBySelector(request.holder));
  if (answer === 'forbidden') return { complete: false, released: [] };
  const deleted = answer.map((lease) => lease.metadata?.name ?? '');
  // the keys in their lock order, then any other Lease of this holder (one recorded for an earlier instance or IP)
  const released = [
    ...names.filter((name) => deleted.includes(name)),
    ...deleted.filter((name) => !names.includes(name)),
  ];
  return { complete: names.every((name) => deleted.includes(name)), released };
}

async function releaseListed(
  leases: LeasePort,
  request: { holder: string; nodeName: string; instanceId?: string | null; nodeIp?: string | null },
): Promise<ReleaseOutcome> {
  const all = await leases.listLeases();
  const names = new Set(keysOf(request).map((key) => key.lease));
  for (const lease of all) {
    if (lease.metadata?.annotations?.[LOCK_ANNOTATIONS.nodeName] === request.nodeName) {
      names.add(lease.metadata?.name ?? '');
    }
  }
  const released: string[] = [];
  let parentHolds = false;
  for (const name of names) {
    const listed = all.find((lease) => lease.metadata?.name === name);
    const current = listed ?? (await leases.readLease(name));
    const holder = current?.spec?.holderIdentity ?? '';
    if (current && isHandedTo(current, request.holder)) parentHolds = true;
    if (holder !== request.holder) continue;
    if (await deleteAsListed(leases, name, request.holder, current?.metadata?.resourceVersion)) released.push(name);
  }
  const lock = released.length > 0 ? 'released' : parentHolds ? 'kept-for-parent' : 'not-held';
  return { lock, released };
}

export interface HandOverOutcome {
  /** `handed-over` when at least one Lease now names the rollback child; `not-held` when the holder held none */
  readonly lock: 'handed-over' | 'not-held';
  readonly child: string;
  readonly leases: readonly string[];
}

/**
 * Marks every Lease the holder holds for the node as handed to its rollback child (`<holder's name>-rollback`),
 * before the holder starts that child. The holder stays the holder (it releases the Leases once the rollback is
 * over); the mark is what lets the child work under them. Without it, any execution named `<live holder>-rollback`,
 * such as one started by hand, could adopt a running join's locks. Idempotent: a retried step marks again.
 */
export async function handOverNodeLocks(
  leases: LeasePort,
  request: { holder: string; nodeName: string; instanceId?: string | null; nodeIp?: string | null },
): Promise<HandOverOutcome> {
  const child = rollbackChildOf(request.holder);
  const marked: string[] = [];
  for (const lease of await heldForNode(leases, request)) {
    const annotations = { ...(lease.metadata?.annotations ?? {}), [LOCK_ANNOTATIONS.handedTo]: child };
    // the label keeps heldBySelector off it: only a listing release, which sees the hand-over, frees it
    const labels = { ...(lease.metadata?.labels ?? {}), [HANDED_OVER_LABEL]: 'true' };
    const answer = await leases.replaceLease({ ...lease, metadata: { ...lease.metadata, labels, annotations } });
    if (answer === 'conflict') {
      throw new NodeLockedError(`the lock ${lease.metadata?.name} changed while it was being handed to ${child}`);
    }
    marked.push(lease.metadata?.name ?? '');
  }
  return { lock: marked.length > 0 ? 'handed-over' : 'not-held', child, leases: marked };
}

/** The Leases the holder holds for the node: the ones the request names, and any recorded for that node name. */
async function heldForNode(
  leases: LeasePort,
  request: { holder: string; nodeName: string; instanceId?: string | null; nodeIp?: string | null },
): Promise<V1Lease[]> {
  const named = new Set(keysOf(request).map((key) => key.lease));
  return (await leases.listLeases()).filter(
    (lease) =>
      lease.spec?.holderIdentity === request.holder &&
      (named.has(lease.metadata?.name ?? '') ||
        lease.metadata?.annotations?.[LOCK_ANNOTATIONS.nodeName] === request.nodeName),
  );
}

/**
 * Renews every Lease the execution holds, or runs under as the rollback its parent handed them to, so that its expiry stays ahead.
 * Cheap: one list, and a write only for Leases past a third of their duration. A Lease that changed hands meanwhile
 * is skipped: the next lock check sees it.
 * @returns the names of the Leases renewed
 */
export async function renewHeldLocks(
  leases: LeasePort,
  request: { holder: string; durationSeconds: number; now: Date },
): Promise<string[]> {
  const renewed: string[] = [];
  for (const lease of await leases.listLeases()) {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== request.holder && !isHandedTo(lease, request.holder)) continue;
    const since = lease.spec?.renewTime ?? lease.spec?.acquireTime;
    const duration = lease.spec?.leaseDurationSeconds ?? 0;
    const age = since ? request.now.getTime() - new Date(since).getTime() : Number.POSITIVE_INFINITY;
    if (age < (duration * 1000) / 3 && duration === request.durationSeconds) continue;
    const answer = await leases.replaceLease({
      ...lease,
      spec: { ...lease.spec, renewTime: request.now, leaseDurationSeconds: request.durationSeconds },
    });
    if (answer !== 'conflict') renewed.push(lease.metadata?.name ?? '');
  }
  return renewed;
}

// ---------------------------------------------------------------------------------------------------------------
// Uninstall
// ---------------------------------------------------------------------------------------------------------------

/**
 * Takes the cluster-wide uninstall Lease, then refuses (releasing it) while any node Lease is held by a live
 * execution. Taking first and checking second, as onboarding locks its node first and checks the uninstall Lease
 * second, means two that race always see each other.
 */
export async function acquireUninstallLock(
  ports: LockPorts,
  request: { holder: string; durationSeconds: number; now: Date },
): Promise<{ lock: 'acquired' | 'held' }> {
  const wanted = lockLease(UNINSTALL_LOCK, 'uninstall', request);
  let outcome: 'acquired' | 'held' | undefined;
  for (let attempt = 0; attempt < 5 && !outcome; attempt++) {
    if ((await ports.leases.createLease(wanted)) !== 'exists') {
      outcome = 'acquired';
      break;
    }
    const current = await ports.leases.readLease(UNINSTALL_LOCK);
    if (!current) continue;
    const holder = current.spec?.holderIdentity ?? '';
    if (holder === request.holder) {
      const renewed = await ports.leases.replaceLease({
        ...current,
        spec: { ...current.spec, renewTime: request.now, leaseDurationSeconds: request.durationSeconds },
      });
      if (renewed === 'conflict') throw new ClusterLockedError('the uninstall lock changed hands while being renewed');
      outcome = 'held';
      break;
    }
    const status = holder ? await ports.executions.statusOf(holder) : 'unknown';
    if (!isFree(current, status, request.now)) {
      throw new ClusterLockedError(`KubeEdge is already being uninstalled by ${describeHolder(current, status)}`);
    }
    const replaced = await ports.leases.replaceLease({
      ...wanted,
      metadata: { ...wanted.metadata, resourceVersion: current.metadata?.resourceVersion },
    });
    if (replaced === 'conflict') throw new ClusterLockedError('another uninstall took the lock at the same moment');
    outcome = 'acquired';
  }
  if (!outcome) throw new ClusterLockedError('the uninstall lock kept changing hands while it was being taken');
  const busy: string[] = [];
  for (const lease of await ports.leases.listLeases()) {
    if (lease.metadata?.labels?.[LOCK_KIND_LABEL] === 'uninstall') continue;
    const holder = lease.spec?.holderIdentity ?? '';
    const status = holder ? await ports.executions.statusOf(holder) : 'unknown';
    if (!isFree(lease, status, request.now)) {
      busy.push(`${lease.metadata?.name} (${describeHolder(lease, status)})`);
    }
  }
  if (busy.length > 0) {
    await deleteIfHeld(ports.leases, UNINSTALL_LOCK, request.holder);
    throw new NodeLockedError(
      `uninstall refused while node operations run: ${busy.join('; ')}; try again after they finish`,
    );
  }
  return { lock: outcome };
}

export async function releaseUninstallLock(
  leases: LeasePort,
  holder: string,
): Promise<{ lock: 'released' | 'not-held' }> {
  return { lock: (await deleteIfHeld(leases, UNINSTALL_LOCK, holder)) ? 'released' : 'not-held' };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what a name owns
// ---------------------------------------------------------------------------------------------------------------

/** One lock Lease as a later run reads it. */
export interface LeaseView {
  readonly lease: string;
  readonly key: LockKey | 'uninstall' | 'unknown';
  readonly nodeName?: string;
  readonly instanceId?: string;
  readonly nodeIp?: string;
  readonly holder?: string;
  readonly holderStatus: ExecutionStatus;
  readonly acquiredAt?: string;
  readonly renewedAt?: string;
  readonly expiresAt?: string;
  /** the holder has ended, or its status is unknown and the Lease expired: anyone may take it */
  readonly free: boolean;
  readonly resourceVersion?: string;
}

/** What a node name owns according to its Leases: the instance and IP its last operation recorded. */
export interface Ownership {
  readonly nodeName: string;
  readonly instanceId?: string;
  readonly nodeIp?: string;
  readonly leases: readonly LeaseView[];
  /** the holders of those Leases that still run (or may: unknown status, not expired) */
  readonly liveHolders: readonly string[];
}

export async function viewLease(ports: LockPorts, lease: V1Lease, now: Date): Promise<LeaseView> {
  const annotations = lease.metadata?.annotations ?? {};
  const holder = lease.spec?.holderIdentity;
  const status = holder ? await ports.executions.statusOf(holder) : 'unknown';
  const kind = lease.metadata?.labels?.[LOCK_KIND_LABEL];
  return {
    lease: lease.metadata?.name ?? '',
    key: kind === 'node' || kind === 'instance' || kind === 'ip' || kind === 'uninstall' ? kind : 'unknown',
    nodeName: annotations[LOCK_ANNOTATIONS.nodeName],
    instanceId: annotations[LOCK_ANNOTATIONS.instanceId],
    nodeIp: annotations[LOCK_ANNOTATIONS.nodeIp],
    holder,
    holderStatus: status,
    acquiredAt: isoOrUndefined(lease.spec?.acquireTime),
    renewedAt: isoOrUndefined(lease.spec?.renewTime),
    expiresAt: expiryOf(lease)?.toISOString(),
    free: isFree(lease, status, now),
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

/** The Leases recorded for a node name, or null when it has none (never locked, or every lock released). */
export async function findOwnership(ports: LockPorts, nodeName: string, now = new Date()): Promise<Ownership | null> {
  const leases = (await ports.leases.listLeases()).filter(
    (lease) => lease.metadata?.annotations?.[LOCK_ANNOTATIONS.nodeName] === nodeName,
  );
  if (leases.length === 0) return null;
  const views = await Promise.all(leases.map((lease) => viewLease(ports, lease, now)));
  return {
    nodeName,
    instanceId: views.find((view) => view.instanceId)?.instanceId,
    nodeIp: views.find((view) => view.nodeIp)?.nodeIp,
    leases: views,
    liveHolders: [...new Set(views.filter((view) => !view.free && view.holder).map((view) => view.holder as string))],
  };
}

/** The Leases that record an instance or an IP, whichever node name they are for. */
export async function leasesFor(
  ports: LockPorts,
  what: { readonly instanceId: string } | { readonly nodeIp: string },
  now = new Date(),
): Promise<LeaseView[]> {
  const [annotation, value] =
    'instanceId' in what ? [LOCK_ANNOTATIONS.instanceId, what.instanceId] : [LOCK_ANNOTATIONS.nodeIp, what.nodeIp];
  const leases = (await ports.leases.listLeases()).filter(
    (lease) => lease.metadata?.annotations?.[annotation] === value,
  );
  return Promise.all(leases.map((lease) => viewLease(ports, lease, now)));
}

// ---------------------------------------------------------------------------------------------------------------
// Holders and liveness
// ---------------------------------------------------------------------------------------------------------------

/** Suffix of the name the onboarding workflow gives its rollback child. */
export const ROLLBACK_SUFFIX = '-rollback';

/** `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>` → its parts, or null. */
export function parseExecutionArn(
  arn: string,
): { partition: string; region: string; account: string; stateMachine: string; name: string } | null {
  const match = arn.match(/^arn:([^:]+):states:([^:]+):([^:]+):execution:([^:]+):([^:]+)$/);
  if (!match) return null;
  const [, partition, region, account, stateMachine, name] = match;
  return { partition, region, account, stateMachine, name };
}

/**
 * Whether `holder` is the parent of the rollback child `child`: the child's own execution name is the parent's
 * name plus `-rollback`, in the same account and region. Both come from Step Functions, not from input, so a
 * caller cannot claim a parent it was not started by.
 */
export function isParentOf(holder: string, child: string): boolean {
  const parent = parseExecutionArn(holder);
  const own = parseExecutionArn(child);
  if (!parent || !own) return false;
  return (
    own.name === `${parent.name}${ROLLBACK_SUFFIX}` &&
    own.partition === parent.partition &&
    own.region === parent.region &&
    own.account === parent.account
  );
}

/** The execution name of the rollback child the holder starts: the holder's own name plus `-rollback`. */
function rollbackChildOf(holder: string): string {
  const parts = parseExecutionArn(holder);
  return parts ? `${parts.name}${ROLLBACK_SUFFIX}` : `${holder}${ROLLBACK_SUFFIX}`;
}

/**
 * Whether `child` may work under this Lease: its holder is the child's parent and has handed the Lease to the
 * child by name. Being named `<holder>-rollback` is not enough: a name can be chosen by anyone who starts a workflow.
 */
export function isHandedTo(lease: V1Lease, child: string): boolean {
  const holder = lease.spec?.holderIdentity ?? '';
  const own = parseExecutionArn(child);
  return (
    own !== null && isParentOf(holder, child) && lease.metadata?.annotations?.[LOCK_ANNOTATIONS.handedTo] === own.name
  );
}

/** A Lease is free once its holder has ended, or, when the holder's status cannot be read, once it expired. */
export function isFree(lease: V1Lease, status: ExecutionStatus, now: Date): boolean {
  if (status === 'ended') return true;
  if (status === 'running') return false;
  const expiry = expiryOf(lease);
  return expiry === undefined || expiry.getTime() <= now.getTime();
}

function expiryOf(lease: V1Lease): Date | undefined {
  const since = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const seconds = lease.spec?.leaseDurationSeconds;
  if (!since || seconds === undefined) return undefined;
  return new Date(new Date(since).getTime() + seconds * 1000);
}

function describeKey(target: KeyTarget): string {
  return `${KEY_FIELD[target.key]} ${target.value}`;
}

const STATUS_WORDS: Readonly<Record<ExecutionStatus, string>> = {
  running: 'which is running',
  ended: 'which has ended',
  unknown: 'whose status cannot be read',
};

function describeHolder(lease: V1Lease, status: ExecutionStatus): string {
  return (
    `execution ${lease.spec?.holderIdentity ?? 'unknown'} (${STATUS_WORDS[status]}) since ` +
    `${isoOf(lease.spec?.acquireTime)}, renewed ${isoOf(lease.spec?.renewTime)}, until ${isoOf(expiryOf(lease))}`
  );
}

function isoOrUndefined(date: Date | string | undefined): string | undefined {
  return date ? new Date(date).toISOString() : undefined;
}

function isoOf(date: Date | string | undefined): string {
  return isoOrUndefined(date) ?? 'an unknown time';
}
