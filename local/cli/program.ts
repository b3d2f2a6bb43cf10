import { Console } from 'node:console';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { dump } from 'js-yaml';
import { listAslFiles } from '../../lib/asl';
import { runDemo } from '../demo';
import { runWorkflow, type WorkflowResult } from '../runtime';
import { DEFAULT_SANDBOX_DIR, SandboxInfoError } from '../sandbox/sandbox';
import { progressPrinter } from './progress';
import { startSandboxCommand, stopSandboxCommand } from './sandbox-commands';
import { defaultLogFile, handlerEnvironment, type Target } from './targets';

/** Exit codes of every command: the contract scripts rely on. */
export const EXIT = { ok: 0, workflowFailed: 1, usage: 2 } as const;

/** A command line that cannot run as given; the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface TargetFlags {
  readonly local?: boolean;
  readonly sandbox?: string;
  readonly apiUrl?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly logFile?: string;
  readonly executionName?: string;
}

/** What the program needs from its surroundings; tests pass their own. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  color: Boolean(process.stderr.isTTY),
};

/** Runs the CLI and resolves to its exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  return exitCode;
}

function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('edgekeeper')
    .description('Run the edge nodes of a KubeSphere / KubeEdge cluster: onboard, remove, uninstall, check drift.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  const workflowCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .option('--local', 'run in-process against KUBECONFIG and the AWS credentials of this shell')
      .option('--sandbox <dir>', 'run in-process against a started sandbox (implies --local)')
      .option('--api-url <url>', 'the deployed REST API (default: EDGEKEEPER_API_URL)')
      .option('--json', 'print one JSON document: status, output, error and events')
      .option('--execution-name <name>', 'idempotency key: the same name never runs twice')
      .option('--log-file <path>', 'append the steps’ logs here (default: <sandbox>/logs/edgekeeper.log)')
      .option('--verbose', 'show the steps’ logs on stderr');

  workflowCommand('onboard', 'join an edge host to the cluster as a KubeEdge edge node')
    .requiredOption('--name <name>', 'node name (DNS-1123 label)')
    .requiredOption('--ip <ip>', 'internal IP of the node (IPv4, unique in the cluster)')
    .requiredOption('--instance <id>', 'SSM managed instance id of the edge host (mi-… or i-…)')
    .option('--no-taint', 'do not add the node-role.kubernetes.io/edge:NoSchedule taint')
    .option('--kubeedge-version <version>', 'KubeEdge version to install (e.g. v1.6.1)')
    .addOption(new Option('--region <region>', 'download region for keadm').choices(['zh', 'en']))
    .option('--label <key=value>', 'extra node label (repeatable)', collectLabel, {})
    .option('--dry-run', 'render the plan (script, settings, DaemonSets to patch) and change nothing')
    .action(async (flags: TargetFlags & OnboardFlags) => {
      const input = {
        nodeName: flags.name,
        nodeIp: flags.ip,
        instanceId: flags.instance,
        taint: flags.taint,
        ...(flags.kubeedgeVersion && { kubeedgeVersion: flags.kubeedgeVersion }),
        ...(flags.region && { region: flags.region }),
        labels: flags.label,
        dryRun: Boolean(flags.dryRun),
      };
      setExit(await runWorkflowCommand('onboard-node', input, flags, io));
    });

  workflowCommand('remove', 'remove an edge node: drain, reset the host, delete the node')
    .requiredOption('--name <name>', 'node name')
    .option('--instance <id>', 'SSM instance id (default: the one recorded on the node)')
    .option('--drain', 'evict workload pods first instead of refusing')
    .option('--force', 'when the host is offline, clean up the cluster side only')
    .action(async (flags: TargetFlags & RemoveFlags) => {
      const input = {
        mode: 'remove',
        nodeName: flags.name,
        ...(flags.instance && { instanceId: flags.instance }),
        drain: Boolean(flags.drain),
        force: Boolean(flags.force),
      };
      setExit(await runWorkflowCommand('remove-node', input, flags, io));
    });

  workflowCommand('uninstall', 'uninstall KubeEdge from the cluster (its Helm release and namespace)')
    .option('--force', 'remove every edge node first instead of refusing')
    .action(async (flags: TargetFlags & { force?: boolean }) => {
      setExit(await runWorkflowCommand('remove-node', { mode: 'uninstall', force: Boolean(flags.force) }, flags, io));
    });

  workflowCommand('drift', 'compare the cluster and the inventory with the desired state')
    .option('--remediate', 'fix what is safe to fix (DaemonSet exclusions, routing)')
    .action(async (flags: TargetFlags & { remediate?: boolean }) => {
      setExit(await runWorkflowCommand('drift-check', { remediate: Boolean(flags.remediate) }, flags, io));
    });

  const sandbox = program
    .command('sandbox')
    .description('a simulated KubeSphere cluster with edge hosts, on this machine');
  sandbox
    .command('start')
    .description('start the sandbox and write <dir>/kubeconfig and <dir>/sandbox.json')
    .option('--dir <dir>', 'state directory', DEFAULT_SANDBOX_DIR)
    .option('--detach', 'run in the background until `edgekeeper sandbox stop`')
    .exitOverride()
    .action(async (flags: { dir: string; detach?: boolean }) => {
      setExit(await startSandboxCommand(flags, io));
    });
  sandbox
    .command('stop')
    .description('stop a detached sandbox and clean up its namespaces and mounts')
    .option('--dir <dir>', 'state directory', DEFAULT_SANDBOX_DIR)
    .exitOverride()
    .action(async (flags: { dir: string }) => {
      setExit(await stopSandboxCommand(flags, io));
    });

  program
    .command('serve')
    .description('serve the REST API handlers on localhost')
    .option('--port <port>', 'port', parsePort, 8080)
    .exitOverride()
    .action(() => {
      throw new UsageError('serve: the REST API is not built yet; run workflows with --local or --sandbox <dir>');
    });

  program
    .command('demo')
    .description(
      'on an embedded sandbox: add an edge node, roll back a failing join, remove the node, uninstall KubeEdge',
    )
    .exitOverride()
    .action(async () => {
      setExit(await runDemo(io));
    });

  return program;
}

interface OnboardFlags {
  readonly name: string;
  readonly ip: string;
  readonly instance: string;
  readonly taint: boolean;
  readonly kubeedgeVersion?: string;
  readonly region?: 'zh' | 'en';
  readonly label: Record<string, string>;
  readonly dryRun?: boolean;
}

interface RemoveFlags {
  readonly name: string;
  readonly instance?: string;
  readonly drain?: boolean;
  readonly force?: boolean;
}

function collectLabel(value: string, labels: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${value}`);
  return { ...labels, [value.slice(0, at)]: value.slice(at + 1) };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError(`expected 1-65535, got ${value}`);
  return port;
}

function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): Target {
  if (flags.sandbox) return { kind: 'sandbox', dir: flags.sandbox };
  if (flags.local) return { kind: 'local' };
  const url = flags.apiUrl ?? env.EDGEKEEPER_API_URL;
  if (!url)
    throw new UsageError('choose where to run: --local, --sandbox <dir>, or --api-url <url> (EDGEKEEPER_API_URL)');
  return { kind: 'api', url };
}

/** Runs one workflow in-process and reports it; resolves to the exit code. */
export async function runWorkflowCommand(
  workflow: string,
  input: unknown,
  flags: TargetFlags,
  io: Io,
): Promise<number> {
  const target = resolveTarget(flags, io.env);
  if (!listAslFiles().some((asl) => asl.name === workflow)) {
    throw new UsageError(`the ${workflow} workflow is not built yet in this version of edgekeeper`);
  }
  if (target.kind === 'api') {
    throw new UsageError(`--api-url: calling the deployed REST API is not built yet; use --local or --sandbox <dir>`);
  }
  Object.assign(process.env, await environmentFor(target));
  routeHandlerLogs(flags.logFile ?? defaultLogFile(target), Boolean(flags.verbose), io);
  const result = await runWorkflow({
    workflow,
    input,
    executionName: flags.executionName,
    // The sandbox is simulated: shorten pauses, not the time the steps measure.
    waits: target.kind === 'sandbox' ? 'compressed' : 'real',
    compressedWaitMs: 250,
    onEvent: flags.json ? undefined : progressPrinter((line) => io.stderr(`${line}\n`), io.color),
  });
  io.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
  return result.status === 'SUCCEEDED' ? EXIT.ok : EXIT.workflowFailed;
}

