/**
 * Every Lambda step, by the name the workflows use in `${<Name>FunctionArn}`. The CDK app deploys exactly these
 * handlers and the local runtime serves exactly these handlers, so the two can never disagree about which code
 * runs a step.
 */
/**
 * What a step reaches outside itself. Each kind is one grant in lib/constructs/step-lambda.ts (docs/iam.md lists
 * them, role by role), so a step holds exactly the access of the kinds it lists, and test/infra/iam.test.ts holds
 * each step's kinds to the calls its code makes.
 */
export type StepUse =
  /** the cluster's API, with the kubeconfig read from its SecureString parameter (ssm:GetParameter on that one) */
  | 'kubernetes'
  /** whether a lock's holder execution still runs: states:DescribeExecution on this stack's executions */
  | 'stepfunctions'
  /** ssm:SendCommand of AWS-RunShellScript to one edge host, which must carry the edge-host tag */
  | 'ssm:send-edge'
  /** ssm:SendCommand of AWS-RunShellScript to the hosts carrying the cloud-host tag (routing) */
  | 'ssm:send-cloud'
  /** ssm:GetCommandInvocation: one host's status and output of a command */
  | 'ssm:read-command'
  /** ssm:CancelCommand: stops a host command that ran past its deadline */
  | 'ssm:cancel-command'
  /** ssm:ListCommands and ssm:ListCommandInvocations: the hosts a tag-targeted command reached, and their results */
  | 'ssm:list-commands'
  /** ssm:DescribeInstanceInformation: whether a managed instance is registered, online and Linux, and its address */
  | 'ssm:inventory'
  /** ssm:PutParameter of an execution's join-token SecureString (under /edgekeeper/join-token/ only) */
  | 'ssm:token-write'
  /** ssm:DeleteParameter of an execution's join-token parameter (under /edgekeeper/join-token/ only) */
  | 'ssm:token-delete'
  /**
   * the drift-report bucket, under drift-reports/ only: s3:PutObject and s3:GetObject on its objects, s3:ListBucket
   * of that prefix (a run's parts are listed; a missing object is then a 404, not a 403)
   */
  | 's3:drift-reports'
  /** dynamodb:PutItem on the table of command waits: stores a workflow's wait (and task token) for a host command */
  | 'dynamodb:wait-put'
  /** dynamodb:DeleteItem on the table of command waits: takes a wait, so its task is completed once */
  | 'dynamodb:wait-take'
  /** states:SendTaskSuccess on the workflows that wait for a task token: resumes a workflow waiting on a host command */
  | 'stepfunctions:task-success';

/**
 * The kind each function of functions/shared/ssm.ts (the one module that calls SSM) needs. A step whose code
 * imports one of them must list its kind; test/infra/iam.test.ts checks both directions, and fails on an exported
 * function missing here.
 */
export const SSM_CALL_USES = {
  readSecureParameter: 'kubernetes',
  putSecureParameter: 'ssm:token-write',
  deleteParameter: 'ssm:token-delete',
  describeInstance: 'ssm:inventory',
  describeInstances: 'ssm:inventory',
  listTaggedInstances: 'ssm:inventory',
  sendShellCommand: 'ssm:send-edge',
  sendShellCommandToTagged: 'ssm:send-cloud',
  describeCommand: 'ssm:list-commands',
  listInvocations: 'ssm:list-commands',
  readInvocation: 'ssm:read-command',
  cancelCommand: 'ssm:cancel-command',
  // classifies an error; calls nothing
  translateSsmError: null,
  // `edgekeeper credentials create`, with the operator's credentials: no step may write the kubeconfig
  writeSecureParameter: null,
} as const satisfies Record<string, StepUse | null>;

export interface StepSpec {
  /** handler module, relative to the repository root; it exports `handler` */
  readonly entry: string;
  readonly description: string;
  /** outside systems the step talks to, and how: drives its IAM grants (see {@link StepUse}) */
  readonly uses: readonly StepUse[];
  /** seconds; the ASL's polling loops keep each invocation short */
  readonly timeoutSeconds?: number;
}

