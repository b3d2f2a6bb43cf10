import './polyfills';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { isStepName, STEPS, type StepName } from '../functions/registry';
import {
  currentEnvironment,
  readSettings,
  runWithEnvironment,
  settingsEnvironment,
} from '../functions/shared/settings';
import { fillSettings, listAslFiles, pascalCase, placeholdersOf, readAslFile, substitute } from '../lib/asl';
import {
  type CallbackLease,
  COMMAND_EVENTS_ENV,
  commandWaitKeyOf,
  isEventFor,
  openCallbacks,
  taskTokens,
} from './callbacks';
import { CALLBACK_TIMEOUT_MESSAGE } from './callbacks/timeout';
import { EXECUTIONS_DIR_ENV, ExecutionRegistry, processExecutionsDir } from './executions';

type JSONValue = Parameters<StateMachine['run']>[0];
type TaskHandler = (input: JSONValue) => Promise<JSONValue>;

/** A Lambda handler as the registry's modules export it. */
export type StepHandler = (event: unknown) => Promise<unknown>;

const REPO_ROOT = join(__dirname, '..');
const ACCOUNT = '000000000000';
const REGION = 'local';
const STATE_MACHINE_PREFIX = 'edgekeeper';

/** One entry of a run's event log, as the CLI prints it under `--json`. */
export interface WorkflowEvent {
  readonly type: string;
  /** the workflow the event belongs to (nested `.sync` executions report their own name) */
  readonly workflow: string;
  /** the execution it belongs to: tells a nested run of the same workflow from its parent */
  readonly execution: string;
  readonly state?: string;
  /** Task, Choice, Pass, Wait, … */
  readonly stateType?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** milliseconds since the epoch */
  readonly timestamp: number;
}

/** How one execution ended: the shape of `edgekeeper … --json`. */
export interface WorkflowResult {
  /** ABORTED: stopped on request (a signal), after its failure path ran or, on a second request, at once */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly output: unknown;
  readonly error: { readonly name: string; readonly message: string } | null;
  /** this run's events; empty when the name had already run (`execution.replayed`) */
  readonly events: WorkflowEvent[];
  readonly execution?: ExecutionSummary;
  /** set when a stop was requested during the run */
  readonly stop?: StopReport;
}

/** Which execution a result belongs to, and whether this call ran it. */
export interface ExecutionSummary {
  readonly name: string;
  readonly arn: string;
  /** the name had already run to an end: this is that run's result and nothing ran now */
  readonly replayed: boolean;
  /** how many times this execution was continued after the process running it died */
  readonly resumed: number;
  /** the execution record, `<executionsDir>/<name>.json` */
  readonly record: string;
}

/** What happened after a stop was asked for. */
export interface StopReport {
  readonly reason: string;
  /** `graceful`: stopped at a safe point, the workflow's failure path ran; `immediate`: aborted at once */
  readonly mode: 'graceful' | 'immediate';
  /** the state the workflow was about to run when it stopped (graceful only) */
  readonly before?: string;
  /** the Lambda and child-workflow steps that ran after the stop, in order: its rollback and lock release */
  readonly afterwards: { readonly state: string; readonly ok: boolean }[];
}

/** Raised into the workflow at a safe point after a stop was asked for; the workflow's Catch handles it. */
export class ExecutionStoppedError extends Error {
  override readonly name = 'ExecutionStopped';
}

/** What a test hook sees of a task about to run or just run. */
export interface TaskContext {
  readonly workflow: string;
  readonly execution: string;
  readonly state: string;
}

/** An EventBridge entry a workflow published (`events:putEvents`), kept locally. */
export interface PublishedEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly eventBusName: string;
}

