import './polyfills';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { isStepName, STEPS, type StepName } from '../functions/registry';
import { listAslFiles, pascalCase, placeholdersOf, readAslFile, substitute } from '../lib/asl';

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
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output: unknown;
  readonly error: { readonly name: string; readonly message: string } | null;
  readonly events: WorkflowEvent[];
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
  /** called for every event as it happens (progress views) */
  readonly onEvent?: (event: WorkflowEvent) => void;
  /** receives the entries a workflow publishes to EventBridge */
  readonly onPublish?: (event: PublishedEvent) => void;
  /** replaces a step's handler (workflow tests); keyed by registry name */
  readonly handlers?: Partial<Record<StepName, StepHandler>>;
}

/**
 * Runs a workflow definition in-process with aws-local-stepfunctions. Every Lambda task is served by the handler
 * the CDK app deploys for that function (the shared registry), with Lambda's payload and error semantics;
 * `states:startExecution.sync` runs the other local workflow; `events:putEvents` is delivered to `onPublish`.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<WorkflowResult> {
  const events: WorkflowEvent[] = [];
  const record = (event: WorkflowEvent) => {
    events.push(event);
    options.onEvent?.(event);
  };
  const executionName = options.executionName ?? randomUUID();
  try {
    const output = await execute(options, executionName, record);
    return { status: 'SUCCEEDED', output, error: null, events };
  } catch (error) {
    return { status: 'FAILED', output: null, error: describeFailure(error), events };
  }
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

async function execute(
  options: RunWorkflowOptions,
  executionName: string,
  record: (event: WorkflowEvent) => void,
): Promise<unknown> {
  const asl = readAslFile(options.workflow);
  const definition = JSON.parse(substitute(asl.text, localSubstitutions(asl.text))) as StateMachineDefinition;
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const tasks = taskStates(definition);
  const overrides: RunOptions['overrides'] = {
    taskResourceLocalHandlers: Object.fromEntries(
      tasks.map((task) => [task.name, serveTask(task, options, executionName, record)]),
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
        Id: `${localStateMachineArn(options.workflow).replace(':stateMachine:', ':execution:')}:${executionName}`,
        Name: executionName,
        Input: options.input as JSONValue,
        StartTime: new Date().toISOString(),
      },
      StateMachine: { Id: localStateMachineArn(options.workflow), Name: `${STATE_MACHINE_PREFIX}-${options.workflow}` },
    },
  });
  const streaming = (async () => {
    for await (const event of execution.eventLogs) record(toWorkflowEvent(options.workflow, executionName, event));
  })();
  try {
    return await execution.result;
  } finally {
    await streaming;
  }
}

interface TaskSpec {
  readonly name: string;
  readonly resource: string;
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
    .map(([name, state]) => ({ name, resource: String(state.Resource) }));
}

function waitStates(definition: StateMachineDefinition): string[] {
  return statesOf(definition)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => name);
}

function serveTask(
  task: TaskSpec,
  options: RunWorkflowOptions,
  executionName: string,
  record: (event: WorkflowEvent) => void,
): TaskHandler {
  switch (task.resource) {
    case 'arn:aws:states:::lambda:invoke':
      return (input) => invokeLambda(input as { FunctionName: string; Payload: unknown }, options.handlers);
    case 'arn:aws:states:::states:startExecution.sync:2':
      return (input) => startChildExecution(input as unknown as ChildExecutionInput, options, executionName, record);
    case 'arn:aws:states:::events:putEvents':
      return async (input) => publish(input as unknown as { Entries: PutEventsEntry[] }, options.onPublish);
    default:
      throw new Error(`state "${task.name}": the local runtime does not serve ${task.resource}`);
  }
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
  record: (event: WorkflowEvent) => void,
): Promise<JSONValue> {
  const child = listAslFiles().find((asl) => localStateMachineArn(asl.name) === input.StateMachineArn);
  if (!child) throw new Error(`no local workflow for ${input.StateMachineArn}`);
  // Step Functions names an unnamed child uniquely; parallel children (a Map) must not share a name or lock holder.
  const name = input.Name ?? `${parentName}-${child.name}-${randomUUID().slice(0, 8)}`;
  const executionArn = `${input.StateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const childInput = typeof input.Input === 'string' ? JSON.parse(input.Input) : (input.Input ?? {});
  const result = await runWorkflow({
    ...options,
    workflow: child.name,
    input: childInput,
    executionName: name,
    onEvent: record,
  });
  if (result.status === 'FAILED') {
    const failure = new Error(
      JSON.stringify({
        ExecutionArn: executionArn,
        Status: 'FAILED',
        Error: result.error?.name,
        Cause: result.error?.message,
      }),
    );
    failure.name = 'States.TaskFailed';
    throw failure;
  }
  return { ExecutionArn: executionArn, Status: 'SUCCEEDED', Output: result.output as JSONValue, Name: name };
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
