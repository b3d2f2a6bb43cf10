import { EventStream } from './event-stream';
import { type StepFunctionsEndpoint, startStepFunctionsEndpoint } from './step-functions-endpoint';
import { TaskTokenRegistry } from './task-tokens';

/**
 * What the local runtime needs for `.waitForTaskToken` tasks, shared by every run in the process: the task tokens,
 * the Step Functions callback endpoint the handlers call, and the event streams that stand in for EventBridge
 * rules. All of it runs only while some task waits: the last wait to end stops the endpoint and the streams, so a
 * process with nothing else to do exits.
 */

export { commandWaitKeyOf, isEventFor } from './command-events';
export { CallbackError, TaskFailedByCallback, TaskTokenRegistry, type TaskWait } from './task-tokens';

/**
 * The handlers' environment names the sandbox's event stream here (`edgekeeper … --sandbox DIR` sets it): a
 * `.waitForTaskToken` task subscribes to it while it waits and hands the events it `wants` to `deliver`.
 */
export const COMMAND_EVENTS_ENV = 'EDGEKEEPER_LOCAL_COMMAND_EVENTS';

export const taskTokens = new TaskTokenRegistry();

/** Holds the callback endpoint (and an event stream) while one task waits. */
export interface CallbackLease {
  /** the Step Functions endpoint that resolves `taskTokens` */
  readonly endpoint: string;
  release(): Promise<void>;
}

/** One wait's interest in an event stream. */
export interface EventSubscriber {
  readonly url: string;
  /** whether the event is for this wait (its command on its host: see isEventFor) */
  readonly wants: (event: unknown) => boolean;
  readonly deliver: (event: unknown) => void;
}

interface Subscription {
  readonly stream: EventStream;
  readonly opened: Promise<void>;
  /** the waits using it, oldest first; an event goes to the newest one that wants it (see openCallbacks) */
  readonly subscribers: EventSubscriber[];
}

let endpoint: StepFunctionsEndpoint | undefined;
/** the last port the endpoint had: a restart keeps it, so handlers' cached SDK clients still reach it */
let lastPort = 0;
let leases = 0;
const subscriptions = new Map<string, Subscription>();
/** starts and stops in order: a lease taken while the endpoint stops waits for the stop, then starts it again */
let turn: Promise<unknown> = Promise.resolve();

function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const next = turn.then(work, work);
  turn = next.catch(() => undefined);
  return next;
}

async function startEndpoint(): Promise<StepFunctionsEndpoint> {
  try {
    return await startStepFunctionsEndpoint(taskTokens, lastPort);
  } catch {
    return startStepFunctionsEndpoint(taskTokens, 0);
  }
}

/**
 * Takes a lease on the callback endpoint; with `events`, also subscribes to that event stream (resolving once it
 * is open, so an event sent from then on is delivered).
 */
export function openCallbacks(events?: EventSubscriber): Promise<CallbackLease> {
  return inTurn(async () => {
    if (!endpoint) {
      endpoint = await startEndpoint();
      lastPort = Number(new URL(endpoint.url).port);
    }
    leases += 1;
    const url = endpoint.url;
    let subscription: Subscription | undefined;
    if (events) {
      subscription = subscriptions.get(events.url);
      if (!subscription) {
        const subscribers: EventSubscriber[] = [];
        // An event goes to this process's handler only when one of this process's waits is for it. The sandbox sends
        // each event to every subscribed process, and its table of waits is shared by them all: a process that
        // handed another's event to the handler would take that process's wait and send the token to its own Step
        // Functions endpoint, which does not know it, and the real waiter would sit out its timeout. An event for
        // no wait here is dropped: another process, or nobody, waits for it.
        // One delivery per event, to the newest wait that wants it, as EventBridge invokes its rule's one target
        // once per event: two waits of the process for one command and host share the table's one item, which the
        // handler takes with one DeleteItem (ALL_OLD). Any of them serves: every wait subscribed to this URL reaches
        // the same sandbox's DynamoDB (local/cli/targets.ts names both from one sandbox), this process's one Step
        // Functions endpoint (it moves only once no lease, hence no subscription, is left) and `taskTokens`.
        const stream = new EventStream(events.url, (event) =>
          subscribers.findLast((s) => s.wants(event))?.deliver(event),
        );
        subscription = { stream, opened: stream.open(), subscribers };
        subscriptions.set(events.url, subscription);
      }
      subscription.subscribers.push(events);
    }
    const opened = subscription?.opened;
    let released = false;
    const lease: CallbackLease = {
      endpoint: url,
      release: () =>
        inTurn(async () => {
          if (released) return;
          released = true;
          leases -= 1;
          if (events && subscription) {
            const index = subscription.subscribers.lastIndexOf(events);
            if (index >= 0) subscription.subscribers.splice(index, 1);
            if (subscription.subscribers.length === 0) {
              subscription.stream.close();
              subscriptions.delete(events.url);
            }
          }
          if (leases === 0 && endpoint) {
            const stopping = endpoint;
            endpoint = undefined;
            await stopping.stop();
          }
        }),
    };
    await opened;
    return lease;
  });
}
