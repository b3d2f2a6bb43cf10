import { EventStream } from './event-stream';
import { type StepFunctionsEndpoint, startStepFunctionsEndpoint } from './step-functions-endpoint';
import { TaskTokenRegistry } from './task-tokens';

/**
 * What the local runtime needs for `.waitForTaskToken` tasks, shared by every run in the process: the task tokens,
 * the Step Functions callback endpoint the handlers call, and the event streams that stand in for EventBridge
 * rules. All of it runs only while some task waits: the last wait to end stops the endpoint and the streams, so a
 * process with nothing else to do exits.
 */

export { CallbackError, TaskFailedByCallback, TaskTokenRegistry, type TaskWait } from './task-tokens';

/**
 * The handlers' environment names the sandbox's event stream here (`edgekeeper … --sandbox DIR` sets it): a
 * `.waitForTaskToken` task subscribes to it while it waits and hands each event to `deliver`.
 */
export const COMMAND_EVENTS_ENV = 'EDGEKEEPER_LOCAL_COMMAND_EVENTS';

export const taskTokens = new TaskTokenRegistry();

/** Holds the callback endpoint (and an event stream) while one task waits. */
export interface CallbackLease {
  /** the Step Functions endpoint that resolves `taskTokens` */
  readonly endpoint: string;
  release(): Promise<void>;
}

interface Subscription {
  readonly stream: EventStream;
  readonly opened: Promise<void>;
  /** the waits using it, oldest first; each event goes to the newest one's deliverer (see openCallbacks) */
  readonly deliverers: ((event: unknown) => void)[];
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
export function openCallbacks(events?: { url: string; deliver: (event: unknown) => void }): Promise<CallbackLease> {
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
        const deliverers: ((event: unknown) => void)[] = [];
        // One delivery per event, to the newest wait, as EventBridge invokes its rule's one target once per event.
        // Any wait's deliverer does: the handler takes a wait with one DeleteItem (ALL_OLD), atomic in the sandbox's
        // table, so one delivery gets the token; and every wait subscribed to this URL reaches the same services:
        // that sandbox's DynamoDB (local/cli/targets.ts names both from one sandbox), this process's one Step
        // Functions endpoint (it moves only once no lease, hence no subscription, is left) and `taskTokens`, which
        // holds every wait of the process; so the newest run's environment and handlers serve every run's events.
        // Delivering to every wait would run the handler once per waiting task, all but one taking nothing. This holds within one process only: a sandbox sends each event to every subscribed
        // process, and one that takes another's wait cannot complete it (the token is not in its registry): that
        // wait ends by its timeout, and the workflow polls.
        const stream = new EventStream(events.url, (event) => deliverers.at(-1)?.(event));
        subscription = { stream, opened: stream.open(), deliverers };
        subscriptions.set(events.url, subscription);
      }
      subscription.deliverers.push(events.deliver);
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
            const index = subscription.deliverers.lastIndexOf(events.deliver);
            if (index >= 0) subscription.deliverers.splice(index, 1);
            if (subscription.deliverers.length === 0) {
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