export interface RunWorkflowOptions {
  /** workflow name: `statemachine/<name>.asl.json` */
  readonly workflow: string;
  readonly input: unknown;
  /** the execution name; also the operation id the steps see. @default a random UUID */
  readonly executionName?: string;
  /**
   * `real` waits as long as the ASL says; `compressed` shortens every Wait state and retry interval to
   * `compressedWaitMs`, for tests and demos: the steps still see real time pass, only the pauses are short.
   * @default 'real'
   */
  readonly waits?: 'real' | 'compressed';
  /** @default 100 */
  readonly compressedWaitMs?: number;
  /**
   * With compressed waits, how long a `.waitForTaskToken` task waits for its callback before States.Timeout (never
   * longer than its TimeoutSeconds). That timeout is the fallback for an event that never comes: where events can
   * come (the environment names the sandbox's event stream) it stays as the ASL says, as deployed; where none can
   * (workflow tests with stub handlers), it is compressed like any pause.
   * @default the state's TimeoutSeconds with an event stream, else `compressedWaitMs`
   */
  readonly compressedCallbackTimeoutMs?: number;
  /** called for every event as it happens (progress views) */
  readonly onEvent?: (event: WorkflowEvent) => void;
  /** receives the entries a workflow publishes to EventBridge */
  readonly onPublish?: (event: PublishedEvent) => void;
  /** replaces a step's handler (workflow tests); keyed by registry name */
  readonly handlers?: Partial<Record<StepName, StepHandler>>;
  /**
   * The execution registry (see local/executions.ts). Names are unique within it: a name that already ran returns
   * that run's result. The CLI always passes one.
   * @default $EDGEKEEPER_LOCAL_EXECUTIONS_DIR, else a fresh registry for this call only (workflow tests)
   */
  readonly executionsDir?: string;
  /** the environment the handlers read their settings from; the runtime adds EDGEKEEPER_LOCAL_EXECUTIONS_DIR */
  readonly environment?: Record<string, string>;
  /**
   * Asks the run to stop: at the next Lambda or child-workflow step that is not part of a failure path, the
   * runtime raises ExecutionStopped into the workflow, whose Catch rolls back and releases the lock. Nothing is
   * stopped mid-step. A second abort (`stopNow`) aborts at once.
   */
  readonly signal?: AbortSignal;
  /** aborts the run at once, between nothing: the record says ABORTED and locks stay until their holder is seen gone */
  readonly stopNow?: AbortSignal;
  /** fault-injection hooks: called before a task's handler runs and after it returned, before the engine sees it */
  readonly hooks?: {
    readonly beforeTask?: (task: TaskContext) => void | Promise<void>;
    readonly afterTask?: (task: TaskContext) => void | Promise<void>;
  };
}

/** What one run (a root execution and its children) shares. */
interface RunControl {
  readonly registry: ExecutionRegistry;
  readonly environment: Record<string, string>;
  stopReason?: string;
  stopMode?: 'graceful' | 'immediate';
  stoppedBefore?: { execution: string; state: string };
  readonly afterwards: { state: string; ok: boolean }[];
  readonly aborts: Set<() => void>;
}

/** One execution's view of the run. */
interface ExecutionScope {
  readonly name: string;
  /** started from a failure path (a rollback child): stops never interrupt its steps */
  readonly failurePath: boolean;
}

/**
 * Runs a workflow definition in-process with aws-local-stepfunctions. Every Lambda task is served by the handler
 * the CDK app deploys for that function (the shared registry), with Lambda's payload and error semantics;
 * `states:startExecution.sync` runs the other local workflow; `events:putEvents` is delivered to `onPublish`;
 * `lambda:invoke.waitForTaskToken` waits for a callback on the process's Step Functions endpoint (local/callbacks).
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowResult> {
  // without a registry of its own, a run gets a fresh one: names are unique only within that run (its children)
  const executionsDir =
    options.executionsDir ?? process.env[EXECUTIONS_DIR_ENV] ?? join(processExecutionsDir(), randomUUID());
  const control: RunControl = {
    registry: new ExecutionRegistry(executionsDir),
    environment: { ...(options.environment ?? {}), [EXECUTIONS_DIR_ENV]: executionsDir },
    afterwards: [],
    aborts: new Set(),
  };
  const onStop = () => {
    control.stopReason ??= String(options.signal?.reason ?? 'stop requested');
    control.stopMode ??= 'graceful';
  };
  const onStopNow = () => {
    control.stopReason = String(options.stopNow?.reason ?? options.signal?.reason ?? 'stop requested');
    control.stopMode = 'immediate';
    for (const abort of control.aborts) abort();
  };
  if (options.signal?.aborted) onStop();
  options.signal?.addEventListener('abort', onStop, { once: true });
  options.stopNow?.addEventListener('abort', onStopNow, { once: true });
  try {
    return await withHandlerEnvironment(control.environment, () =>
      runExecution(options, options.executionName ?? randomUUID(), control, false),
    );
  } finally {
    options.signal?.removeEventListener('abort', onStop);
    options.stopNow?.removeEventListener('abort', onStopNow);
  }
}

/**
 * Gives the handlers their environment through AsyncLocalStorage: the shell's variables overlaid with the run's,
 * for everything the run awaits, without touching process.env.
 */
