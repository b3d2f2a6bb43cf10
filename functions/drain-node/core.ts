import { nextPollDelay } from '../shared/backoff';
import { EdgekeeperError } from '../shared/errors';

/**
 * Core of "Clear workloads off the node": decides which pods block a removal, and runs one turn of cordon +
 * eviction through narrow ports ({@link drainTurn}). The handler implements the ports over the Kubernetes API.
 */

/** The slice of a `V1Pod` read here. */
export interface PodLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Record<string, string>;
    readonly deletionTimestamp?: Date | string;
    readonly ownerReferences?: readonly {
      readonly kind: string;
      readonly name: string;
      readonly controller?: boolean;
    }[];
  };
  readonly status?: { readonly phase?: string };
}

/** A pod named for people: `namespace/name (OwnerKind/owner)`. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  /** `ReplicaSet/web`, or undefined for a pod no controller will recreate. */
  readonly owner?: string;
}

/** Pods on a node, by what a removal must do about them. */
export interface PodClassification {
  /** Owned by a DaemonSet: they follow the node, eviction would only see them recreated. Ignored. */
  readonly daemonSet: PodRef[];
  /** Mirror pods of static manifests on the host: the API cannot evict them; the host reset removes them. */
  readonly mirror: PodRef[];
  /** Succeeded or Failed: nothing runs. Ignored. */
  readonly completed: PodRef[];
  /** Already being deleted: they go away with or without us. Ignored (an offline edge node never confirms). */
  readonly terminating: PodRef[];
  /** Everything else: removal refuses unless `drain`, which evicts them. */
  readonly workload: PodRef[];
}

/** Non-DaemonSet pods still run on the node and `drain` was not asked for. */
export class WorkloadPodsPresentError extends EdgekeeperError {
  override readonly name = 'WorkloadPodsPresentError';
  constructor(
    readonly nodeName: string,
    readonly pods: readonly PodRef[],
  ) {
    super(
      `node ${nodeName} runs ${pods.length} workload ${pods.length === 1 ? 'pod' : 'pods'}: ` +
        `${pods.map(formatPod).join(', ')}; pass drain to evict them`,
    );
  }
}

/** Evicted pods were still on the node when the drain's time ran out (a PDB that never allows, say). */
export class DrainTimeoutError extends EdgekeeperError {
  override readonly name = 'DrainTimeoutError';
  constructor(
    readonly nodeName: string,
    readonly pods: readonly PodRef[],
    readonly timeoutSeconds: number,
  ) {
    super(
      `node ${nodeName} still runs ${pods.length} ${pods.length === 1 ? 'pod' : 'pods'} after ${timeoutSeconds}s of ` +
        `draining: ${pods.map(formatPod).join(', ')}`,
    );
  }
}

/** An eviction the API refused for a reason other than a disruption budget. */
export class EvictionFailedError extends EdgekeeperError {
  override readonly name = 'EvictionFailedError';
  constructor(
    readonly pod: PodRef,
    readonly statusCode: number,
    readonly detail: string,
  ) {
    super(`eviction of ${formatPod(pod)} failed with HTTP ${statusCode}: ${detail}`);
  }
}

/** `default/web-1 (ReplicaSet/web)`, or `default/debug (no controller)` for a bare pod. */
export function formatPod(pod: PodRef): string {
  return `${pod.namespace}/${pod.name} (${pod.owner ?? 'no controller'})`;
}

/** Sorts the pods on a node into what a removal ignores and what it must evict (or refuse over). */
export function classifyPods(pods: readonly PodLike[]): PodClassification {
  const result: PodClassification = { daemonSet: [], mirror: [], completed: [], terminating: [], workload: [] };
  for (const pod of pods) result[bucketOf(pod)].push(toRef(pod));
  for (const list of Object.values(result)) list.sort(byNamespaceAndName);
  return result;
}

/**
 * Throws the refusal when workload pods run and `drain` is false; returns quietly otherwise.
 * @throws WorkloadPodsPresentError
 */
export function assertRemovable(nodeName: string, pods: PodClassification, drain: boolean): void {
  if (!drain && pods.workload.length > 0) throw new WorkloadPodsPresentError(nodeName, pods.workload);
}

/** An `policy/v1` Eviction to POST to `/api/v1/namespaces/{ns}/pods/{name}/eviction`. */
export interface EvictionRequest {
  readonly pod: PodRef;
  readonly body: {
    readonly apiVersion: 'policy/v1';
    readonly kind: 'Eviction';
    readonly metadata: { readonly name: string; readonly namespace: string };
  };
}

/** What draining a node does: cordon it, evict its workload pods, and stop waiting at a deadline. */
export interface DrainPlan {
  readonly nodeName: string;
  /** Merge patch for the Node: no new pods land while we evict. */
  readonly cordonPatch: { readonly spec: { readonly unschedulable: true } };
  readonly evictions: EvictionRequest[];
  readonly timeoutSeconds: number;
}

/**
 * Plans the drain. The Eviction API (not DELETE) is used so PodDisruptionBudgets are honoured; the pod's own
 * grace period applies because the eviction sets no `deleteOptions`.
 */
export function planDrain(nodeName: string, pods: PodClassification, timeoutSeconds: number): DrainPlan {
  return {
    nodeName,
    cordonPatch: { spec: { unschedulable: true } },
    evictions: pods.workload.map((pod) => ({
      pod,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace } },
    })),
    timeoutSeconds,
  };
}

/** What an eviction answer means for the drain loop. */
export type EvictionOutcome = 'evicted' | 'gone' | 'retry';

