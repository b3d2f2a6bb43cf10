import { joinModeOf, type OnboardRequest } from '../shared/schemas';
import type { Settings } from '../shared/settings';
import type { Operation, WorkflowEngine } from './engine';

/*
 * The REST API's side of a manual join (docs/adr/0009, "Through the REST API"): the join command holds the join
 * token, so the API renders it itself, outside the workflow, and puts it only into the answer to the caller that
 * started (or retried) the manual onboarding. It renders it once the execution waits for the node, as the CLI
 * does: a request the workflow refuses (a name in use, another operation's lock) never hands out a command that
 * would join a device under it. This module reads no cluster (the CLI's --api-url path uses it too); the router
 * renders with functions/shared/manual-join.ts.
 */

/** Renders the join command of a manual join request from the cluster; tests pass a fake. */
export type JoinCommandSource = (settings: Settings, request: unknown) => Promise<string>;

/**
 * The states of onboard-node's manual wait (statemachine/src/onboard-node.ts): once the execution is in one, it is
 * valid, locked and its join settings are resolved. The first is a Pass state (currentStep shows it), the second
 * the Task the steps list shows.
 */
export const MANUAL_JOIN_WAIT_STATES: readonly string[] = [
  'Start waiting for the manual join',
  'Check the manual join',
  'Manual join done?',
  'Wait for the manual join',
];

/** Whether a POST /nodes body (already parsed) is a manual join that will wait for a person to run the command. */
export function isManualJoin(request: OnboardRequest): boolean {
  return joinModeOf(request) === 'manual' && !request.dryRun;
}

/** Where an execution stands for its join command. */
export type ManualJoinStage = 'waiting' | 'ended' | 'not-yet';

/** How long an answer waits for the execution to reach its manual wait, and how often it looks. */
export interface ManualJoinWait {
  /** API Gateway gives up after 29 s: the default leaves time to render the command @default 20000 */
  readonly timeoutMs?: number;
  /** @default 500 */
  readonly pollMs?: number;
}

export function stageOf(operation: Operation): ManualJoinStage {
  if (operation.status !== 'RUNNING') return 'ended';
  const waiting =
    (operation.currentStep !== null && MANUAL_JOIN_WAIT_STATES.includes(operation.currentStep)) ||
    operation.steps.some((step) => MANUAL_JOIN_WAIT_STATES.includes(step.step));
  return waiting ? 'waiting' : 'not-yet';
}

/**
 * Follows an execution until it waits for the node (valid, locked, settings resolved), ends (refused, or a rerun
 * that found the node joined), or the time is up.
 */
export async function manualJoinStage(
  engine: WorkflowEngine,
  operationId: string,
  wait: ManualJoinWait = {},
): Promise<ManualJoinStage> {
  const deadline = Date.now() + (wait.timeoutMs ?? 20_000);
  for (;;) {
    const operation = await engine.describe(operationId);
    const stage = operation ? stageOf(operation) : 'not-yet';
    if (stage !== 'not-yet' || Date.now() >= deadline) return stage;
    await new Promise((resolve) => setTimeout(resolve, wait.pollMs ?? 500));
  }
}
