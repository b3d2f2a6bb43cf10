import type { StateTime } from './stats';

/** One edge host the worker onboards, and the node name it gets. */
export interface PlannedNode {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly instanceId: string;
  /** `<os> <arch>` for the report */
  readonly host: string;
}

/** One round: the same hosts onboarded with one wait mode. Rounds after the first reset the hosts first. */
export interface Round {
  readonly waits: 'real' | 'compressed';
  readonly nodes: readonly PlannedNode[];
}

/** What the parent tells the worker (argv[2], JSON). */
export interface WorkerPlan {
  readonly rounds: readonly Round[];
  /** the pause every Wait state and retry interval gets in compressed rounds */
  readonly compressedWaitMs: number;
  /** where the handlers' Powertools logs go (as `edgekeeper onboard --sandbox` does) */
  readonly logFile: string;
  /** bound on the whole worker */
  readonly timeoutMs: number;
}

/** worker → parent: reset the sandbox's request log, or read it. */
export interface CountsRequest {
  readonly kind: 'counts';
  readonly id: number;
  readonly reset: boolean;
}

/** parent → worker: the counters of each client (read before a reset), as `RequestLog.byClient` gives them. */
export interface CountsReply {
  readonly kind: 'counts';
  readonly id: number;
  readonly counts: Record<string, Record<string, number>>;
}

/** One onboarding as measured by the worker. */
export interface OnboardingResult {
  readonly round: number;
  readonly waits: 'real' | 'compressed';
  readonly node: PlannedNode;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly error: string | null;
  /** runWorkflow call to result */
  readonly wallMs: number;
  /** time inside Wait states (the pauses), included in wallMs */
  readonly waitMs: number;
  readonly states: readonly StateTime[];
  /** every Kubernetes API request the sandbox saw during the onboarding (workflow + cloudcore stand-in) */
  readonly requests: Record<string, number>;
  /** the steps' own requests (their ServiceAccount's): what the onboarding costs the API server */
  readonly ownRequests: Record<string, number>;
  /** the cloudcore stand-in's requests (registering the Node, its status), as a real cluster sees them from cloudcore */
  readonly cloudcoreRequests: Record<string, number>;
  /** the steps' requests while the "Keep cloud DaemonSets off edge nodes" handler ran, each attempt included */
  readonly daemonSetStep: {
    readonly requests: Record<string, number>;
    readonly handlerMs: number;
    readonly patched: number;
    readonly skipped: number;
  } | null;
}

/** How long resetting the hosts between rounds took (SSM reset script + Node deletion). */
export interface ResetResult {
  readonly beforeRound: number;
  readonly ms: number;
}

/** worker → parent: the last message. */
export interface WorkerDone {
  readonly kind: 'done';
  readonly onboardings: readonly OnboardingResult[];
  readonly resets: readonly ResetResult[];
  /** process.resourceUsage().maxRSS of the worker, KiB */
  readonly maxRssKiB: number;
  readonly error: string | null;
}

export type WorkerMessage = CountsRequest | WorkerDone;
