import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { TransientServiceError } from '../shared/errors';
import { redactSecrets } from '../shared/redact';
import { transportFailure } from '../shared/transport';
import {
  canonicalJson,
  EngineThrottledError,
  type ListFilter,
  type Operation,
  type OperationEvent,
  type OperationStatus,
  type OperationSummary,
  operationIdOf,
  parseOperationId,
  redactDeep,
  type StepTiming,
  sameInput,
  WORKFLOWS,
  type WorkflowEngine,
  type WorkflowName,
} from './engine';
import { childExecutionArns, mergedByTime, workflowEventsOf } from './sfn-events';

/*
 * The WorkflowEngine of a deployed stack: Step Functions. The execution name is the idempotency key, so a retried
 * StartExecution finds the first execution (ExecutionAlreadyExists), and DescribeExecution tells whether it had
 * the same input. An operation's description reads the history without execution data (it needs the states' names
 * and times); its event log (GET /operations/{id}/events) reads it with the data, as the CLI's --json shows it.
 */

type SfnCommand = StartExecutionCommand | DescribeExecutionCommand | GetExecutionHistoryCommand | ListExecutionsCommand;

/** The calls the engine makes; an SFNClient is one, and the tests hand in a fake. */
export interface SfnClient {
  // biome-ignore lint/suspicious/noExplicitAny: SFNClient's send is generic over every command's output
  send(command: SfnCommand): Promise<any>;
}

export interface SfnEngineOptions {
  /** the state machine ARN of each workflow */
  readonly stateMachines: Readonly<Record<WorkflowName, string>>;
  /**
   * at most this many pages of 1,000 history events per describe (a run has a few hundred); past them the steps
   * listed stop there, and the current step is read from the newest events @default 5
   */
  readonly maxHistoryPages?: number;
  /** at most this many pages of 100 executions per workflow when listing @default 2 */
  readonly maxListPages?: number;
  /** DescribeExecution calls in flight at once while listing @default 5 */
  readonly describeConcurrency?: number;
  /** at most this many child executions (`.sync` tasks) whose histories an event log includes @default 10 */
  readonly maxChildExecutions?: number;
}

/** What a listing needs from an execution's input: which node, which mode. Inputs never change, so it is cached. */
interface InputFacts {
  readonly node: string | null;
  readonly mode: string | null;
}

/** Bounds the cache of input facts of a warm Lambda. */
const MAX_CACHED_INPUTS = 5_000;

