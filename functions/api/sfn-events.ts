import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { OperationEvent } from './engine';
import { causeMessage } from './sfn-engine';

/*
 * Step Functions' execution history as the local runtime's event log (local/runtime.ts, aws-local-stepfunctions'
 * event types), so that `GET /operations/{id}/events` gives the same list deployed as under `serve`:
 *   <Type>StateEntered / <Type>StateExited → StateEntered / StateExited, with the state's type, input and output;
 *   a failed task attempt (LambdaFunctionFailed, TaskFailed, …TimedOut) → StateFailed with its error, followed by
 *   StateRetried when the state schedules again, or StateCaught when the execution moves on to another state;
 *   Execution* → ExecutionStarted (input), ExecutionSucceeded (output), ExecutionFailed (error; TimedOut is
 *   States.Timeout), ExecutionTerminated (aborted); MapIteration* keep their names.
 * Events the runtime has no counterpart for (LambdaFunctionScheduled, TaskSubmitted, …) are left out.
 */

const STATE_EVENT = /^(Task|Choice|Pass|Wait|Succeed|Fail|Map|Parallel)State(Entered|Exited)$/;
const ATTEMPT_FAILED = /^(LambdaFunction|Task|Activity)(Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;
const ATTEMPT_SCHEDULED = /^(LambdaFunction|Task|Activity)(Scheduled)$/;
const MAP_ITERATION = /^MapIteration(Started|Succeeded|Failed|Aborted)$/;

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The error of a failure event's details (`{error, cause}`), as the runtime reports it. */
function errorOf(details: { error?: string; cause?: string } | undefined, fallback: string) {
  return { name: details?.error ?? fallback, message: causeMessage(details?.cause) };
}

/** A history event's failure details, whichever kind of task or execution failure it is. */
function failureDetails(event: HistoryEvent): { error?: string; cause?: string } | undefined {
  return (
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.activityTimedOutEventDetails ??
    event.activityScheduleFailedEventDetails ??
    event.executionFailedEventDetails ??
    event.executionTimedOutEventDetails
  );
}

/** One execution's history (any order) as the runtime's events, oldest first. */
export function workflowEventsOf(
  history: readonly HistoryEvent[],
  workflow: string,
  execution: string,
): OperationEvent[] {
  const events: OperationEvent[] = [];
  let current: { name: string; type: string } | undefined;
  /** the current state's last attempt failed: a retry or a catch follows */
  let failed = false;
  for (const event of [...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const type = event.type ?? '';
    const base = { workflow, execution, timestamp: (event.timestamp ?? new Date(0)).getTime() };
    const state = STATE_EVENT.exec(type);
    if (state) {
      const [, stateType, phase] = state;
      if (phase === 'Entered') {
        if (failed && current)
          events.push({ type: 'StateCaught', ...base, state: current.name, stateType: current.type });
        const details = event.stateEnteredEventDetails;
        current = { name: details?.name ?? '', type: stateType };
        failed = false;
        events.push({ type: 'StateEntered', ...base, state: current.name, stateType, input: parsed(details?.input) });
      } else {
        const details = event.stateExitedEventDetails;
        failed = false;
        events.push({
          type: 'StateExited',
          ...base,
          state: details?.name ?? '',
          stateType,
          output: parsed(details?.output),
        });
      }
    } else if (ATTEMPT_FAILED.test(type) && current) {
      failed = true;
      const error = errorOf(failureDetails(event), type.endsWith('TimedOut') ? 'States.Timeout' : 'States.TaskFailed');
      events.push({ type: 'StateFailed', ...base, state: current.name, stateType: current.type, error });
    } else if (ATTEMPT_SCHEDULED.test(type) && failed && current) {
      failed = false;
      events.push({ type: 'StateRetried', ...base, state: current.name, stateType: current.type });
    } else if (MAP_ITERATION.test(type)) {
      events.push({ type, ...base, ...(current && { state: current.name, stateType: current.type }) });
    } else if (type === 'ExecutionStarted') {
      events.push({ type, ...base, input: parsed(event.executionStartedEventDetails?.input) });
    } else if (type === 'ExecutionSucceeded') {
      events.push({ type, ...base, output: parsed(event.executionSucceededEventDetails?.output) });
    } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut') {
      const fallback = type === 'ExecutionTimedOut' ? 'States.Timeout' : 'States.Runtime';
      events.push({ type: 'ExecutionFailed', ...base, error: errorOf(failureDetails(event), fallback) });
    } else if (type === 'ExecutionAborted') {
      events.push({ type: 'ExecutionTerminated', ...base });
    }
  }
  return events;
}

/**
 * The child executions a history started with `states:startExecution.sync`: their ARNs, from the task's
 * submission output (Step Functions' answer to StartExecution).
 */
export function childExecutionArns(history: readonly HistoryEvent[]): string[] {
  const arns: string[] = [];
  for (const event of history) {
    const details = event.taskSubmittedEventDetails;
    if (event.type !== 'TaskSubmitted' || details?.resourceType !== 'states') continue;
    const answer = parsed(details.output) as { ExecutionArn?: unknown } | undefined;
    if (typeof answer?.ExecutionArn === 'string' && !arns.includes(answer.ExecutionArn)) arns.push(answer.ExecutionArn);
  }
  return arns;
}

/** Merges several executions' events into one log by time; events at the same millisecond keep their order. */
export function mergedByTime(logs: readonly OperationEvent[][]): OperationEvent[] {
  return logs
    .flatMap((log, which) => log.map((event, at) => ({ event, which, at })))
    .sort((a, b) => a.event.timestamp - b.event.timestamp || a.which - b.which || a.at - b.at)
    .map(({ event }) => event);
}