function withHandlerEnvironment<T>(environment: Record<string, string>, run: () => Promise<T>): Promise<T> {
  return runWithEnvironment({ ...process.env, ...environment }, run);
}

/** Registers, runs (or replays) and records one execution. */
async function runExecution(
  options: RunWorkflowOptions,
  executionName: string,
  control: RunControl,
  startedInFailurePath: boolean,
): Promise<WorkflowResult> {
  const arn = executionArn(options.workflow, executionName);
  const claim = await control.registry.start({
    name: executionName,
    arn,
    workflow: options.workflow,
    input: options.input ?? null,
  });
  const summary = (replayed: boolean): ExecutionSummary => ({
    name: executionName,
    arn,
    replayed,
    resumed: claim.record.resumed,
    record: join(control.registry.dir, `${executionName}.json`),
  });
  if (claim.kind === 'ended') {
    const { status, output, error } = claim.record.result;
    const ended = status === 'RUNNING' ? 'ABORTED' : status;
    return { status: ended, output, error, events: [], execution: summary(true) };
  }
  const events: WorkflowEvent[] = [];
  const scope: ExecutionScope = { name: executionName, failurePath: startedInFailurePath };
  const record = (event: WorkflowEvent) => {
    events.push(event);
    options.onEvent?.(event);
  };
  let result: WorkflowResult;
  try {
    const output = await execute(options, scope, control, record);
    result = { status: 'SUCCEEDED', output, error: null, events };
  } catch (error) {
    const failure = describeFailure(error);
    // ABORTED only when the stop is what ended it; a failure of its own, while a stop waited, stays FAILED
    const stopped = control.stoppedBefore !== undefined || control.stopMode === 'immediate';
    result = { status: stopped ? 'ABORTED' : 'FAILED', output: null, error: failure, events };
  }
  await control.registry.finish(executionName, result);
  return { ...result, execution: summary(false), ...(control.stopReason && { stop: stopReport(control) }) };
}

function stopReport(control: RunControl): StopReport {
  return {
    reason: control.stopReason ?? '',
    mode: control.stopMode ?? 'graceful',
    ...(control.stoppedBefore && { before: control.stoppedBefore.state }),
    afterwards: [...control.afterwards],
  };
}

/** Every state name of a workflow, nested ones included, in definition order: what fault tests iterate over. */
export function workflowStates(workflow: string): { name: string; type: string }[] {
  const definition = localDefinition(workflow, process.env);
  return statesOf(definition).map(([name, state]) => ({ name, type: String(state.Type) }));
}

/**
 * Does ahead of time what a workflow's first run in this process would do first: loads the handlers of its Lambda
 * steps and of the workflows it starts, and validates their definitions (for `environment`, as runWorkflow's).
 * Yields to the event loop between modules, so that it can overlap work that waits on other processes: the demo
 * prepares its workflows while the sandbox's hosts start.
 */
