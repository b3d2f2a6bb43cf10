import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvalidInstanceId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { EdgekeeperError, TransientServiceError } from './errors';
import { redactSecrets } from './redact';
import type { Settings } from './settings';
import { ssmClient } from './ssm';

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

/**
 * Runs a script on a host with SSM Run Command (`AWS-RunShellScript`), bounded by the configured execution
 * timeout. Returns only the command id: SSM's answer echoes the commands, which may carry a secret.
 */
export async function sendShellCommand(settings: Settings, command: ShellCommand): Promise<string> {
  try {
    const { Command } = await ssmClient(settings).send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [command.instanceId],
        Parameters: {
          commands: [...command.commands],
          executionTimeout: [String(settings.hostCommandTimeoutSeconds)],
        },
        Comment: command.comment.slice(0, 100),
      }),
    );
    if (!Command?.CommandId) throw new TransientServiceError('SSM accepted the command but returned no command id');
    return Command.CommandId;
  } catch (error) {
    throw translateSsmError(error, command.instanceId);
  }
}

/**
 * Runs a script on every managed instance carrying an SSM tag (`key=value`), as Run Command targets do. SSM
 * resolves the tag after answering, so the hosts it reached are known from `describeCommand` later.
 */
export async function sendShellCommandToTagged(
  settings: Settings,
  command: { readonly tag: string; readonly commands: readonly string[]; readonly comment: string },
): Promise<string> {
  const [key, value] = command.tag.split('=');
  try {
    const { Command } = await ssmClient(settings).send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        Targets: [{ Key: `tag:${key}`, Values: [value] }],
        Parameters: { commands: [...command.commands], executionTimeout: ['300'] },
        Comment: command.comment.slice(0, 100),
      }),
    );
    if (!Command?.CommandId) throw new TransientServiceError('SSM accepted the command but returned no command id');
    return Command.CommandId;
  } catch (error) {
    throw translateSsmError(error, `tag:${command.tag}`);
  }
}

/** A command as a whole: its overall status and how many hosts it targets (known once SSM resolved them). */
export async function describeCommand(
  settings: Settings,
  commandId: string,
): Promise<{ status: string; targetCount: number }> {
  try {
    const { Commands } = await ssmClient(settings).send(new ListCommandsCommand({ CommandId: commandId }));
    const command = Commands?.[0];
    return { status: command?.Status ?? 'Pending', targetCount: command?.TargetCount ?? 0 };
  } catch (error) {
    throw translateSsmError(error, commandId);
  }
}

/** Every invocation of a command (one per host), output redacted; SSM keeps the first 2,500 characters here. */
export async function listInvocations(
  settings: Settings,
  commandId: string,
): Promise<(Invocation & { readonly instanceId: string })[]> {
  try {
    const { CommandInvocations } = await ssmClient(settings).send(
      new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }),
    );
    return (CommandInvocations ?? []).map((invocation) => ({
      instanceId: invocation.InstanceId ?? 'unknown',
      status: invocation.Status ?? 'Pending',
      responseCode: invocation.CommandPlugins?.[0]?.ResponseCode ?? -1,
      stdout: redactSecrets(invocation.CommandPlugins?.[0]?.Output ?? ''),
      stderr: '',
    }));
  } catch (error) {
    throw translateSsmError(error, commandId);
  }
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

/** The invocation, or null while SSM has not created it yet (InvocationDoesNotExist right after sending). */
export async function readInvocation(
  settings: Settings,
  commandId: string,
  instanceId: string,
): Promise<Invocation | null> {
  try {
    const answer = await ssmClient(settings).send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
    );
    return {
      status: answer.Status ?? 'Pending',
      responseCode: answer.ResponseCode ?? -1,
      stdout: redactSecrets(answer.StandardOutputContent ?? ''),
      stderr: redactSecrets(answer.StandardErrorContent ?? ''),
    };
  } catch (error) {
    if (error instanceof InvocationDoesNotExist) return null;
    throw translateSsmError(error, instanceId);
  }
}

/** Stops a command that ran past its deadline; a command that already ended is not an error. */
export async function cancelCommand(settings: Settings, commandId: string, instanceId: string): Promise<void> {
  try {
    await ssmClient(settings).send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
  } catch {
    // best effort: the timeout error that follows says what happened
  }
}

function translateSsmError(error: unknown, instanceId: string): Error {
  if (error instanceof InvalidInstanceId) {
    return new HostUnreachableError(
      `instanceId ${instanceId} cannot receive commands: not a managed instance, offline, or its SSM agent is stopped`,
    );
  }
  const name = (error as { name?: string })?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (
    /Throttl|TooManyUpdates|ServiceUnavailable|InternalServerError/.test(name) ||
    (status !== undefined && status >= 500)
  ) {
    return new TransientServiceError(`SSM ${name}: ${(error as Error).message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
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
