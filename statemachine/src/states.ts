/**
 * Builders for the workflow sources in this folder. Each builder writes one ASL state exactly as Step Functions
 * reads it; what every Lambda step shares (the invoke resource, the operation id, the retrier) is written once
 * here, so the sources read like a runbook and the generated `statemachine/*.asl.json` stay uniform.
 */
import type { StepName } from '../../functions/registry';
import { functionPlaceholder, stateMachinePlaceholder, timeoutPlaceholder } from '../../lib/asl';

export type State = Record<string, unknown>;

export interface Definition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly TimeoutSeconds?: string;
  readonly States: Record<string, State>;
}

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string | null;
  readonly Next: string;
}

/**
 * What the Lambda service may answer instead of running the function: exactly what aws-cdk's `LambdaInvoke`
 * retries by default, plus throttling (a burst of steps across executions must not fail a workflow).
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * The one retrier of every Lambda step: edgekeeper's transient errors (a class decides that once, and a test holds
 * this list to those classes) and the Lambda service errors, with `LambdaInvoke`'s default timing (2 s, ×2, 6
 * attempts, about a minute in all) and full jitter so that executions retrying together spread out.
 */
export const LAMBDA_RETRIER: Retrier = {
  ErrorEquals: ['TransientServiceError', ...LAMBDA_SERVICE_ERRORS],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

/** A host that just dropped off SSM often comes back within a minute; only validation waits for it. */
export const HOST_OFFLINE_RETRIER: Retrier = {
  ErrorEquals: ['HostOfflineError'],
  IntervalSeconds: 10,
  MaxAttempts: 2,
  BackoffRate: 2,
};

/** Starting another workflow can be throttled or fail in the SDK before the child exists: both are worth a retry. */
export const START_EXECUTION_RETRIER: Retrier = {
  ErrorEquals: ['StepFunctions.ExecutionLimitExceeded', 'StepFunctions.SdkClientException'],
  IntervalSeconds: 2,
  MaxAttempts: 3,
  BackoffRate: 2,
};

/** PutEvents is idempotent enough for a retry of anything (a duplicate event beats a lost one). */
export const PUT_EVENTS_RETRIER: Retrier = {
  ErrorEquals: ['States.ALL'],
  IntervalSeconds: 2,
  MaxAttempts: 3,
  BackoffRate: 2,
};

/** Every failure goes to `next`, recorded at `resultPath` (the original error by default). */
export function onAnyError(next: string, resultPath: string | null = '$.error'): Catcher {
  return { ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: next };
}

/** Failures named `errors` go to `next`; list these before `onAnyError`, which matches everything. */
export function onError(errors: readonly string[], next: string, resultPath: string | null = '$.error'): Catcher {
  return { ErrorEquals: errors, ResultPath: resultPath, Next: next };
}

/**
 * What a lock step needs to know about who asks: the execution's ARN is the lock holder (never a request field),
 * and the ARN's name ties a rollback child (`<parent name>-rollback`) to the parent whose lock it may adopt.
 */
export function lockFor(purpose: 'onboard' | 'remove' | 'uninstall'): Record<string, string> {
  return { purpose, 'executionId.$': '$$.Execution.Id' };
}

/**
 * One turn of the routing step, kept whole: `status` says whether to go on (`Done`, with its `outcome`) or wait
 * `waitSeconds` and look at `command` again (`InProgress`).
 */
export const ROUTING_TURN = { 'status.$': '$.Payload.status', 'result.$': '$.Payload' } as const;

export interface LambdaStep {
  readonly comment?: string;
  /** the fields the handler receives besides `operationId` (the execution name, which every step logs) */
  readonly payload: Readonly<Record<string, unknown>>;
  /** result fields to keep, each read from the handler's result; omitted: the whole state output is discarded */
  readonly keep?: readonly string[];
  /** an explicit ResultSelector, when the result is not a list of fields to keep */
  readonly selector?: Readonly<Record<string, string>>;
  /** where the kept result goes; `$` (the default when `keep` is given) replaces the state's input */
  readonly resultPath?: string;
  /** retriers tried after the canonical one */
  readonly alsoRetry?: readonly Retrier[];
  readonly catch?: readonly Catcher[];
  readonly next?: string;
  readonly end?: true;
}

/** A Lambda step from the registry, invoked through the Step Functions integration. */
export function lambda(step: StepName, spec: LambdaStep): State {
  const selector =
    spec.selector ?? (spec.keep && Object.fromEntries(spec.keep.map((field) => [`${field}.$`, `$.Payload.${field}`])));
  return withoutUndefined({
    Type: 'Task',
    Comment: spec.comment,
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: `\${${functionPlaceholder(step)}}`,
      Payload: { 'operationId.$': '$$.Execution.Name', ...spec.payload },
    },
    ResultSelector: selector,
    ResultPath: selector ? spec.resultPath : null,
    Retry: [LAMBDA_RETRIER, ...(spec.alsoRetry ?? [])],
    Catch: spec.catch?.length ? spec.catch : undefined,
    ...ending(spec),
  });
}

