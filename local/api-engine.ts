import { join } from 'node:path';
import {
  type ListFilter,
  type Operation,
  type OperationEvent,
  type OperationStatus,
  type OperationSummary,
  operationIdOf,
  parseOperationId,
  type StartRequest,
  type StartResult,
  type StepTiming,
  sameInput,
  WORKFLOWS,
  type WorkflowEngine,
  type WorkflowName,
} from '../functions/api/engine';
import { TransientServiceError } from '../functions/shared/errors';
import { type ExecutionRecord, ExecutionRegistry, isProcessAlive } from './executions';
import {
  localStateMachineArn,
  type RunWorkflowOptions,
  runWorkflow,
  type WorkflowEvent,
  type WorkflowResult,
} from './runtime';

/** How a run in the background ended, as `serve` reports it on shutdown. */
export interface EndedOperation {
  readonly operationId: string;
  readonly status: WorkflowResult['status'];
  readonly error: WorkflowResult['error'];
  readonly stop?: WorkflowResult['stop'];
}

/** How both local engines (this one and the inventory starter's, local/inventory/engine.ts) run workflows. */
export interface LocalRunOptions {
  /** the execution registry: the CLI's for the same target, so names are shared with `onboard --sandbox` */
  readonly executionsDir: string;
  /** the environment the handlers read (handlerEnvironment of the target) */
  readonly environment: Record<string, string>;
  /** the sandbox shortens pauses, as the CLI does for `--sandbox` */
  readonly waits: 'real' | 'compressed';
  readonly compressedWaitMs?: number;
  /** @default the local runtime's runWorkflow; unit tests pass a fake */
  readonly runWorkflow?: (options: RunWorkflowOptions) => Promise<WorkflowResult>;
}

export interface LocalEngineOptions extends LocalRunOptions {
  /** called once per execution this engine ran, when it ends */
  readonly onEnded?: (ended: EndedOperation) => void;
}

/**
 * Runs an execution on the local runtime under the engine's registry and settings; resolves with its result and
 * never rejects: the runtime turns a workflow's failures into results, and its own (its record directory) becomes
 * a FAILED result here.
 */
export function runInBackground(
  options: LocalRunOptions,
  run: Pick<RunWorkflowOptions, 'workflow' | 'input' | 'executionName' | 'signal' | 'stopNow' | 'onEvent'>,
): Promise<WorkflowResult> {
  return (options.runWorkflow ?? runWorkflow)({
    ...run,
    executionsDir: options.executionsDir,
    environment: options.environment,
    waits: options.waits,
    ...(options.compressedWaitMs !== undefined && { compressedWaitMs: options.compressedWaitMs }),
  }).catch(
    (error: unknown): WorkflowResult => ({
      status: 'FAILED',
      output: null,
      error:
        error instanceof Error
          ? { name: error.name, message: error.message }
          : { name: 'Error', message: String(error) },
      events: [],
    }),
  );
}

/** What this process knows of an execution it runs or ran. */
interface Tracked {
  readonly workflow: WorkflowName;
  readonly name: string;
  readonly input: unknown;
  readonly startedAt: string;
  readonly steps: MutableStep[];
  /** every event of the run, its child executions' included: what the CLI prints under --json */
  readonly events: WorkflowEvent[];
  currentStep: string | null;
  result?: WorkflowResult;
  stoppedAt?: string;
}

type MutableStep = { -readonly [K in keyof StepTiming]: StepTiming[K] };