async function environmentFor(target: Exclude<Target, { kind: 'api' }>): Promise<Record<string, string>> {
  try {
    return await handlerEnvironment(target);
  } catch (error) {
    if (target.kind === 'sandbox' && error instanceof SandboxInfoError) {
      throw new UsageError(
        `--sandbox ${target.dir}: ${error.message}; start one with: edgekeeper sandbox start --detach --dir ${target.dir}`,
      );
    }
    throw error;
  }
}

function formatResult(result: WorkflowResult): string {
  if (result.status === 'FAILED') return `FAILED ${result.error?.name}: ${result.error?.message}\n`;
  return `SUCCEEDED\n${dump(result.output, { lineWidth: 120 })}`;
}

/**
 * The steps log through Powertools, which in dev mode writes to the global console. Point that console at a log
 * file (or stderr with --verbose, or nowhere) so stdout carries only the result.
 */
export function routeHandlerLogs(logFile: string | undefined, verbose: boolean, io: Io): void {
  const stream = verbose
    ? lineWriter(io.stderr)
    : logFile
      ? createWriteStream(logFile, { flags: 'a' })
      : lineWriter(() => undefined);
  globalThis.console = new Console({ stdout: stream, stderr: stream });
}

function lineWriter(write: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      write(chunk.toString());
      done();
    },
  });
}
