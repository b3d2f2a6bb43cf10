import { shownValue } from '../../functions/shared/errors';

/** Exit codes of every command: the contract scripts rely on (128 + the signal number when stopped by one). */
export const EXIT = { ok: 0, workflowFailed: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** A command line that cannot run as given; the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Why the CLI is asked to stop: a signal, or the process that started it went away (`npx` dies on SIGTERM without
 * passing it on, leaving this process orphaned).
 */
export type StopCause = 'SIGINT' | 'SIGTERM' | 'parent exited';

/** What the program needs from its surroundings; tests pass their own. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
  /** subscribes to stop requests; returns the unsubscribe function */
  readonly onStop: (listener: (cause: StopCause) => void) => () => void;
}

/** How often the orphan check looks at the parent pid. */
const PARENT_CHECK_MS = 250;

/**
 * Stop requests of this process: SIGINT, SIGTERM, and the parent's exit. Under `npx`, npm runs the CLI through
 * `sh -c`; a SIGTERM to npm kills that shell but never reaches this process, which is reparented. Noticing the new
 * parent pid is the one portable way to hear about it.
 */
export function processStops(): Io['onStop'] {
  return (listener) => {
    const parent = process.ppid;
    const onInt = () => listener('SIGINT');
    const onTerm = () => listener('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const orphanCheck = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphanCheck);
      listener('parent exited');
    }, PARENT_CHECK_MS);
    orphanCheck.unref();
    return () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      clearInterval(orphanCheck);
    };
  };
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  color: Boolean(process.stderr.isTTY),
  onStop: processStops(),
};

/** A value for a message: quoted, and cut with its length given when long (a flag may carry a megabyte). */
export function shown(value: unknown): string {
  return shownValue(value, { quoted: true });
}