/**
 * The REST API's WorkflowEngine on the local runtime, for `edgekeeper serve`: a start runs the workflow in the
 * background of this process with the same execution registry the CLI uses, so an execution name is unique across
 * the API and the CLI, and a name that ran returns that first execution. Step timings come from the runtime's
 * event stream, as Step Functions' history gives them deployed; executions this process did not run (the CLI's,
 * or an earlier serve's) are described from their records, without steps.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly registry: ExecutionRegistry;
  private readonly tracked = new Map<string, Tracked>();
  /** the executions running in the background now, by name */
  private readonly runs = new Map<string, Promise<WorkflowResult>>();
  /** starts run one at a time: the check for an existing name and the claim must not interleave */
  private starting: Promise<unknown> = Promise.resolve();
  private readonly graceful = new AbortController();
  private readonly immediate = new AbortController();

  constructor(private readonly options: LocalEngineOptions) {
    this.registry = new ExecutionRegistry(options.executionsDir);
  }

  start(request: StartRequest): Promise<StartResult> {
    const next = this.starting.then(() => this.startOne(request));
    this.starting = next.catch(() => undefined);
    return next;
  }

  private async startOne({ workflow, name, input }: StartRequest): Promise<StartResult> {
    const operationId = operationIdOf(workflow, name);
    const known = this.tracked.get(name);
    if (known) {
      return { operationId, existed: true, sameInput: known.workflow === workflow && sameInput(known.input, input) };
    }
    const record = await this.registry.read(name);
    if (record) {
      const same = record.workflow === workflow && sameInput(record.input, input);
      // a record left RUNNING by a process that died is continued by a retry, as the CLI does with the same name
      if (same && record.status === 'RUNNING' && !isProcessAlive(record.pid) && !this.graceful.signal.aborted) {
        this.run(workflow, name, input);
      }
      return { operationId, existed: true, sameInput: same };
    }
    if (this.graceful.signal.aborted) {
      throw new TransientServiceError('the server is stopping: no new operation starts');
    }
    this.run(workflow, name, input);
    return { operationId, existed: false, sameInput: true };
  }

  /**
   * Runs an execution in the background. This process knows it from now on, so a describe or a retry that comes
   * before the runtime has written its record still finds it.
   */
  private run(workflow: WorkflowName, name: string, input: unknown): void {
    const tracked: Tracked = {
      workflow,
      name,
      input,
      startedAt: new Date().toISOString(),
      steps: [],
      events: [],
      currentStep: null,
    };
    this.tracked.set(name, tracked);
    const done = runInBackground(this.options, {
      workflow,
      input,
      executionName: name,
      signal: this.graceful.signal,
      stopNow: this.immediate.signal,
      onEvent: (event) => {
        tracked.events.push(event);
        if (event.execution === name) recordStep(tracked, event);
      },
    });
    this.runs.set(name, done);
    void done.then((result) => {
      tracked.result = result;
      tracked.stoppedAt = new Date().toISOString();
      tracked.currentStep = null;
      this.runs.delete(name);
      this.options.onEnded?.(ended(tracked, result));
    });
  }

  async describe(operationId: string): Promise<Operation | null> {
    const parsed = parseOperationId(operationId);
    if (!parsed) return null;
    const known = this.tracked.get(parsed.executionName);
    const record = await this.registry.read(parsed.executionName);
    if (known) {
      if (known.workflow !== parsed.workflow) return null;
      return { ...describeTracked(known), ...this.executionFacts(known.workflow, known.name, record) };
    }
    if (!record || record.workflow !== parsed.workflow) return null;
    return {
      ...summaryOfRecord(record, parsed.workflow),
      ...this.executionFacts(parsed.workflow, record.name, record),
      currentStep: null,
      steps: [],
      ...outcomeOfRecord(record),
    };
  }

  /**
   * The ARN, resumptions and record path the runtime's ExecutionSummary gives a local run: the runtime names the
   * execution's ARN the same way, and its record sits in this registry (the CLI's own for the same target).
   */
  private executionFacts(
    workflow: WorkflowName,
    name: string,
    record: ExecutionRecord | undefined | null,
  ): Pick<Operation, 'arn' | 'resumed' | 'record'> {
    return {
      arn: record?.arn ?? `${localStateMachineArn(workflow).replace(':stateMachine:', ':execution:')}:${name}`,
      resumed: record?.resumed ?? 0,
      record: join(this.registry.dir, `${name}.json`),
    };
  }

  /**
   * The events of an execution this process runs or ran; one it did not run (the CLI's, an earlier serve's) has
   * none to show here, as a local run of a name that already ran shows none.
   */
  async events(operationId: string): Promise<OperationEvent[] | null> {
    const parsed = parseOperationId(operationId);
    if (!parsed) return null;
    const known = this.tracked.get(parsed.executionName);
    if (known) return known.workflow === parsed.workflow ? [...known.events] : null;
    const record = await this.registry.read(parsed.executionName);
    return record && record.workflow === parsed.workflow ? [] : null;
  }

  async list(filter: ListFilter): Promise<OperationSummary[]> {
    const summaries = new Map<string, OperationSummary>();
    for (const record of await this.registry.list()) {
      if (isApiWorkflow(record.workflow)) summaries.set(record.name, summaryOfRecord(record, record.workflow));
    }
    // this process's view is fresher than the records for the executions it runs
    for (const tracked of this.tracked.values()) summaries.set(tracked.name, summaryOfTracked(tracked));
    return [...summaries.values()]
      .filter((summary) => filter.node === undefined || summary.node === filter.node)
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
      .slice(0, filter.limit);
  }

  /** The operations this process is running now. */
  running(): string[] {
    return [...this.runs.keys()].map((name) => {
      const tracked = this.tracked.get(name) as Tracked;
      return operationIdOf(tracked.workflow, name);
    });
  }

  /**
   * Refuses new starts and stops every running execution at its next step (its failure path rolls back and
   * releases its locks); resolves with how each ended. `stopNow` meanwhile aborts them at once.
   */
  async stop(reason: string): Promise<EndedOperation[]> {
    this.graceful.abort(reason);
    const names = [...this.runs.keys()];
    const results = await Promise.all(names.map((name) => this.runs.get(name) as Promise<WorkflowResult>));
    return names.map((name, i) => ended(this.tracked.get(name) as Tracked, results[i]));
  }

  /** Aborts every running execution at once: no rollback; their records say ABORTED. */
  stopNow(reason: string): void {
    this.immediate.abort(reason);
  }
}