export async function prepareWorkflow(workflow: string, environment: Record<string, string> = {}): Promise<void> {
  const workflows = listAslFiles().map((asl) => asl.name);
  const definitionOf = (name: string) => localDefinition(name, { ...process.env, ...environment });
  // validated in a worker thread while this one loads the handlers; if the worker fails, stateMachineOf validates
  const validating = validateAside(withChildren(workflow, workflows).map(definitionOf)).catch(() => undefined);
  const prepared = new Set<string>();
  const prepare = async (name: string) => {
    if (prepared.has(name)) return;
    prepared.add(name);
    for (const placeholder of placeholdersOf(readAslFile(name).text)) {
      const step = placeholder.match(/^(\w+)FunctionArn$/)?.[1];
      const child = workflows.find((other) => `${pascalCase(other)}StateMachineArn` === placeholder);
      if (step && isStepName(step)) await loadHandler(step);
      else if (child) await prepare(child);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await validating;
    stateMachineOf(definitionOf(name));
  };
  await prepare(workflow);
}

/** `workflow` and the workflows it starts, theirs too. */
function withChildren(workflow: string, workflows: readonly string[]): string[] {
  const names = [workflow];
  for (const name of names) {
    for (const placeholder of placeholdersOf(readAslFile(name).text)) {
      const child = workflows.find((other) => `${pascalCase(other)}StateMachineArn` === placeholder);
      if (child && !names.includes(child)) names.push(child);
    }
  }
  return names;
}

function executionArn(workflow: string, name: string): string {
  return `${localStateMachineArn(workflow).replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The ARN a workflow has locally; `.sync` tasks find their child workflow by it. */
export function localStateMachineArn(workflow: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_PREFIX}-${workflow}`;
}

function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STATE_MACHINE_PREFIX}-${name}`;
}

/** The substitutions CDK would provide, with local ARNs. */
export function localSubstitutions(text: string): Record<string, string> {
  const workflows = listAslFiles().map((asl) => asl.name);
  const values: Record<string, string> = {};
  for (const placeholder of placeholdersOf(text)) {
    const fn = placeholder.match(/^(\w+)FunctionArn$/)?.[1];
    const workflow = workflows.find((name) => `${pascalCase(name)}StateMachineArn` === placeholder);
    if (fn && isStepName(fn)) values[placeholder] = localFunctionArn(fn);
    else if (workflow) values[placeholder] = localStateMachineArn(workflow);
    else if (placeholder === 'EventBusName') values[placeholder] = `${STATE_MACHINE_PREFIX}-events`;
    else throw new Error(`no local substitution for \${${placeholder}}`);
  }
  return values;
}

/** A workflow's definition as it runs locally: time limits from the settings of `environment`, local ARNs. */
function localDefinition(workflow: string, environment: NodeJS.ProcessEnv): StateMachineDefinition {
  const text = fillSettings(readAslFile(workflow).text, readSettings(environment));
  return withTaskTimeouts(JSON.parse(substitute(text, localSubstitutions(text))) as StateMachineDefinition);
}

/**
 * The time limit of a Task that states none. Step Functions lets such a task run as long as its execution may;
 * the engine would fail it after 60 s (the States Language spec's default), so a batch's child onboarding that
 * took longer (a slow download, a loaded machine) failed its iteration with States.Timeout while it ran on. This is
 * the longest delay Node's timers take (2^31 - 1 ms, 24.8 days): a longer one would fire at once.
 */
export const UNSTATED_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Gives every Task state without TimeoutSeconds or TimeoutSecondsPath {@link UNSTATED_TASK_TIMEOUT_SECONDS}. */
export function withTaskTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  for (const [, state] of statesOf(definition)) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = UNSTATED_TASK_TIMEOUT_SECONDS;
    }
  }
  return definition;
}

/** The definitions this process has validated already, as JSON text. */
const validDefinitions = new Set<string>();

/** Runs asl-validator as the StateMachine constructor does (same options) and answers whether each one is valid. */
const VALIDATOR_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const validate = require(workerData.validator);
parentPort.postMessage(workerData.definitions.map((d) => validate(d, { checkArn: true, checkPaths: true }).isValid));
`;

/**
 * Validates definitions in a worker thread and records the valid ones for stateMachineOf, which then skips them (an
 * invalid one is left to it: it throws the constructor's own error). Compiling asl-validator's schemas takes a few
 * hundred ms per definition: in a worker, prepareWorkflow spends them beside what it overlaps (the demo's sandbox
 * start) instead of on this thread.
 */