export function sfnEngine(client: SfnClient, options: SfnEngineOptions): WorkflowEngine {
  const maxHistoryPages = options.maxHistoryPages ?? 5;
  const maxListPages = options.maxListPages ?? 2;
  const concurrency = options.describeConcurrency ?? 5;
  const facts = new Map<string, InputFacts>();

  const executionArn = (workflow: WorkflowName, name: string) => executionArnOf(options.stateMachines[workflow], name);

  async function call<T>(command: SfnCommand, doing: string): Promise<T> {
    try {
      return (await client.send(command)) as T;
    } catch (error) {
      throw translateSfnError(error, doing);
    }
  }

  const describeArn = (arn: string) => describeExecution(client, arn);

  async function factsOf(arn: string): Promise<InputFacts | null> {
    const cached = facts.get(arn);
    if (cached) return cached;
    const described = await describeArn(arn);
    if (!described) return null;
    const found = inputFacts(workflowOfArn(arn), described.input);
    if (facts.size >= MAX_CACHED_INPUTS) facts.delete(facts.keys().next().value as string);
    facts.set(arn, found);
    return found;
  }

  /**
   * A child's workflow: one of the API's, else its state machine's name without the stack's prefix (state
   * machines are named `<stack>-<workflow>`, so the prefix is the onboard-node machine's name less its workflow).
   */
  function childWorkflowOf(arn: string): string {
    const known = WORKFLOWS.find((workflow) => arn.startsWith(executionArn(workflow, '')));
    if (known) return known;
    const onboard = options.stateMachines['onboard-node'];
    const prefix = onboard.slice(onboard.lastIndexOf(':') + 1).replace(/onboard-node$/, '');
    const machine = arn.split(':')[6] ?? '';
    return machine.startsWith(prefix) ? machine.slice(prefix.length) : machine;
  }

  function workflowOfArn(arn: string): WorkflowName {
    return WORKFLOWS.find((workflow) => arn.startsWith(executionArn(workflow, ''))) ?? 'onboard-node';
  }

  /**
   * The history's events in order, at most `maxHistoryPages` pages; past the cap, `tail` holds the newest events,
   * so that the current step is still known.
   */
  async function history(
    arn: string,
    includeExecutionData = false,
  ): Promise<{ events: HistoryEvent[]; tail?: HistoryEvent[] }> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxHistoryPages; page++) {
      const answer = await call<GetExecutionHistoryCommandOutput>(
        new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000, includeExecutionData, nextToken }),
        'reading an execution history',
      );
      events.push(...(answer.events ?? []));
      nextToken = answer.nextToken;
      if (!nextToken) return { events };
    }
    const newest = await call<GetExecutionHistoryCommandOutput>(
      new GetExecutionHistoryCommand({
        executionArn: arn,
        maxResults: 100,
        includeExecutionData: false,
        reverseOrder: true,
      }),
      'reading an execution history',
    );
    return { events, tail: newest.events ?? [] };
  }

  /** The executions of one workflow, newest first, at most `maxListPages` pages of 100. */
  async function listed(workflow: WorkflowName): Promise<{ workflow: WorkflowName; execution: ExecutionListItem }[]> {
    const found: ExecutionListItem[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxListPages; page++) {
      const answer = await call<ListExecutionsCommandOutput>(
        new ListExecutionsCommand({ stateMachineArn: options.stateMachines[workflow], maxResults: 100, nextToken }),
        'listing executions',
      );
      found.push(...(answer.executions ?? []));
      nextToken = answer.nextToken;
      if (!nextToken) break;
    }
    return found.map((execution) => ({ workflow, execution }));
  }

  return {
    async start({ workflow, name, input }) {
      const started = await startExecution(client, options.stateMachines[workflow], name, input);
      return { operationId: operationIdOf(workflow, name), ...started };
    },

    async describe(operationId) {
      const parsed = parseOperationId(operationId);
      if (!parsed) return null;
      const arn = executionArn(parsed.workflow, parsed.executionName);
      const described = await describeArn(arn);
      if (!described) return null;
      const status = operationStatus(described.status);
      const { events, tail } = await history(arn);
      const timeline = stepTimings(events);
      const currentStep = tail ? stepTimings(tail).currentStep : timeline.currentStep;
      const summary = summaryOf(
        parsed.workflow,
        parsed.executionName,
        described,
        inputFacts(parsed.workflow, described.input),
      );
      return {
        ...summary,
        arn,
        resumed: 0,
        currentStep: status === 'RUNNING' ? currentStep : null,
        steps: timeline.steps,
        output: status === 'SUCCEEDED' ? redactDeep(parseJson(described.output)) : null,
        error:
          status === 'SUCCEEDED' || status === 'RUNNING'
            ? null
            : {
                name: described.error ?? status,
                message: redactSecrets(causeMessage(described.cause)),
              },
      } satisfies Operation;
    },

    /**
     * The runtime's event log from the history, read with its data this time (states' inputs and outputs: the router
     * redacts them), and the histories of the child executions it started, at most `maxChildExecutions`, one level
     * down (the workflows nest no deeper). Past `maxHistoryPages` an execution's log stops there.
     */
    async events(operationId): Promise<OperationEvent[] | null> {
      const parsed = parseOperationId(operationId);
      if (!parsed) return null;
      const arn = executionArn(parsed.workflow, parsed.executionName);
      if (!(await describeArn(arn))) return null;
      const { events } = await history(arn, true);
      const children = childExecutionArns(events).slice(0, options.maxChildExecutions ?? 10);
      const childLogs = await Promise.all(
        children.map(async (child) =>
          workflowEventsOf((await history(child, true)).events, childWorkflowOf(child), executionNameOf(child)),
        ),
      );
      return mergedByTime([workflowEventsOf(events, parsed.workflow, parsed.executionName), ...childLogs]);
    },

    async list({ node, limit }: ListFilter) {
      const executions = (await Promise.all(WORKFLOWS.map(listed)))
        .flat()
        .sort((a, b) => (b.execution.startDate?.getTime() ?? 0) - (a.execution.startDate?.getTime() ?? 0));
      const results: OperationSummary[] = [];
      // newest first, a few at a time, until the page is full: a node's operations are usually recent
      for (let at = 0; at < executions.length && results.length < limit; at += concurrency) {
        const batch = executions.slice(at, at + concurrency);
        const batchFacts = await Promise.all(batch.map(({ execution }) => factsOf(execution.executionArn ?? '')));
        batch.forEach(({ workflow, execution }, index) => {
          const found = batchFacts[index];
          if (!found || (node !== undefined && found.node !== node) || results.length >= limit) return;
          results.push(summaryOf(workflow, execution.name ?? '', execution, found));
        });
      }
      return results;
    },
  };
}

