import { randomBytes } from 'node:crypto';

/**
 * The task tokens of the local runtime's `.waitForTaskToken` tasks: Step Functions' callback pattern in-process.
 * Each visit of such a task gets a fresh token; the task ends when SendTaskSuccess or SendTaskFailure names it, or
 * with States.Timeout. A token that ended answers later callbacks as Step Functions does: TaskTimedOut.
 */

/** The errors of SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, by Step Functions' names. */
export type CallbackErrorType = 'InvalidToken' | 'TaskDoesNotExist' | 'TaskTimedOut' | 'InvalidOutput';

export class CallbackError extends Error {
  constructor(
    readonly type: CallbackErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** The task failed through SendTaskFailure: its error and cause, as the workflow's Catch sees them. */
export class TaskFailedByCallback extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** A task waiting for its token. */
export interface TaskWait {
  readonly token: string;
  /**
   * the parsed output of SendTaskSuccess, or rejects with TaskFailedByCallback; never settles once closed (the
   * registry keeps no time: the runtime's timer decides States.Timeout)
   */
  readonly result: Promise<unknown>;
  /** ends the wait: later callbacks with its token answer TaskTimedOut */
  close(): void;
}

/** Tokens are opaque to their holders; the prefix lets the registry tell a malformed token from an unknown one. */
const TOKEN_PREFIX = 'edgekeeper-local-';
const TOKEN = /^edgekeeper-local-[A-Za-z0-9_-]{43}$/;
/** Ended tokens remembered so late callbacks get TaskTimedOut rather than TaskDoesNotExist; oldest forgotten first. */
const REMEMBERED_ENDED = 10_000;

interface Waiting {
  resolve(output: unknown): void;
  reject(error: Error): void;
}

export class TaskTokenRegistry {
  private readonly waiting = new Map<string, Waiting>();
  private readonly ended = new Set<string>();

  /** A fresh token and the promise its callback settles. */
  issue(): TaskWait {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    let settle!: Waiting;
    const result = new Promise<unknown>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // a wait nobody awaits any more (it timed out) must not surface as an unhandled rejection
    result.catch(() => undefined);
    this.waiting.set(token, settle);
    return { token, result, close: () => this.end(token) };
  }

  /** How many tasks wait for their token now. */
  get open(): number {
    return this.waiting.size;
  }

  /** SendTaskSuccess: `output` is the JSON text the task returns. */
  succeed(token: string, output: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new CallbackError('InvalidOutput', 'the output is not valid JSON');
    }
    this.take(token).resolve(parsed);
  }

  /** SendTaskFailure: the task fails with `error` (States.TaskFailed when empty) and `cause`. */
  fail(token: string, error = '', cause = ''): void {
    this.take(token).reject(new TaskFailedByCallback(error || 'States.TaskFailed', cause));
  }

  /** SendTaskHeartbeat: the task must still wait (no HeartbeatSeconds locally: nothing else to do). */
  heartbeat(token: string): void {
    this.find(token);
  }

  private take(token: string): Waiting {
    const waiting = this.find(token);
    this.end(token);
    return waiting;
  }

  private find(token: string): Waiting {
    if (!TOKEN.test(token)) throw new CallbackError('InvalidToken', 'Invalid Token');
    const waiting = this.waiting.get(token);
    if (waiting) return waiting;
    // what Step Functions answers for a task that already ended (a second callback, or one after the timeout)
    if (this.ended.has(token))
      throw new CallbackError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    throw new CallbackError('TaskDoesNotExist', 'Task does not exist');
  }

  private end(token: string): void {
    if (!this.waiting.delete(token)) return;
    this.ended.add(token);
    if (this.ended.size > REMEMBERED_ENDED) this.ended.delete(this.ended.values().next().value as string);
  }
}