function ended(tracked: Tracked, result: WorkflowResult): EndedOperation {
  return {
    operationId: operationIdOf(tracked.workflow, tracked.name),
    status: result.status,
    error: result.error,
    ...(result.stop && { stop: result.stop }),
  };
}

function isApiWorkflow(workflow: string): workflow is WorkflowName {
  return (WORKFLOWS as readonly string[]).includes(workflow);
}

/** Task states of the execution itself (a Lambda step or a child workflow), as Step Functions' history lists them. */
function recordStep(tracked: Tracked, event: WorkflowEvent): void {
  if (!event.state) return;
  const at = new Date(event.timestamp).toISOString();
  if (event.type === 'StateEntered') tracked.currentStep = event.state;
  if (event.stateType !== 'Task') return;
  const open = [...tracked.steps].reverse().find((step) => step.step === event.state && step.endedAt === null);
  switch (event.type) {
    case 'StateEntered':
      tracked.steps.push({ step: event.state, startedAt: at, endedAt: null, durationMs: null, status: 'RUNNING' });
      return;
    case 'StateExited':
    case 'StateFailed':
      if (!open) return;
      open.endedAt = at;
      open.durationMs = event.timestamp - Date.parse(open.startedAt);
      open.status = event.type === 'StateExited' ? 'SUCCEEDED' : 'FAILED';
      return;
    case 'StateRetried': {
      // the runtime fails the attempt, then retries it without entering the state again: it runs on
      const retried = [...tracked.steps].reverse().find((step) => step.step === event.state);
      if (retried) Object.assign(retried, { endedAt: null, durationMs: null, status: 'RUNNING' });
      return;
    }
    default:
      return;
  }
}

function summaryOfTracked(tracked: Tracked): OperationSummary {
  return {
    operationId: operationIdOf(tracked.workflow, tracked.name),
    workflow: tracked.workflow,
    status: tracked.result?.status ?? 'RUNNING',
    ...subjectOf(tracked.workflow, tracked.input),
    startedAt: tracked.startedAt,
    stoppedAt: tracked.stoppedAt ?? null,
  };
}

function describeTracked(tracked: Tracked): Operation {
  const result = tracked.result;
  return {
    ...summaryOfTracked(tracked),
    currentStep: result ? null : tracked.currentStep,
    steps: tracked.steps.map((step) => ({ ...step })),
    output: result?.status === 'SUCCEEDED' ? result.output : null,
    error: result?.error ?? null,
  };
}

function summaryOfRecord(record: ExecutionRecord, workflow: WorkflowName): OperationSummary {
  return {
    operationId: operationIdOf(workflow, record.name),
    workflow,
    status: statusOfRecord(record),
    ...subjectOf(workflow, record.input),
    startedAt: record.startedAt,
    stoppedAt: record.stoppedAt ?? null,
  };
}

/** A record still RUNNING whose process died is no longer running (its locks are free); a retry continues it. */
function statusOfRecord(record: ExecutionRecord): OperationStatus {
  if (record.status !== 'RUNNING') return record.status;
  return isProcessAlive(record.pid) ? 'RUNNING' : 'ABORTED';
}

function outcomeOfRecord(record: ExecutionRecord): Pick<Operation, 'output' | 'error'> {
  if (statusOfRecord(record) === 'ABORTED' && record.status === 'RUNNING') {
    return {
      output: null,
      error: {
        name: 'ExecutionAbandoned',
        message: `the process running it (pid ${record.pid}) ended before it did; the same request continues it`,
      },
    };
  }
  return {
    output: record.result?.status === 'SUCCEEDED' ? (record.result.output ?? null) : null,
    error: record.result?.error ?? null,
  };
}

/** The node and mode an input names, for lists and filters. */
function subjectOf(workflow: WorkflowName, input: unknown): { node: string | null; mode: string | null } {
  const fields = (input ?? {}) as { nodeName?: unknown; mode?: unknown };
  return {
    node: typeof fields.nodeName === 'string' ? fields.nodeName : null,
    mode: workflow === 'remove-node' ? (typeof fields.mode === 'string' ? fields.mode : 'remove') : null,
  };
}