/** The execution name an execution ARN ends with. */
function executionNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/**
 * Starts the state machine under `name`, once. A running execution of this name and input makes StartExecution
 * answer as if it started now: either way there is exactly one execution. ExecutionAlreadyExists is answered by
 * DescribeExecution, whose input says whether it is the same request. The API's engine and the inventory starter
 * both start executions through this.
 */
export async function startExecution(
  client: SfnClient,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<{ existed: boolean; sameInput: boolean }> {
  try {
    // one spelling per request: Step Functions compares a running execution's input as text
    await client.send(new StartExecutionCommand({ stateMachineArn, name, input: canonicalJson(input) }));
    return { existed: false, sameInput: true };
  } catch (error) {
    if (errorName(error) !== 'ExecutionAlreadyExists') throw translateSfnError(error, 'starting an execution');
  }
  const first = await describeExecution(client, executionArnOf(stateMachineArn, name));
  if (!first) throw new TransientServiceError(`execution ${name} exists but cannot be described yet: retry shortly`);
  return { existed: true, sameInput: sameInput(parseJson(first.input), input) };
}

/** DescribeExecution, or null when Step Functions knows no such execution. */
async function describeExecution(client: SfnClient, arn: string): Promise<DescribeExecutionCommandOutput | null> {
  try {
    return (await client.send(new DescribeExecutionCommand({ executionArn: arn }))) as DescribeExecutionCommandOutput;
  } catch (error) {
    if (errorName(error) === 'ExecutionDoesNotExist') return null;
    throw translateSfnError(error, 'describing an execution');
  }
}

function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function summaryOf(
  workflow: WorkflowName,
  name: string,
  execution: { status?: string; startDate?: Date; stopDate?: Date },
  facts: InputFacts,
): OperationSummary {
  return {
    operationId: operationIdOf(workflow, name),
    workflow,
    status: operationStatus(execution.status),
    node: facts.node,
    mode: facts.mode,
    startedAt: (execution.startDate ?? new Date(0)).toISOString(),
    stoppedAt: execution.stopDate?.toISOString() ?? null,
  };
}

/** Only the node and the mode are read from an input; nothing else of it leaves this function. */
function inputFacts(workflow: WorkflowName, input: string | undefined): InputFacts {
  const parsed = parseJson(input) as { nodeName?: unknown; mode?: unknown } | null;
  const node = typeof parsed?.nodeName === 'string' ? parsed.nodeName : null;
  // only remove-node has modes; a batch's or a drift check's input names no single node
  if (workflow !== 'remove-node') return { node, mode: null };
  return { node, mode: typeof parsed?.mode === 'string' ? parsed.mode : 'remove' };
}

/** A redriven execution runs again; PENDING_REDRIVE is about to. */
function operationStatus(status: string | undefined): OperationStatus {
  switch (status) {
    case 'SUCCEEDED':
    case 'FAILED':
    case 'ABORTED':
    case 'TIMED_OUT':
      return status;
    default:
      return 'RUNNING';
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The human message inside a Cause: Lambda's JSON `errorMessage` (never its stack trace), a child execution's
 * cause, or the text itself.
 */
export function causeMessage(cause: string | undefined): string {
  if (cause === undefined) return '';
  const parsed = parseJson(cause) as { errorMessage?: unknown; Cause?: unknown } | null;
  if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  if (typeof parsed?.Cause === 'string') return causeMessage(parsed.Cause);
  return cause;
}

// ---------------------------------------------------------------------------------------------------------------
// The history, read as steps
// ---------------------------------------------------------------------------------------------------------------

/** Events that end a task attempt in failure (a retry schedules it again). */
const ATTEMPT_FAILED = /(Failed|TimedOut|Aborted)$/;
const ATTEMPT_SUCCEEDED = /^(LambdaFunction|Task|Activity)Succeeded$/;
const ATTEMPT_SCHEDULED = /^(LambdaFunction|Task|Activity)Scheduled$/;
const EXECUTION_ENDED = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/;

interface OpenStep {
  readonly index: number;
  failedAt?: Date;
}

/**
 * Per-step timings and the current state from an execution's history (events in id order). A Task state is one
 * step, from TaskStateEntered to TaskStateExited; its attempts' results say whether it succeeded. A step left
 * without an exit (its error was caught, or the execution ended) failed when its last attempt failed.
 */
export function stepTimings(events: readonly HistoryEvent[]): {
  steps: StepTiming[];
  currentStep: string | null;
} {
  const steps: StepTiming[] = [];
  let open: OpenStep | undefined;
  let currentStep: string | null = null;
  const close = (at: Date, status: 'SUCCEEDED' | 'FAILED') => {
    if (!open) return;
    const step = steps[open.index];
    const endedAt = at.toISOString();
    steps[open.index] = { ...step, endedAt, durationMs: at.getTime() - Date.parse(step.startedAt), status };
    open = undefined;
  };
  for (const event of [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const type = event.type ?? '';
    const at = event.timestamp ?? new Date(0);
    if (type.endsWith('StateEntered')) {
      if (open) close(open.failedAt ?? at, open.failedAt ? 'FAILED' : 'SUCCEEDED');
      currentStep = event.stateEnteredEventDetails?.name ?? null;
      if (type === 'TaskStateEntered') {
        steps.push({
          step: currentStep ?? '',
          startedAt: at.toISOString(),
          endedAt: null,
          durationMs: null,
          status: 'RUNNING',
        });
        open = { index: steps.length - 1 };
      }
    } else if (type.endsWith('StateExited')) {
      if (type === 'TaskStateExited' && open) close(at, open.failedAt ? 'FAILED' : 'SUCCEEDED');
      if (event.stateExitedEventDetails?.name === currentStep) currentStep = null;
    } else if (EXECUTION_ENDED.test(type)) {
      if (open) close(open.failedAt ?? at, type === 'ExecutionSucceeded' ? 'SUCCEEDED' : 'FAILED');
      currentStep = null;
    } else if (open && ATTEMPT_SCHEDULED.test(type)) {
      open.failedAt = undefined;
    } else if (open && ATTEMPT_SUCCEEDED.test(type)) {
      open.failedAt = undefined;
    } else if (open && ATTEMPT_FAILED.test(type)) {
      open.failedAt = at;
    }
  }
  return { steps, currentStep };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling']);

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? '';
}

/**
 * Throttling → EngineThrottledError (the API answers 429), unavailable (5xx, the network, the client's timeout) →
 * TransientServiceError (503; the inventory queue redelivers), anything else (AccessDenied, a bad ARN) stays
 * itself → 500.
 */
export function translateSfnError(error: unknown, doing: string): Error {
  const name = errorName(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode ?? 0;
  if (THROTTLED.has(name) || status === 429) return new EngineThrottledError(`Step Functions throttled ${doing}`);
  if (status >= 500 || transportFailure(error)) {
    const code = (error as { code?: string } | null)?.code ?? '';
    return new TransientServiceError(`Step Functions did not answer ${doing}: ${name || code}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