export interface CallbackStep {
  readonly comment?: string;
  /** the fields the handler receives besides `operationId` and `taskToken` */
  readonly payload: Readonly<Record<string, unknown>>;
  /** how long to wait for the token to come back before failing with States.Timeout */
  readonly timeoutSeconds: number;
  /** where the callback's output goes; null (the default) keeps the state's input as its output */
  readonly resultPath?: string | null;
  readonly catch?: readonly Catcher[];
  readonly next: string;
}

/**
 * A Lambda step that hands this task's token to someone else and waits (`.waitForTaskToken`): the task ends when
 * SendTaskSuccess or SendTaskFailure names the token, or with States.Timeout after `timeoutSeconds`. The handler's
 * own result is ignored; its failure fails the task, with the canonical retrier as for any Lambda step.
 */
export function lambdaCallback(step: StepName, spec: CallbackStep): State {
  return withoutUndefined({
    Type: 'Task',
    Comment: spec.comment,
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: `\${${functionPlaceholder(step)}}`,
      Payload: { 'operationId.$': '$$.Execution.Name', ...spec.payload, 'taskToken.$': '$$.Task.Token' },
    },
    TimeoutSeconds: spec.timeoutSeconds,
    ResultPath: spec.resultPath ?? null,
    Retry: [LAMBDA_RETRIER],
    Catch: spec.catch?.length ? spec.catch : undefined,
    Next: spec.next,
  });
}

export interface PublishStep {
  readonly comment?: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly catch?: readonly Catcher[];
  readonly next: string;
}

/** One event on edgekeeper's bus; every detail carries the operation id (the execution name). */
export function publish(spec: PublishStep): State {
  return withoutUndefined({
    Type: 'Task',
    Comment: spec.comment,
    Resource: 'arn:aws:states:::events:putEvents',
    Parameters: {
      Entries: [
        {
          EventBusName: `\${EventBusName}`,
          Source: 'edgekeeper',
          DetailType: spec.detailType,
          Detail: { 'operationId.$': '$$.Execution.Name', ...spec.detail },
        },
      ],
    },
    ResultPath: null,
    Retry: [PUT_EVENTS_RETRIER],
    Catch: spec.catch,
    Next: spec.next,
  });
}

export interface StartWorkflowStep {
  readonly comment?: string;
  readonly workflow: string;
  /** the child's execution name (JSONPath or intrinsic); omitted: Step Functions names it */
  readonly name?: string;
  readonly input: Readonly<Record<string, unknown>> | string;
  readonly resultSelector?: Readonly<Record<string, unknown>>;
  readonly resultPath?: string;
  readonly outputPath?: string;
  readonly catch?: readonly Catcher[];
  readonly next?: string;
  readonly end?: true;
}

