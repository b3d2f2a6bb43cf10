import { Command, CommanderError } from 'commander';
import { dump } from 'js-yaml';
import { runWithEnvironment } from '../../functions/shared/settings';
import { unlockNode } from '../../functions/shared/unlock';
import { listAslFiles } from '../../lib/asl';
import { runDemo } from '../demo';
import { EXECUTIONS_DIR_ENV, executionsDirFor } from '../executions';
import { runWorkflow, type WorkflowResult } from '../runtime';
import { DEFAULT_SANDBOX_DIR, SandboxInfoError } from '../sandbox/sandbox';
import { checkExecutionNameFlag, checkOnboardFlags, checkRemoveFlags } from './flags';
import { EXIT, type Io, processIo, type StopCause, shown, UsageError } from './io';
import { progressPrinter } from './progress';
import { startSandboxCommand, stopSandboxCommand } from './sandbox-commands';
import { defaultLogFile, handlerEnvironment, type Target } from './targets';

export { EXIT, type Io, UsageError } from './io';

interface TargetFlags {
  readonly local?: boolean;
  readonly sandbox?: string;
  readonly apiUrl?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly logFile?: string;
  readonly executionName?: string;
}

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

  const targetCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .option('--local', 'run in-process against KUBECONFIG and the AWS credentials of this shell')
      .option('--sandbox <dir>', 'run in-process against a started sandbox (implies --local)')
      .option('--api-url <url>', 'the deployed REST API (default: EDGEKEEPER_API_URL)')
      .option('--json', 'print one JSON document');

  const workflowCommand = (name: string, description: string) =>
    targetCommand(name, description)
      .option(
        '--execution-name <name>',
        'idempotency key (1-80 of A-Z a-z 0-9 - _): the same name never runs twice; it returns the first run’s result',
      )
      .option('--log-file <path>', 'append the steps’ logs here (default: <sandbox>/logs/edgekeeper.log)')
      .option('--verbose', 'show the steps’ logs on stderr');

  workflowCommand('onboard', 'join an edge host to the cluster as a KubeEdge edge node')
    .requiredOption('--name <name>', 'node name (DNS-1123 label)')
    .requiredOption('--ip <ip>', 'internal IP of the node (IPv4, unique in the cluster)')
    .requiredOption('--instance <id>', 'SSM managed instance id of the edge host (mi-… or i-…)')
    .option('--no-taint', 'do not add the node-role.kubernetes.io/edge:NoSchedule taint')
    .option('--kubeedge-version <version>', 'KubeEdge version to install (e.g. v1.6.1)')
    .option('--region <region>', 'download region for keadm: zh or en')
    .option('--label <key=value>', 'extra node label (repeatable)', collect, [])
    .option('--dry-run', 'render the plan (script, settings, DaemonSets to patch) and change nothing')
    .action(async (flags: TargetFlags & OnboardFlags) => {
      const input = {
        nodeName: flags.name,
        nodeIp: flags.ip,
        instanceId: flags.instance,
        taint: flags.taint,
        ...(flags.kubeedgeVersion !== undefined && { kubeedgeVersion: flags.kubeedgeVersion }),
        ...(flags.region !== undefined && { region: flags.region }),
        labels: parseLabels(flags.label),
        dryRun: Boolean(flags.dryRun),
      };
      checkOnboardFlags(input);
      setExit(await runWorkflowCommand('onboard-node', input, flags, io));
    });

  workflowCommand('remove', 'remove an edge node: drain, reset the host, delete the node')
    .requiredOption('--name <name>', 'node name')
    .option('--instance <id>', 'SSM instance id (default: the one recorded on the node)')
    .option('--drain', 'evict workload pods first instead of refusing')
    .option('--force', 'when the host is offline, clean up the cluster side only')
    .option(
      '--force-host <id>',
      'reset the host even though it serves another node; must repeat the instance id being reset',
    )
    .action(async (flags: TargetFlags & RemoveFlags) => {
      const input = {
        mode: 'remove',
        nodeName: flags.name,
        ...(flags.instance !== undefined && { instanceId: flags.instance }),
        drain: Boolean(flags.drain),
        force: Boolean(flags.force),
        ...(flags.forceHost !== undefined && { forceHost: flags.forceHost }),
      };
      checkRemoveFlags(input);
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

  targetCommand('unlock', 'break the lock of a node name once its holder is gone: shows who holds it first')
    .requiredOption('--name <name>', 'node name')
    .option('--force', 'break it even while its holder may still run')
    .action(async (flags: TargetFlags & { name: string; force?: boolean }) => {
      checkRemoveFlags({ mode: 'remove', nodeName: flags.name });
      setExit(await unlockCommand(flags, io));
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
    .option('--port <port>', 'port', '8080')
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
  readonly region?: string;
  readonly label: string[];
  readonly dryRun?: boolean;
}

interface RemoveFlags {
  readonly name: string;
  readonly instance?: string;
  readonly drain?: boolean;
  readonly force?: boolean;
  readonly forceHost?: string;
}

function collect(value: string, values: string[]): string[] {
  return [...values, value];
}

/** `--label key=value`, repeatable; checked here rather than in a commander parser, whose errors echo the value whole. */
function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--label ${shown(value)} must be key=value`);
    labels[value.slice(0, at)] = value.slice(at + 1);
  }
  return labels;
}

function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): Target {
  if (flags.sandbox) return { kind: 'sandbox', dir: flags.sandbox };
  if (flags.local) return { kind: 'local' };
  const url = flags.apiUrl ?? env.EDGEKEEPER_API_URL;
  if (!url)
    throw new UsageError('choose where to run: --local, --sandbox <dir>, or --api-url <url> (EDGEKEEPER_API_URL)');
  return { kind: 'api', url };
}

/** The target, if it runs in this process; the REST API does not exist yet. */
function localTarget(flags: TargetFlags, io: Io): Exclude<Target, { kind: 'api' }> {
  const target = resolveTarget(flags, io.env);
  if (target.kind === 'api') {
    throw new UsageError(`--api-url: calling the deployed REST API is not built yet; use --local or --sandbox <dir>`);
  }
  return target;
}

/** What a stop request does to a running workflow, said once when it arrives. */
const STOP_NOTICE = {
  graceful: (cause: StopCause) =>
    `${cause}: stopping at the next step; the workflow's failure path will roll back what it did and release its ` +
    `lock.${cause === 'parent exited' ? '' : ' Press Ctrl-C again to stop at once (no rollback).'}`,
  immediate: (cause: StopCause) => `${cause} again: stopping at once.`,
};

/** Runs one workflow in-process and reports it; resolves to the exit code. */
export async function runWorkflowCommand(
  workflow: string,
  input: unknown,
  flags: TargetFlags,
  io: Io,
): Promise<number> {
  checkExecutionNameFlag(flags.executionName, workflow);
  const target = localTarget(flags, io);
  if (!listAslFiles().some((asl) => asl.name === workflow)) {
    throw new UsageError(`the ${workflow} workflow is not built yet in this version of edgekeeper`);
  }
  const environment = await environmentFor(target, logDestination(flags, target));
  const graceful = new AbortController();
  const immediate = new AbortController();
  let firstCause: StopCause | undefined;
  const unsubscribe = io.onStop((cause) => {
    if (!firstCause) {
      firstCause = cause;
      io.stderr(`\n${STOP_NOTICE.graceful(cause)}\n`);
      graceful.abort(cause);
    } else if (cause !== 'parent exited' && !immediate.signal.aborted) {
      // an orphaned process only ever stops gracefully: nobody is left to ask twice
      io.stderr(`${STOP_NOTICE.immediate(cause)}\n`);
      immediate.abort(cause);
    }
  });
  let result: WorkflowResult;
  try {
    result = await runWorkflow({
      workflow,
      input,
      executionName: flags.executionName,
      executionsDir: executionsDirFor(target, io.env),
      environment,
      signal: graceful.signal,
      stopNow: immediate.signal,
      // The sandbox is simulated: shorten pauses, not the time the steps measure.
      waits: target.kind === 'sandbox' ? 'compressed' : 'real',
      compressedWaitMs: 250,
      onEvent: flags.json ? undefined : progressPrinter((line) => io.stderr(`${line}\n`), io.color),
    });
  } finally {
    unsubscribe();
  }
  io.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
  if (result.stop && !flags.json) io.stderr(formatStop(result));
  return exitCodeOf(result, firstCause);
}

function exitCodeOf(result: WorkflowResult, cause: StopCause | undefined): number {
  if (result.status === 'SUCCEEDED') return EXIT.ok;
  if (result.status === 'ABORTED') return cause === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  return EXIT.workflowFailed;
}

/** `edgekeeper unlock`: shows who holds a node name's locks and whether they are gone, then breaks them or refuses. */
async function unlockCommand(flags: TargetFlags & { name: string; force?: boolean }, io: Io): Promise<number> {
  const target = localTarget(flags, io);
  const environment = await environmentFor(target, 'off');
  // the local executions' records tell whether a local holder is gone
  const executions = { [EXECUTIONS_DIR_ENV]: executionsDirFor(target, io.env) };
  const record = await runWithEnvironment({ ...io.env, ...environment, ...executions }, () =>
    unlockNode({ name: flags.name, force: Boolean(flags.force) }),
  );
  if (flags.json) io.stdout(`${JSON.stringify(record, null, 2)}\n`);
  else {
    const lines = record.locks.map(
      (lock) =>
        `  ${lock.lease} (${lock.key}${lock.instanceId ? ` ${lock.instanceId}` : ''}${lock.nodeIp ? ` ${lock.nodeIp}` : ''})` +
        ` held by ${lock.holder ?? 'nobody'}: ${HOLDER_STATE[lock.holderStatus]}` +
        `${lock.expiresAt ? `, expires ${lock.expiresAt}` : ''}; ${lock.broken ? 'broken' : (lock.note ?? 'kept')}`,
    );
    io.stdout([record.message, ...lines, ''].join('\n'));
  }
  return record.outcome === 'refused' ? EXIT.workflowFailed : EXIT.ok;
}

const HOLDER_STATE = {
  running: 'still running',
  ended: 'gone (its execution ended)',
  unknown: 'unknown to this machine',
} as const;

/** Where the steps' logs go: --verbose to stderr, --log-file, a sandbox's log file, or nowhere. */
function logDestination(flags: TargetFlags, target: Exclude<Target, { kind: 'api' }>): string {
  if (flags.verbose) return 'stderr';
  return flags.logFile ?? defaultLogFile(target) ?? 'off';
}

async function environmentFor(target: Exclude<Target, { kind: 'api' }>, logs: string): Promise<Record<string, string>> {
  try {
    return await handlerEnvironment(target, logs);
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
  const replayed = result.execution?.replayed
    ? `(execution ${result.execution.name} already ran: this is its result; nothing ran now)\n`
    : '';
  if (result.status !== 'SUCCEEDED')
    return `${replayed}${result.status} ${result.error?.name}: ${result.error?.message}\n`;
  return `${replayed}SUCCEEDED\n${dump(result.output, { lineWidth: 120 })}`;
}

/** What a stop did, in words: which steps ran after it (the rollback and lock release) and where it is recorded. */
export function formatStop(result: WorkflowResult): string {
  const stop = result.stop;
  if (!stop) return '';
  const record = result.execution ? ` Recorded as ${result.status} in ${result.execution.record}.` : '';
  const unlock =
    ' Any lock it still holds is free for the next run, its holder having ended (`edgekeeper unlock` shows it).';
  if (stop.mode === 'immediate') {
    return `Stopped at once on ${stop.reason}: no rollback ran.${record}${unlock}\n`;
  }
  const before = stop.before
    ? ` before "${stop.before}"`
    : result.status === 'SUCCEEDED'
      ? ' too late: the workflow had no step left to stop at'
      : ', but the workflow failed on its own before reaching a step to stop at';
  if (stop.afterwards.length === 0) {
    return `Stopped on ${stop.reason}${before}: nothing needed undoing.${record}\n`;
  }
  const steps = stop.afterwards.map((step) => `${step.state} ${step.ok ? '✓' : '✗'}`).join(', ');
  const clean = stop.afterwards.every((step) => step.ok);
  return (
    `Stopped on ${stop.reason}${before}; then the failure path ran: ${steps}.` +
    `${clean ? ' Rolled back and released.' : ` Not everything was undone.${unlock}`}${record}\n`
  );
}
