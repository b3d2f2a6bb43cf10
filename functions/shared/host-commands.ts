import { EdgekeeperError } from './errors';

/**
 * What edgekeeper sends to hosts and reads back, apart from SSM itself (functions/shared/ssm.ts sends and polls):
 * the command shape, the bash wrapper, the poll state the workflow carries, and the host-unreachable error.
 */

/** SSM cannot reach the host at all: not a managed instance, offline, or its agent is not running. */
export class HostUnreachableError extends EdgekeeperError {
  override readonly name = 'HostUnreachableError';
}

export interface ShellCommand {
  readonly instanceId: string;
  /** lines of one shell script, as AWS-RunShellScript takes them */
  readonly commands: readonly string[];
  /** shown in the SSM console; at most 100 characters */
  readonly comment: string;
}

/** What the workflow carries between polls of one command. */
export interface CommandPoll {
  readonly commandId: string;
  readonly instanceId: string;
  readonly startedAt: string;
  readonly attempt: number;
  readonly waitSeconds: number;
}

/** The first poll of a command just sent: short, since preflight failures come back within seconds. */
export function firstPoll(commandId: string, instanceId: string): CommandPoll {
  return { commandId, instanceId, startedAt: new Date().toISOString(), attempt: 0, waitSeconds: 2 };
}

/** One command on one host as SSM reports it; output is redacted before anything else sees it. */
export interface Invocation {
  readonly status: string;
  readonly responseCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const HEREDOC_END = 'EDGEKEEPER_SCRIPT_END';

/**
 * AWS-RunShellScript runs its commands with `sh`; edgekeeper's host scripts need bash (arrays, mapfile). This
 * writes the script to a private temporary file and runs it with bash, passing its exit status on.
 */
export function bashCommands(script: string): string[] {
  const lines = script.split('\n');
  if (lines.includes(HEREDOC_END)) throw new Error(`a host script cannot contain the line ${HEREDOC_END}`);
  return [
    'umask 077',
    'edgekeeper_script=$(mktemp /tmp/edgekeeper.XXXXXX)',
    `cat >"$edgekeeper_script" <<'${HEREDOC_END}'`,
    ...lines,
    HEREDOC_END,
    'edgekeeper_status=0',
    'bash "$edgekeeper_script" || edgekeeper_status=$?',
    'rm -f "$edgekeeper_script"',
    'exit "$edgekeeper_status"',
  ];
}