/** Runs another workflow to its end (`.sync:2`: its output arrives as JSON, its failure as States.TaskFailed). */
export function startWorkflow(spec: StartWorkflowStep): State {
  return withoutUndefined({
    Type: 'Task',
    Comment: spec.comment,
    Resource: 'arn:aws:states:::states:startExecution.sync:2',
    Parameters: {
      StateMachineArn: `\${${stateMachinePlaceholder(spec.workflow)}}`,
      'Name.$': spec.name,
      ...(typeof spec.input === 'string' ? { 'Input.$': spec.input } : { Input: spec.input }),
    },
    ResultSelector: spec.resultSelector,
    ResultPath: spec.resultPath,
    OutputPath: spec.outputPath,
    Retry: [START_EXECUTION_RETRIER],
    Catch: spec.catch,
    ...ending(spec),
  });
}

export interface ChoiceRule extends Record<string, unknown> {
  readonly Next: string;
}

export function choice(spec: { comment?: string; choices: readonly ChoiceRule[]; otherwise: string }): State {
  return withoutUndefined({ Type: 'Choice', Comment: spec.comment, Choices: spec.choices, Default: spec.otherwise });
}

/** `$.<path> == true` */
export function isTrue(variable: string, next: string): ChoiceRule {
  return { Variable: variable, BooleanEquals: true, Next: next };
}

/** `$.<path> == value` */
export function isString(variable: string, value: string, next: string): ChoiceRule {
  return { Variable: variable, StringEquals: value, Next: next };
}

/** `$.<path>` is present and equals `value` (an optional input field). */
export function isPresentString(variable: string, value: string, next: string): ChoiceRule {
  return {
    And: [
      { Variable: variable, IsPresent: true },
      { Variable: variable, StringEquals: value },
    ],
    Next: next,
  };
}

export function waitFor(secondsPath: string, next: string): State {
  return { Type: 'Wait', SecondsPath: secondsPath, Next: next };
}

export interface PassStep {
  readonly comment?: string;
  readonly result?: unknown;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly resultPath?: string;
  readonly next?: string;
  readonly end?: true;
}

export function pass(spec: PassStep): State {
  return withoutUndefined({
    Type: 'Pass',
    Comment: spec.comment,
    Result: spec.result,
    Parameters: spec.parameters,
    ResultPath: spec.resultPath,
    ...ending(spec),
  });
}

/** Ends the execution with the error and cause recorded at `path`. */
export function failWith(path: string): State {
  return { Type: 'Fail', ErrorPath: `${path}.Error`, CausePath: `${path}.Cause` };
}

/** A whole workflow; its time limit is a placeholder filled from the deployment's timeout settings. */
export function workflow(name: string, spec: { comment: string; startAt: string; states: Record<string, State> }) {
  const definition: Definition = {
    Comment: spec.comment,
    StartAt: spec.startAt,
    TimeoutSeconds: `\${${timeoutPlaceholder(name)}}`,
    States: spec.states,
  };
  checkTransitions(name, definition);
  return definition;
}

/** Fails generation when a transition names no state of its own level (a typo would otherwise deploy). */
function checkTransitions(workflowName: string, definition: Pick<Definition, 'StartAt' | 'States'>): void {
  const names = new Set(Object.keys(definition.States));
  const targets: string[] = [definition.StartAt];
  for (const state of Object.values(definition.States)) {
    const { Next, Default, Choices, Catch, ItemProcessor } = state as {
      Next?: string;
      Default?: string;
      Choices?: ChoiceRule[];
      Catch?: Catcher[];
      ItemProcessor?: Definition;
    };
    targets.push(...[Next, Default].filter((target): target is string => Boolean(target)));
    targets.push(...(Choices ?? []).map((rule) => rule.Next), ...(Catch ?? []).map((catcher) => catcher.Next));
    if (ItemProcessor) checkTransitions(workflowName, ItemProcessor);
  }
  const unknown = targets.filter((target) => !names.has(target));
  if (unknown.length) throw new Error(`${workflowName}: transitions to unknown states: ${unknown.join(', ')}`);
}

function ending(spec: { next?: string; end?: true }): State {
  if (spec.next === undefined) return { End: true };
  return { Next: spec.next };
}

function withoutUndefined(state: State): State {
  return Object.fromEntries(Object.entries(state).filter(([, value]) => value !== undefined));
}

/** The lock step refuses with these after giving back whatever it took (all or none): nothing is held. */
export const LOCK_REFUSED = ['NodeLockedError', 'ClusterLockedError'];
