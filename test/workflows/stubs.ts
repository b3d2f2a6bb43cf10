import type { StepName } from '../../functions/registry';
import type { StepHandler } from '../../local/runtime';

/**
 * The real handlers' modules, as types only: a stub's result is checked against what the handler it replaces
 * returns today, so a workflow test cannot pass on a shape the real step no longer produces.
 */
interface HandlerModules {
  ValidateOnboardRequest: typeof import('../../functions/validate-onboard-request/handler');
  LockNode: typeof import('../../functions/lock-node/handler');
  ReleaseNodeLock: typeof import('../../functions/release-node-lock/handler');
  RenderHostScript: typeof import('../../functions/render-host-script/handler');
  SendJoinScript: typeof import('../../functions/send-join-script/handler');
  CheckHostCommand: typeof import('../../functions/check-host-command/handler');
  AwaitHostCommand: typeof import('../../functions/await-host-command/handler');
  ResumeOnCommandEvent: typeof import('../../functions/resume-on-command-event/handler');
  CheckNodeReady: typeof import('../../functions/check-node-ready/handler');
  FinishNode: typeof import('../../functions/finish-node/handler');
  KeepDaemonSetsOffEdge: typeof import('../../functions/keep-daemonsets-off-edge/handler');
  RouteNodeStreams: typeof import('../../functions/route-node-streams/handler');
  InspectNode: typeof import('../../functions/inspect-node/handler');
  DrainNode: typeof import('../../functions/drain-node/handler');
  SendResetScript: typeof import('../../functions/send-reset-script/handler');
  DeleteNode: typeof import('../../functions/delete-node/handler');
  PlanUninstall: typeof import('../../functions/plan-uninstall/handler');
  DeleteKubeEdge: typeof import('../../functions/delete-kubeedge/handler');
  CheckNamespaceGone: typeof import('../../functions/check-namespace-gone/handler');
  DriftCheckCluster: typeof import('../../functions/drift-check-cluster/handler');
  DriftCheckHosts: typeof import('../../functions/drift-check-hosts/handler');
  DriftRemediate: typeof import('../../functions/drift-remediate/handler');
  DriftReport: typeof import('../../functions/drift-report/handler');
  CheckBatch: typeof import('../../functions/check-batch/handler');
  PlanBatchWave: typeof import('../../functions/plan-batch-wave/handler');
  ReadChildFailure: typeof import('../../functions/read-child-failure/handler');
}

/** What the real handler of a step resolves to. */
export type StepResult<N extends StepName> = Awaited<ReturnType<HandlerModules[N]['handler']>>;

/** A step's input as the workflow passes it (a plain JSON object). */
export type StepInput = Record<string, unknown>;

/** Stand-ins keyed by step, each typed by its real handler's result. */
export type Stubs = { [N in StepName]?: (input: StepInput) => Promise<StepResult<N>> };

/** The runtime's view of the stubs: handlers that take and give JSON. */
export function asHandlers(stubs: Stubs): Partial<Record<StepName, StepHandler>> {
  return stubs as Partial<Record<StepName, StepHandler>>;
}

/** An error as a failed Lambda reports it: only its name and message cross into the workflow. */
export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** A stand-in that fails with a named error (typed for any step: it never returns). */
export function failWith(name: string, message: string): (input?: StepInput) => Promise<never> {
  return async () => {
    throw new NamedError(name, message);
  };
}
