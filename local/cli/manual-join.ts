import { manualJoinCommand } from '../../functions/shared/manual-join';
import { readSettings, runWithEnvironment } from '../../functions/shared/settings';
import type { WorkflowEvent } from '../runtime';
import { EXIT, type Io } from './io';
import { showJoinCommand } from './join-command-notice';

/*
 * The CLI's side of a manual join (docs/adr/0009): the command holds the join token, so the CLI renders it itself,
 * from the cluster, once the workflow has validated and locked the request, and shows it to this caller once. It
 * never goes into the workflow's input, events or result, nor into the --json document.
 */

/** The state a manual join enters once the request is valid, locked and its join settings resolved. */
export const MANUAL_JOIN_WAIT_STATE = 'Start waiting for the manual join';

/** The environment the steps run with, as the local runtime gives it to them: the shell's, then the target's. */
export function stepEnvironment(io: Io, environment: Record<string, string>): Record<string, string | undefined> {
  return { ...io.env, ...environment };
}

/**
 * The join command of a manual join request, read from the cluster the steps use.
 * @throws InvalidRequestError, KubeEdgeNotInstalledError, CloudcoreConfigError, SettingsError
 */
export async function joinCommandFor(request: unknown, env: Record<string, string | undefined>): Promise<string> {
  return runWithEnvironment(env, () => manualJoinCommand(readSettings(env), request));
}

/**
 * Watches a manual onboarding's events and, when it starts waiting for the node, prints the join command: on
 * stdout, or with `--json` on stderr. If the command cannot be rendered, nobody can join the node: `stop` ends the
 * run, whose failure path releases the lock.
 */
export function manualJoinPrinter(
  request: unknown,
  options: {
    readonly io: Io;
    readonly json: boolean;
    readonly env: Record<string, string | undefined>;
    readonly stop: (why: string) => void;
    /** renders the command; tests pass their own @default joinCommandFor */
    readonly render?: (request: unknown, env: Record<string, string | undefined>) => Promise<string>;
  },
): (event: WorkflowEvent) => void {
  const { io } = options;
  let shown = false;
  return (event) => {
    if (shown || event.type !== 'StateEntered' || event.state !== MANUAL_JOIN_WAIT_STATE) return;
    if (event.workflow !== 'onboard-node') return;
    shown = true;
    (options.render ?? joinCommandFor)(request, options.env).then(
      (command) => showJoinCommand(io, options.json, command),
      (error: unknown) => {
        const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        io.stderr(`error: the join command could not be rendered, so nobody can join the node: ${why}\n`);
        options.stop(why);
      },
    );
  };
}

/**
 * `edgekeeper join-command`: prints just the command, like KubeSphere's "Add Edge Node" page (with `--json`, as
 * `{ "command": … }`), and starts nothing. Resolves to the exit code: 1 when the cluster cannot give it.
 */
export async function printJoinCommand(
  request: unknown,
  env: Record<string, string | undefined>,
  io: Io,
  json: boolean,
): Promise<number> {
  let command: string;
  try {
    command = await joinCommandFor(request, env);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    io.stderr(`error: ${error.name}: ${error.message}\n`);
    return EXIT.workflowFailed;
  }
  io.stdout(json ? `${JSON.stringify({ command }, null, 2)}\n` : command);
  return EXIT.ok;
}