/**
 * Reads the Eviction API's answer: 201/200 evicted; 404 already gone; 429 means a PDB does not allow the
 * disruption yet (retry until the deadline, as `kubectl drain` does).
 * @throws EvictionFailedError for any other status (500 "more than one PDB" included: retrying cannot fix it)
 */
export function evictionOutcome(pod: PodRef, statusCode: number, detail = ''): EvictionOutcome {
  if (statusCode === 200 || statusCode === 201) return 'evicted';
  if (statusCode === 404) return 'gone';
  if (statusCode === 429) return 'retry';
  throw new EvictionFailedError(pod, statusCode, detail || 'unexpected status');
}

/**
 * One turn of the bounded wait: `done` when no workload pod is left, `wait` before the deadline.
 * @param remaining pods still listed on the node now
 * @throws DrainTimeoutError listing the pods left once `elapsedSeconds` reaches the plan's timeout
 */
export function drainProgress(plan: DrainPlan, remaining: readonly PodLike[], elapsedSeconds: number): 'done' | 'wait' {
  const left = classifyPods(remaining).workload;
  if (left.length === 0) return 'done';
  if (elapsedSeconds >= plan.timeoutSeconds) throw new DrainTimeoutError(plan.nodeName, left, plan.timeoutSeconds);
  return 'wait';
}

function bucketOf(pod: PodLike): keyof PodClassification {
  const owner = controllerOf(pod);
  if (owner?.kind === 'DaemonSet') return 'daemonSet';
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return 'mirror';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'completed';
  if (pod.metadata?.deletionTimestamp) return 'terminating';
  return 'workload';
}

/** The managing controller: the owner reference marked `controller`, as the garbage collector reads it. */
function controllerOf(pod: PodLike): { kind: string; name: string } | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

function toRef(pod: PodLike): PodRef {
  const owner = controllerOf(pod);
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    ...(owner ? { owner: `${owner.kind}/${owner.name}` } : {}),
  };
}

function byNamespaceAndName(a: PodRef, b: PodRef): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

/** What one turn of the drain needs from the cluster; the handler implements it over the Kubernetes API. */
export interface DrainPorts {
  nodeExists(nodeName: string): Promise<boolean>;
  /** every pod bound to the node (`spec.nodeName`), whatever its namespace */
  podsOn(nodeName: string): Promise<PodLike[]>;
  /** marks the node unschedulable (merge patch `spec.unschedulable: true`) */
  cordon(nodeName: string, patch: DrainPlan['cordonPatch']): Promise<void>;
  /** POSTs the Eviction; answers the HTTP status (201 on success) and the API's message for a refusal */
  evict(eviction: EvictionRequest): Promise<{ readonly statusCode: number; readonly detail: string }>;
}

/** Where the drain is between turns: the workflow carries it through its Wait state. */
export interface DrainTurnInput {
  readonly nodeName: string;
  readonly drain: boolean;
  /** when the drain began; null on the first turn */
  readonly startedAt: string | null;
  readonly attempt: number;
  readonly timeoutSeconds: number;
  readonly now: Date;
}

export interface DrainTurn {
  readonly startedAt: string;
  readonly attempt: number;
  readonly done: boolean;
  readonly waitSeconds: number;
  readonly outcome: { readonly step: 'drain'; readonly result: 'nothing-to-do' | 'done'; readonly detail?: string };
}

/**
 * One turn of clearing the node: refuses workload pods without `drain`; otherwise cordons, asks the Eviction API
 * for each workload pod (a PDB's 429 or a pod already gone only means "look again next turn"), then says whether
 * the workflow must wait for them to go, with the polling backoff, until the drain timeout.
 * @throws WorkloadPodsPresentError, EvictionFailedError, DrainTimeoutError
 */
export async function drainTurn(ports: DrainPorts, input: DrainTurnInput): Promise<DrainTurn> {
  const since = input.startedAt ?? input.now.toISOString();
  const next = { startedAt: since, attempt: input.attempt + 1 };
  if (!(await ports.nodeExists(input.nodeName))) {
    return {
      ...next,
      done: true,
      waitSeconds: 0,
      outcome: { step: 'drain', result: 'nothing-to-do', detail: 'no node' },
    };
  }
  const classified = classifyPods(await ports.podsOn(input.nodeName));
  assertRemovable(input.nodeName, classified, input.drain);
  if (classified.workload.length === 0) {
    const outcome =
      input.attempt === 0
        ? ({ step: 'drain', result: 'nothing-to-do' } as const)
        : ({ step: 'drain', result: 'done', detail: 'cordoned and evicted every workload pod' } as const);
    return { ...next, done: true, waitSeconds: 0, outcome };
  }
  const plan = planDrain(input.nodeName, classified, input.timeoutSeconds);
  await ports.cordon(input.nodeName, plan.cordonPatch);
  for (const eviction of plan.evictions) {
    const answer = await ports.evict(eviction);
    evictionOutcome(eviction.pod, answer.statusCode, answer.detail);
  }
  const elapsedSeconds = (input.now.getTime() - Date.parse(since)) / 1000;
  const progress = drainProgress(plan, await ports.podsOn(input.nodeName), elapsedSeconds);
  const evicted = classified.workload.map((pod) => `${pod.namespace}/${pod.name}`).join(', ');
  return {
    ...next,
    done: progress === 'done',
    waitSeconds: progress === 'done' ? 0 : nextPollDelay(input.attempt),
    outcome: { step: 'drain', result: 'done', detail: `cordoned and evicted ${evicted}` },
  };
}