async function validateAside(definitions: readonly StateMachineDefinition[]): Promise<void> {
  const pending = definitions.filter((definition) => !validDefinitions.has(JSON.stringify(definition)));
  if (pending.length === 0) return;
  const validator = require.resolve('asl-validator', { paths: [require.resolve('aws-local-stepfunctions')] });
  const verdicts = await new Promise<boolean[]>((resolve, reject) => {
    const worker = new Worker(VALIDATOR_WORKER, { eval: true, workerData: { validator, definitions: pending } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ASL validator's worker exited with ${code}`)));
  });
  pending.forEach((definition, i) => {
    if (verdicts[i] === true) validDefinitions.add(JSON.stringify(definition));
  });
}

/**
 * The state machine of a definition, validated the first time this process runs it: asl-validator compiles its JSON
 * schemas on every call (a few hundred ms), and a demo or a batch runs the same definitions again and again.
 */
function stateMachineOf(definition: StateMachineDefinition): StateMachine {
  const text = JSON.stringify(definition);
  const machine = new StateMachine(definition, {
    validationOptions: validDefinitions.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  // reached only when valid: the constructor throws otherwise
  validDefinitions.add(text);
  return machine;
}

async function execute(
  options: RunWorkflowOptions,
  scope: ExecutionScope,
  control: RunControl,
  record: (event: WorkflowEvent) => void,
): Promise<unknown> {
  // the steps' timeout settings decide the workflow's own time limit, as CDK does at synth time
  const definition = localDefinition(options.workflow, { ...process.env, ...control.environment });
  const machine = stateMachineOf(definition);
  const tasks = taskStates(definition);
  const stoppable = stopPoints(definition, PERSON_WAITS[options.workflow]);
  const overrides: RunOptions['overrides'] = {
    taskResourceLocalHandlers: Object.fromEntries(
      tasks.map((task) => [task.name, serveTask(task, options, scope, control, record, stoppable.has(task.name))]),
    ),
  };
  if (options.waits === 'compressed') {
    const pause = options.compressedWaitMs ?? 100;
    overrides.waitTimeOverrides = Object.fromEntries(waitStates(definition).map((name) => [name, pause]));
    overrides.retryIntervalOverrides = Object.fromEntries(tasks.map((task) => [task.name, pause]));
  }
  const execution = machine.run(options.input as JSONValue, {
    overrides,
    context: {
      Execution: {
        Id: executionArn(options.workflow, scope.name),
        Name: scope.name,
        Input: options.input as JSONValue,
        StartTime: new Date().toISOString(),
      },
      StateMachine: { Id: localStateMachineArn(options.workflow), Name: `${STATE_MACHINE_PREFIX}-${options.workflow}` },
      // every visit of a `.waitForTaskToken` task replaces this with a fresh token (see waitForTaskToken)
      Task: { Token: TASK_TOKEN_PLACEHOLDER },
    },
  });
  control.aborts.add(execution.abort);
  if (control.stopMode === 'immediate') execution.abort();
  const streaming = (async () => {
    for await (const event of execution.eventLogs) record(toWorkflowEvent(options.workflow, scope.name, event));
  })();
  try {
    return await execution.result;
  } finally {
    control.aborts.delete(execution.abort);
    await streaming;
  }
}

interface TaskSpec {
  readonly name: string;
  readonly resource: string;
  readonly timeoutSeconds?: number;
}

function statesOf(definition: StateMachineDefinition): [string, Record<string, unknown>][] {
  const all: [string, Record<string, unknown>][] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    all.push([name, state as unknown as Record<string, unknown>]);
    const nested = [
      ...((state as { Branches?: StateMachineDefinition[] }).Branches ?? []),
      (state as { ItemProcessor?: StateMachineDefinition }).ItemProcessor,
      (state as { Iterator?: StateMachineDefinition }).Iterator,
    ];
    for (const child of nested) if (child) all.push(...statesOf(child));
  }
  return all;
}

function taskStates(definition: StateMachineDefinition): TaskSpec[] {
  return statesOf(definition)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name, state]) => ({
      name,
      resource: String(state.Resource),
      ...(typeof state.TimeoutSeconds === 'number' && { timeoutSeconds: state.TimeoutSeconds }),
    }));
}

/**
 * Polling-loop states that wait for a person, not for work in flight: the manual join waits for someone to paste
 * the command, up to its 30-minute timeout. A stop lands there at once (the failure path then removes what the
 * manual join registered and releases the lock) instead of being deferred until the loop ends.
 */
const PERSON_WAITS: Readonly<Record<string, readonly string[]>> = {
  'onboard-node': ['Check the manual join'],
};

/**
 * The states where a stop may land: those reachable from StartAt without taking a Catch (the forward path; Catch
 * targets and what follows them are the failure path), minus the states of polling loops (Wait → Check → Choice),
 * which wait for work in flight, such as a script on a host: a stop there is deferred until the loop is done.
 * `waitingForPeople` names loop states that are stop points anyway. Nested Parallel branches and Map processors
 * count on their own.
 */
export function stopPoints(definition: StateMachineDefinition, waitingForPeople: readonly string[] = []): Set<string> {
  const points = new Set<string>();
  const visit = (machine: StateMachineDefinition) => {
    const states = machine.States as unknown as Record<string, Record<string, unknown>>;
    const next = (name: string): string[] => {
      const state = states[name];
      const choices = (state.Choices as { Next: string }[] | undefined) ?? [];
      return [state.Next, state.Default, ...choices.map((c) => c.Next)].filter(
        (n): n is string => typeof n === 'string' && n in states,
      );
    };
    const forward = new Set<string>();
    const queue = [machine.StartAt];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (forward.has(name) || !states[name]) continue;
      forward.add(name);
      queue.push(...next(name));
      const state = states[name];
      const nested = [
        ...((state.Branches as StateMachineDefinition[] | undefined) ?? []),
        state.ItemProcessor as StateMachineDefinition | undefined,
        state.Iterator as StateMachineDefinition | undefined,
      ];
      for (const child of nested) if (child) visit(child);
    }
    // a state is in a loop when it can reach itself again
    const reaches = (from: string, target: string): boolean => {
      const seen = new Set<string>();
      const stack = next(from);
      while (stack.length > 0) {
        const name = stack.pop() as string;
        if (name === target) return true;
        if (seen.has(name)) continue;
        seen.add(name);
        stack.push(...next(name));
      }
      return false;
    };
    for (const name of forward) if (!reaches(name, name) || waitingForPeople.includes(name)) points.add(name);
  };
  visit(definition);
  return points;
}

