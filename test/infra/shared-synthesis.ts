import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The infra project's one shared synthesis, made in a child process (./synth-to-file.ts) that the project's
 * global setup starts: the synthesis takes seconds, and the run's other tests start meanwhile instead of waiting
 * for it. Nothing here loads the CDK, so the global setup stays quick.
 */

/** Names the file the shared synthesis is written to: `{ template }` or `{ error }`. Workers inherit it. */
export const SHARED_SYNTH_ENV = 'EDGEKEEPER_TEST_SYNTH_FILE';

/** Long enough for a synthesis on a busy two-CPU machine; a stuck one fails the tests that need it, naming it. */
const WAIT_MS = 300_000;

/** Where the global setup keeps the child, for the global teardown (Jest runs both in its main process). */
const holder = globalThis as { edgekeeperSynthesis?: ReturnType<typeof spawn> };

/** Starts the synthesis into `file`; returns at once. */
export function startSharedSynthesis(file: string): void {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(__dirname, 'synth-to-file.ts'), file], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // a crash writes no result: record it, so the tests waiting for one fail with it instead of at WAIT_MS
  child.once('exit', (code, signal) => {
    if (existsSync(file)) return;
    const ended = signal ?? `exit code ${code}`;
    writeFileSync(file, JSON.stringify({ error: `the synthesis process ended (${ended}) without a result` }));
  });
  // Jest must not wait for the child; stopSharedSynthesis ends it if the run ends first
  child.unref();
  holder.edgekeeperSynthesis = child;
}

/** Ends the synthesis if it still runs (a run that ended first: a bail, or no test that needed it). */
export function stopSharedSynthesis(): void {
  const child = holder.edgekeeperSynthesis;
  if (child && child.exitCode === null && child.signalCode === null) {
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
  }
  holder.edgekeeperSynthesis = undefined;
}

/** Blocks until the synthesis wrote `file` (it renames it into place whole), then returns its text. */
export function readSharedSynthesis(file: string): string {
  const deadline = Date.now() + WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(file)) {
    if (Date.now() > deadline) {
      throw new Error(`the shared synthesis did not write ${file} within ${WAIT_MS / 1000} s (see the run's output)`);
    }
    // synthTemplate is synchronous (test files call it at load), so wait without the event loop
    Atomics.wait(pause, 0, 0, 100);
  }
  return readFileSync(file, 'utf8');
}