export const STEPS = {
  ValidateOnboardRequest: {
    entry: 'functions/validate-onboard-request/handler.ts',
    description: 'Validates an onboarding request against the cluster and the SSM inventory',
    uses: ['kubernetes', 'ssm:inventory', 'stepfunctions'],
  },
  LockNode: {
    entry: 'functions/lock-node/handler.ts',
    description: 'Takes the Leases of a node (name, instance, IP) or of an uninstall, so one operation changes them',
    uses: ['kubernetes', 'stepfunctions'],
  },
  ReleaseNodeLock: {
    entry: 'functions/release-node-lock/handler.ts',
    description: 'Releases the Leases this execution holds for a node or for an uninstall',
    uses: ['kubernetes'],
  },
  RenderHostScript: {
    entry: 'functions/render-host-script/handler.ts',
    description: 'Renders the preflight, EdgeMesh and keadm join script for a dry run’s plan',
    uses: [],
  },
  SendJoinScript: {
    entry: 'functions/send-join-script/handler.ts',
    description: 'Renders the join script and sends it to the edge host with SSM Run Command, adding the token',
    uses: ['kubernetes', 'ssm:send-edge', 'ssm:token-write', 'ssm:token-delete'],
  },
  CheckHostCommand: {
    entry: 'functions/check-host-command/handler.ts',
    description: 'Reads the status of an SSM command on a host and decides how long to wait before asking again',
    uses: ['ssm:read-command', 'ssm:cancel-command', 'ssm:token-delete'],
  },
  AwaitHostCommand: {
    entry: 'functions/await-host-command/handler.ts',
    description:
      'Stores the task token of a workflow waiting on a host command, and completes the task if the command already ended',
    uses: ['ssm:read-command', 'dynamodb:wait-put', 'dynamodb:wait-take', 'stepfunctions:task-success'],
  },
  ResumeOnCommandEvent: {
    entry: 'functions/resume-on-command-event/handler.ts',
    description: "Resumes the workflow waiting on a host command when SSM's event says the command ended",
    uses: ['dynamodb:wait-take', 'stepfunctions:task-success'],
  },
  CheckNodeReady: {
    entry: 'functions/check-node-ready/handler.ts',
    description: 'Checks the composite readiness of the new edge node',
    uses: ['kubernetes'],
    // it watches the node for up to a minute (WATCH_SECONDS), after the kubeconfig read and the watch's connect
    // (each bounded by the request timeout, at most 30 s) and before the stream's 5 s grace
    timeoutSeconds: 150,
  },
  FinishNode: {
    entry: 'functions/finish-node/handler.ts',
    description: 'Labels, annotates and (for upstream keadm) taints the joined node',
    uses: ['kubernetes'],
  },
  KeepDaemonSetsOffEdge: {
    entry: 'functions/keep-daemonsets-off-edge/handler.ts',
    description: 'Adds the edge exclusion to every cloud DaemonSet that could land on edge nodes',
    uses: ['kubernetes'],
  },
  RouteNodeStreams: {
    entry: 'functions/route-node-streams/handler.ts',
    description: 'Adds or removes the logs/exec DNAT rules for an edge node on every cloud host (off by default)',
    uses: ['ssm:send-cloud', 'ssm:list-commands'],
    timeoutSeconds: 90,
  },
  InspectNode: {
    entry: 'functions/inspect-node/handler.ts',
    description: 'Checks a removal or rollback before anything changes: the node, its host, and whether SSM reaches it',
    uses: ['kubernetes', 'ssm:inventory', 'ssm:token-delete', 'stepfunctions'],
  },
  DrainNode: {
    entry: 'functions/drain-node/handler.ts',
    description:
      'Refuses a removal while workload pods run, or cordons the node and evicts them through the Eviction API',
    uses: ['kubernetes'],
  },
  SendResetScript: {
    entry: 'functions/send-reset-script/handler.ts',
    description: 'Sends the reset script (keadm reset, mosquitto, unmounts, files, verification) to the edge host',
    uses: ['ssm:send-edge'],
  },
  DeleteNode: {
    entry: 'functions/delete-node/handler.ts',
    description: 'Deletes the Node object of a removed edge node',
    uses: ['kubernetes'],
  },
  PlanUninstall: {
    entry: 'functions/plan-uninstall/handler.ts',
    description: 'Reads the KubeEdge Helm release from its Secrets and plans what the uninstall deletes',
    uses: ['kubernetes'],
  },
  DeleteKubeEdge: {
    entry: 'functions/delete-kubeedge/handler.ts',
    description: 'Deletes every object of the KubeEdge Helm release, its Secrets and the kubeedge namespace',
    uses: ['kubernetes'],
  },
  CheckNamespaceGone: {
    entry: 'functions/check-namespace-gone/handler.ts',
    description: 'Checks whether a deleted namespace is gone',
    uses: ['kubernetes'],
  },
  DriftCheckCluster: {
    entry: 'functions/drift-check-cluster/handler.ts',
    description:
      'Drift check of the cluster: unfenced DaemonSets, edge nodes not Ready or off version, stuck pods, stale locks',
    uses: ['kubernetes', 'stepfunctions', 's3:drift-reports'],
    timeoutSeconds: 300,
  },
  DriftCheckHosts: {
    entry: 'functions/drift-check-hosts/handler.ts',
    description:
      'Drift check of the hosts: managed nodes whose SSM host is gone or offline, edge hosts with no node, routing',
    uses: [
      'kubernetes',
      'ssm:inventory',
      'ssm:send-cloud',
      'ssm:list-commands',
      'ssm:read-command',
      's3:drift-reports',
    ],
    timeoutSeconds: 300,
  },
  DriftRemediate: {
    entry: 'functions/drift-remediate/handler.ts',
    description:
      'Fixes safe drift only: fences DaemonSets as onboarding does, expires locks of ended executions, restores routing',
    uses: [
      'kubernetes',
      'stepfunctions',
      'ssm:send-cloud',
      'ssm:list-commands',
      'ssm:read-command',
      's3:drift-reports',
    ],
    timeoutSeconds: 300,
  },
  DriftReport: {
    entry: 'functions/drift-report/handler.ts',
    description: 'Stores the drift report, emits a metric per finding type and returns its bounded summary',
    uses: ['s3:drift-reports'],
    timeoutSeconds: 120,
  },
  CheckBatch: {
    entry: 'functions/check-batch/handler.ts',
    description: 'Checks a batch of requests before any starts (no two share a node, IP, instance or id)',
    uses: [],
  },
  PlanBatchWave: {
    entry: 'functions/plan-batch-wave/handler.ts',
    description: "Records a batch wave's results and picks the next wave within the failure budget",
    uses: [],
  },
  ReadChildFailure: {
    entry: 'functions/read-child-failure/handler.ts',
    description: "Reads a batch child's failure into the short error its result carries",
    uses: [],
  },
} as const satisfies Record<string, StepSpec>;

export type StepName = keyof typeof STEPS;

export const STEP_NAMES = Object.keys(STEPS) as StepName[];

/** Type guard for names read from an ASL file. */
export function isStepName(name: string): name is StepName {
  return Object.hasOwn(STEPS, name);
}