function waitStates(definition: StateMachineDefinition): string[] {
  return statesOf(definition)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => name);
}

function serveTask(
  task: TaskSpec,
  options: RunWorkflowOptions,
  scope: ExecutionScope,
  control: RunControl,
  record: (event: WorkflowEvent) => void,
  isStopPoint: boolean,
): TaskHandler {
  // a failure path (rollback, lock release) always runs to its end
  const stoppable = isStopPoint && !scope.failurePath;
  const context: TaskContext = { workflow: options.workflow, execution: scope.name, state: task.name };
  let serve: TaskHandler;
  switch (task.resource) {
    case 'arn:aws:states:::lambda:invoke':
      serve = (input) => invokeLambda(input as { FunctionName: string; Payload: unknown }, options.handlers);
      break;
    case 'arn:aws:states:::lambda:invoke.waitForTaskToken':
      serve = (input) => waitForTaskToken(input as { FunctionName: string; Payload: unknown }, task, options, control);
      break;
    case 'arn:aws:states:::states:startExecution.sync:2':
      serve = (input) =>
        startChildExecution(input as unknown as ChildExecutionInput, options, scope.name, !stoppable, control, record);
      break;
    case 'arn:aws:states:::events:putEvents':
      // publishing only reports what happened: never a point to stop at, but a crash can still hit it
      return async (input) => {
        await options.hooks?.beforeTask?.(context);
        const output = await publish(input as unknown as { Entries: PutEventsEntry[] }, options.onPublish);
        await options.hooks?.afterTask?.(context);
        return output;
      };
    default:
      throw new Error(`state "${task.name}": the local runtime does not serve ${task.resource}`);
  }
  return async (input) => {
    if (stoppable && control.stopReason && control.stopMode === 'graceful') {
      control.stoppedBefore ??= { execution: scope.name, state: task.name };
      throw new ExecutionStoppedError(`stopped on ${control.stopReason} before "${task.name}"`);
    }
    await options.hooks?.beforeTask?.(context);
    const afterStop = Boolean(control.stopReason);
    try {
      const output = await serve(input);
      await options.hooks?.afterTask?.(context);
      if (afterStop) noteAfterStop(control, task.name, true);
      return output;
    } catch (error) {
      if (afterStop) noteAfterStop(control, task.name, false);
      throw error;
    }
  };
}

/** A step that ran after a stop; a polling step run again updates its entry instead of adding one. */
function noteAfterStop(control: RunControl, state: string, ok: boolean): void {
  const last = control.afterwards.at(-1);
  if (last?.state === state) last.ok = ok;
  else control.afterwards.push({ state, ok });
}

/** Lambda's semantics: a JSON round trip of payload and result, and failures named by the error's name. */
async function invokeLambda(
  { FunctionName, Payload }: { FunctionName: string; Payload: unknown },
  replacements: RunWorkflowOptions['handlers'],
): Promise<JSONValue> {
  const name = FunctionName.split(':').pop()?.replace(`${STATE_MACHINE_PREFIX}-`, '') ?? '';
  if (!isStepName(name)) throw new Error(`no step function ${FunctionName}`);
  const handler = replacements?.[name] ?? (await loadHandler(name));
  try {
    const result = await handler(JSON.parse(JSON.stringify(Payload ?? null)) as JSONValue);
    return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(result ?? null)) as JSONValue };
  } catch (error) {
    throw new LambdaFunctionError(error);
  }
}

/** What `$$.Task.Token` reads in the engine; never leaves the runtime (the handler gets the visit's real token). */
const TASK_TOKEN_PLACEHOLDER = '<the task token of this visit>';

