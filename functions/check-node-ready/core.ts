import { nextPollDelay } from '../shared/backoff';
import { EDGE_ROLE_LABELS, EDGE_TAINT, isEdgeTaint } from '../shared/domain';
import { EdgekeeperError } from '../shared/errors';
import { taintAppliedAtJoin } from '../shared/keadm/profiles';
import type { KeadmProfile } from '../shared/kubeedge-schemas';

/** The parts of a `V1Node` readiness depends on. */
export interface NodeView {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec?: { taints?: { key: string; value?: string; effect: string }[] };
  status?: {
    conditions?: { type: string; status: string }[];
    addresses?: { type: string; address: string }[];
  };
}

/** What the onboarding asked for. */
export interface ExpectedNode {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly taint: boolean;
  readonly profile: KeadmProfile;
  /** keadm version (`v1.6.1`): decides whether the taint comes with the join or later through the API. */
  readonly version: string;
}

/** Readiness and, when not ready, every condition still missing (in a stable order). */
export interface Readiness {
  readonly ready: boolean;
  readonly missing: string[];
}

/**
 * Composite readiness of a freshly joined edge node: it exists, `Ready=True`, carries the edge and agent labels,
 * reports the expected InternalIP, and has the edge taint when it was asked for *and* keadm puts it there (fork
 * ≥ v1.6.1 `--with-edge-taint`); otherwise the finish step taints it through the API after this check.
 */
export function evaluateReadiness(node: NodeView | null, expected: ExpectedNode): Readiness {
  if (!node) return { ready: false, missing: [`node ${expected.nodeName} does not exist`] };
  const missing: string[] = [];
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
  if (ready?.status !== 'True') missing.push(`condition Ready=True (is ${ready?.status ?? 'absent'})`);
  for (const label of EDGE_ROLE_LABELS) {
    if (!(label in (node.metadata.labels ?? {}))) missing.push(`label ${label}`);
  }
  const internalIps = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  if (!internalIps.includes(expected.nodeIp)) {
    missing.push(`InternalIP ${expected.nodeIp} (has ${internalIps.length > 0 ? internalIps.join(', ') : 'none'})`);
  }
  if (expected.taint && taintAppliedAtJoin(expected.profile, expected.version)) {
    if (!(node.spec?.taints ?? []).some(isEdgeTaint)) missing.push(`taint ${EDGE_TAINT.key}:${EDGE_TAINT.effect}`);
  }
  return { ready: missing.length === 0, missing };
}

/** The node did not become ready before the deadline. Permanent: the workflow rolls the join back. */
export class NodeNotReadyError extends EdgekeeperError {
  override readonly name = 'NodeNotReadyError';
  constructor(
    readonly nodeName: string,
    readonly missing: readonly string[],
  ) {
    super(`node ${nodeName} is not ready after the deadline: missing ${missing.join('; ')}`);
  }
}

/** What the poll step tells the workflow. */
export type PollDecision =
  | { readonly done: true }
  | { readonly done: false; readonly waitSeconds: number; readonly missing: readonly string[] };

/**
 * One poll: done when ready; otherwise the next delay, shortened so the last poll lands on the deadline; and past the
 * deadline a NodeNotReadyError naming what is still missing.
 * @param nowMs the clock (epoch ms), passed in so the decision is pure
 * @param deadlineMs epoch ms after which the node counts as failed
 * @throws NodeNotReadyError when the deadline has passed and the node is not ready
 */
export function decidePoll(
  node: NodeView | null,
  expected: ExpectedNode,
  attempt: number,
  nowMs: number,
  deadlineMs: number,
): PollDecision {
  const readiness = evaluateReadiness(node, expected);
  if (readiness.ready) return { done: true };
  const remainingSeconds = Math.floor((deadlineMs - nowMs) / 1000);
  if (remainingSeconds <= 0) throw new NodeNotReadyError(expected.nodeName, readiness.missing);
  return {
    done: false,
    waitSeconds: Math.max(1, Math.min(nextPollDelay(attempt), remainingSeconds)),
    missing: readiness.missing,
  };
}

/**
 * How long one check watches the node before handing back to the workflow. A joined node is normally Ready within
 * a minute of the host script, so one check (one invocation, three state transitions, one API request) usually
 * sees it, instead of a poll every few seconds; the Lambda timeout (functions/registry.ts) leaves room beyond it.
 */
export const WATCH_SECONDS = 60;

/** Where a check learns the node's state. */
export interface NodeSource {
  /** the node now, or null when it does not exist */
  read(): Promise<NodeView | null>;
  /**
   * Watches the node for up to `seconds`, from its current state: resolves as soon as `done(node)` holds, else
   * with the node as last seen (null: it does not exist) when the watch ends.
   */
  watch(seconds: number, done: (node: NodeView | null) => boolean): Promise<NodeView | null>;
}

/**
 * One check: reads the node once (`watch: false`, the manual join: a person may take half an hour, and each check
 * renews the lock's Leases), or watches it until it is ready, for at most {@link WATCH_SECONDS} and never past the
 * deadline; then decides as {@link decidePoll} does.
 * @param now the clock (epoch ms)
 * @throws NodeNotReadyError when the deadline has passed and the node is not ready
 */
export async function checkReadiness(
  source: NodeSource,
  expected: ExpectedNode,
  poll: { readonly attempt: number; readonly deadlineMs: number; readonly watch: boolean },
  now: () => number,
): Promise<PollDecision> {
  const seconds = poll.watch ? Math.min(WATCH_SECONDS, Math.floor((poll.deadlineMs - now()) / 1000)) : 0;
  const node =
    seconds > 0 ? await source.watch(seconds, (seen) => evaluateReadiness(seen, expected).ready) : await source.read();
  return decidePoll(node, expected, poll.attempt, now(), poll.deadlineMs);
}