/** The task's own TimeoutSeconds, compressed when the waits are (see `compressedCallbackTimeoutMs`). */
function callbackTimeoutMs(task: TaskSpec, options: RunWorkflowOptions, eventsFlow: boolean): number {
  // withTaskTimeouts gave every task a TimeoutSeconds; the fallback is the same longest timer Node keeps
  const stated = (task.timeoutSeconds ?? UNSTATED_TASK_TIMEOUT_SECONDS) * 1000;
  if (options.waits !== 'compressed') return stated;
  const compressed = options.compressedCallbackTimeoutMs ?? (eventsFlow ? stated : (options.compressedWaitMs ?? 100));
  return Math.min(stated, compressed);
}

/** The task timed out before its token came back: Step Functions' name, which the workflow's Catch matches. */
class StatesTimeoutError extends Error {
  override readonly name = 'States.Timeout';
}

/**
 * `lambda:invoke.waitForTaskToken`: a fresh token for this visit, the Lambda invoked with it (the handler gets the
 * local Step Functions endpoint in its environment), then the task waits for SendTaskSuccess / SendTaskFailure on
 * that token, or fails with States.Timeout. While it waits, the events of the sandbox named by the run's environment
 * for the command and host its payload names go to the ResumeOnCommandEvent step, as the deployed EventBridge rule
 * sends them; the others are another process's, or nobody's (see openCallbacks).
 */
async function waitForTaskToken(
  input: { FunctionName: string; Payload: unknown },
  task: TaskSpec,
  options: RunWorkflowOptions,
  control: RunControl,
): Promise<JSONValue> {
  const environment = currentEnvironment();
  const eventsUrl = environment[COMMAND_EVENTS_ENV];
  const waitsFor = commandWaitKeyOf(input.Payload);
  const timeoutMs = callbackTimeoutMs(task, options, Boolean(eventsUrl && waitsFor));
  // subscribed before the handler runs: an event from then on is delivered, and one before it the handler sees.
  // An event can come while the subscription opens, with the stream's first bytes: it waits for the lease.
  let leasing: Promise<CallbackLease> | undefined;
  const deliver = (event: unknown) =>
    void leasing?.then((opened) => deliverEvent(event, handlerEnv(opened), options.handlers));
  leasing = openCallbacks(
    eventsUrl && waitsFor ? { url: eventsUrl, wants: (event) => isEventFor(waitsFor, event), deliver } : undefined,
  );
  const lease = await leasing;
  function handlerEnv(opened: CallbackLease): NodeJS.ProcessEnv {
    return { ...environment, ...settingsEnvironment({ stepFunctionsEndpoint: opened.endpoint }) };
  }
  const wait = taskTokens.issue();
  let timer: NodeJS.Timeout | undefined;
  let abort = () => {};
  try {
    const payload = withToken(input.Payload, wait.token);
    await runWithEnvironment(handlerEnv(lease), () => invokeLambda({ ...input, Payload: payload }, options.handlers));
    const ended = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StatesTimeoutError(CALLBACK_TIMEOUT_MESSAGE)), timeoutMs);
      // a run aborted at once lets go of the wait too, so nothing holds the process
      abort = () => reject(new ExecutionStoppedError('stopped while waiting for the task token'));
      control.aborts.add(abort);
      // an abort that came while the handler ran found no wait to let go of yet
      if (control.stopMode === 'immediate') abort();
    });
    return (await Promise.race([wait.result, ended])) as JSONValue;
  } finally {
    clearTimeout(timer);
    control.aborts.delete(abort);
    wait.close();
    await lease.release();
  }
}

/** The payload with the visit's token where `$$.Task.Token` was read. */
function withToken(value: unknown, token: string): unknown {
  if (value === TASK_TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withToken(item, token)]));
  }
  return value;
}

/**
 * One event to its target, as EventBridge invokes a Lambda asynchronously: nobody waits for the result, and a
 * failure is dropped (the waiting task's timeout covers a lost event).
 */
async function deliverEvent(
  event: unknown,
  environment: NodeJS.ProcessEnv,
  replacements: RunWorkflowOptions['handlers'],
): Promise<void> {
  try {
    const handler = replacements?.ResumeOnCommandEvent ?? (await loadHandler('ResumeOnCommandEvent'));
    await runWithEnvironment(environment, () => handler(event));
  } catch {
    // a failed target: the wait times out and the workflow polls
  }
}

async function loadHandler(name: StepName): Promise<StepHandler> {
  // require, not import(): the project is CommonJS and both tsx and jest hook require for .ts files.
  const module = require(join(REPO_ROOT, STEPS[name].entry)) as { handler?: StepHandler };
  if (typeof module.handler !== 'function') throw new Error(`${STEPS[name].entry} exports no handler`);
  return module.handler;
}

/**
 * A failed invocation as Step Functions reports it: `Error` is the thrown error's name and `Cause` is the JSON
 * Lambda returns (`errorType`, `errorMessage`, `trace`), which ASL can read with `States.StringToJson`.
 */
class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    super(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
    this.name = name;
  }
}

interface ChildExecutionInput {
  readonly StateMachineArn: string;
  readonly Input?: unknown;
  readonly Name?: string;
}

/** `startExecution.sync:2`: run the child to completion; its output arrives parsed, its failure as TaskFailed. */
async function startChildExecution(
  input: ChildExecutionInput,
  options: RunWorkflowOptions,
  parentName: string,
  fromFailurePath: boolean,
  control: RunControl,
  record: (event: WorkflowEvent) => void,
): Promise<JSONValue> {
  const child = listAslFiles().find((asl) => localStateMachineArn(asl.name) === input.StateMachineArn);
  if (!child) throw new Error(`no local workflow for ${input.StateMachineArn}`);
  // Step Functions names an unnamed child uniquely; parallel children (a Map) must not share a name or lock holder.
  const name = input.Name ?? `${parentName}-${child.name}-${randomUUID().slice(0, 8)}`;
  const childArn = executionArn(child.name, name);
  const childInput = typeof input.Input === 'string' ? JSON.parse(input.Input) : (input.Input ?? {});
  // a child started from a Catch (a rollback) belongs to the failure path: a stop must not interrupt it
  const result = await runExecution(
    { ...options, workflow: child.name, input: childInput, executionName: name, onEvent: record },
    name,
    control,
    fromFailurePath,
  );
  if (result.status !== 'SUCCEEDED') {
    const failure = new Error(
      JSON.stringify({
        ExecutionArn: childArn,
        Status: result.status,
        Error: result.error?.name,
        Cause: result.error?.message,
      }),
    );
    failure.name = 'States.TaskFailed';
    throw failure;
  }
  return { ExecutionArn: childArn, Status: 'SUCCEEDED', Output: result.output as JSONValue, Name: name };
}

interface PutEventsEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: unknown;
  readonly EventBusName: string;
}

function publish({ Entries }: { Entries: PutEventsEntry[] }, onPublish: RunWorkflowOptions['onPublish']): JSONValue {
  for (const entry of Entries) {
    onPublish?.({
      source: entry.Source,
      detailType: entry.DetailType,
      detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail,
      eventBusName: entry.EventBusName,
    });
  }
  return { FailedEntryCount: 0, Entries: Entries.map(() => ({ EventId: randomUUID() })) };
}

type EngineEvent = Record<string, unknown> & { type: string; timestamp: number };

function toWorkflowEvent(workflow: string, execution: string, raw: unknown): WorkflowEvent {
  const event = raw as EngineEvent;
  const state = event.state as { name: string; type: string; input?: unknown; output?: unknown } | undefined;
  const base = { type: event.type, workflow, execution, timestamp: event.timestamp };
  const error = 'Error' in event ? { name: String(event.Error), message: causeMessage(event.Cause) } : undefined;
  if (state) {
    const { name, type, input, output } = state;
    return { ...base, state: name, stateType: type, input, output, ...(error && { error }) };
  }
  if (event.type === 'ExecutionStarted') return { ...base, input: event.input };
  if (event.type === 'ExecutionSucceeded') return { ...base, output: event.output };
  return { ...base, ...(error && { error }) };
}

function describeFailure(error: unknown): { name: string; message: string } {
  // aws-local-stepfunctions wraps the failure; its cause carries the Error/Cause pair of the execution.
  const cause = (error as { cause?: { name?: string; message?: string } }).cause;
  const name = cause?.name ?? (error instanceof Error ? error.name : 'Error');
  const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return { name, message: causeMessage(message) };
}

/** The human message inside a Cause: Lambda's JSON `errorMessage`, a child execution's cause, or the text itself. */
export function causeMessage(cause: unknown): string {
  if (typeof cause !== 'string') return cause === undefined ? '' : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; Cause?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (parsed.Cause !== undefined) return causeMessage(parsed.Cause);
  } catch {
    // not JSON: the cause is already a message
  }
  return cause;
}
