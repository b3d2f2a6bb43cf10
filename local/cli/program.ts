import { Command, CommanderError } from 'commander';
import type { DriftSummary } from '../../functions/drift-report/core';
import { markCliMain } from '../demo-timings';
import type { InventoryEmitFlags } from '../inventory/emit';
import { DEFAULT_SANDBOX_DIR } from '../sandbox/defaults';
import { BATCH_VIEW, readBatchFile, refuseSingleNodeFlags, requireSingleNodeFlags } from './batch-view';
import type { CredentialsFlags } from './credentials';
import { formatDriftSummary } from './drift-view';
import { checkExecutionNameFlag, checkOnboardFlags, checkRemoveFlags } from './flags';
import { EXIT, type Io, processIo, shown, UsageError } from './io';
import type { LocalTarget } from './local-target';
import type { LocalRunOptions } from './local-workflow';
import type { ServeFlags } from './serve';
import type { Target } from './targets';
import { TOKEN_DURATION } from './token-duration';

/*
 * The command wiring: commands, options, flag checks. Whatever runs in this process (the local runtime, the
 * sandbox, the Kubernetes client) is loaded by the action that needs it, when it runs, so that `--api-url`, which
 * only calls the REST API, never loads it (test/unit/local/cli-module-graph.test.ts holds this module to that).
 * The API's client (an AWS credential chain, request signing) loads the same way: a local run or the demo never
 * needs it.
 * They load with `require`, not `import()`: the CLI runs as CommonJS (tsx/cjs, see bin/edgekeeper.js), where an
 * `import()` goes to Node's own ESM loader, which cannot load a `.ts` file.
 */

export { EXIT, type Io, UsageError } from './io';

interface TargetFlags {
  readonly local?: boolean;
  readonly sandbox?: string;
  readonly apiUrl?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly logFile?: string;
  readonly executionName?: string;
  /** false with --no-wait */
  readonly wait?: boolean;
}

/** Runs the CLI and resolves to its exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  markCliMain();
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
      .option('--verbose', 'show the steps’ logs on stderr')
      .option('--no-wait', 'with --api-url: print the operation id once the API accepted it, and return');

  workflowCommand('onboard', 'join an edge host to the cluster as a KubeEdge edge node')
    .option('--name <name>', 'node name (DNS-1123 label); required unless --batch')
    .option('--ip <ip>', 'internal IP of the node (IPv4, unique in the cluster); required unless --batch')
    .option('--batch <file>', 'onboard every request of a JSON file (- for stdin) as the batch-onboard workflow')
    .option(
      '--instance <id>',
      'SSM managed instance id of the edge host (mi-… or i-…); without it, a manual join: prints the command to run on the device',
    )
    .option('--no-taint', 'do not add the node-role.kubernetes.io/edge:NoSchedule taint')
    .option('--kubeedge-version <version>', 'KubeEdge version to install (e.g. v1.6.1)')
    .option('--region <region>', 'download region for keadm: zh or en')
    .option('--label <key=value>', 'extra node label (repeatable)', collect, [])
    .option('--dry-run', 'render the plan (script, settings, DaemonSets to patch) and change nothing')
    .action(async (flags: TargetFlags & OnboardFlags) => {
      if (flags.batch !== undefined) {
        const { batch, taint, label, ...single } = flags;
        refuseSingleNodeFlags({
          '--name': single.name,
          '--ip': single.ip,
          '--instance': single.instance,
          '--no-taint': taint ? undefined : false,
          '--kubeedge-version': single.kubeedgeVersion,
          '--region': single.region,
          '--label': label.length > 0 ? label : undefined,
          '--dry-run': single.dryRun,
        });
        setExit(await runBatchCommand('batch-onboard', batch, flags, io));
        return;
      }
      requireSingleNodeFlags({ '--name <name>': flags.name, '--ip <ip>': flags.ip });
      const input = {
        nodeName: flags.name,
        nodeIp: flags.ip,
        ...(flags.instance !== undefined && { instanceId: flags.instance }),
        taint: flags.taint,
        ...(flags.kubeedgeVersion !== undefined && { kubeedgeVersion: flags.kubeedgeVersion }),
        ...(flags.region !== undefined && { region: flags.region }),
        labels: parseLabels(flags.label),
        dryRun: Boolean(flags.dryRun),
      };
      checkOnboardFlags(input);
      // a manual join: this process renders the join command (it holds the token) and shows it once; through the
      // REST API, the API renders it and the client shows it
      const manual = flags.instance === undefined && !input.dryRun;
      setExit(await runWorkflowCommand('onboard-node', input, flags, io, manual ? { manualJoin: input } : {}));
    });

  targetCommand('join-command', 'print the command that joins a device by hand (KubeSphere\'s "Add Edge Node" command)')
    .requiredOption('--name <name>', 'node name (DNS-1123 label)')
    .requiredOption('--ip <ip>', 'internal IP of the node (IPv4, unique in the cluster)')
    .option('--no-taint', 'do not add the node-role.kubernetes.io/edge:NoSchedule taint')
    .option('--kubeedge-version <version>', 'KubeEdge version to install (e.g. v1.6.1)')
    .option('--region <region>', 'download region for keadm: zh or en')
    .action(async (flags: TargetFlags & Omit<OnboardFlags, 'label' | 'instance' | 'dryRun'>) => {
      const input = {
        nodeName: flags.name,
        nodeIp: flags.ip,
        taint: flags.taint,
        ...(flags.kubeedgeVersion !== undefined && { kubeedgeVersion: flags.kubeedgeVersion }),
        ...(flags.region !== undefined && { region: flags.region }),
      };
      checkOnboardFlags(input);
      const remote = resolveTarget(flags, io.env);
      if (remote.kind === 'api') {
        const { runApiJoinCommand } = require('./api-client') as typeof import('./api-client');
        setExit(await runApiJoinCommand(input, { url: remote.url, json: Boolean(flags.json) }, io));
        return;
      }
      const target = localTarget(flags, io);
      const { environmentFor, logDestination } = require('./local-target') as typeof import('./local-target');
      const { printJoinCommand, stepEnvironment } = require('./manual-join') as typeof import('./manual-join');
      const environment = await environmentFor(target, logDestination(flags, target));
      setExit(await printJoinCommand(input, stepEnvironment(io, environment), io, Boolean(flags.json)));
    });

  workflowCommand('remove', 'remove an edge node: drain, reset the host, delete the node')
    .option('--name <name>', 'node name; required unless --batch')
    .option('--batch <file>', 'remove every node a JSON file (- for stdin) requests, as the batch-remove workflow')
    .option('--instance <id>', 'SSM instance id (default: the one recorded on the node)')
    .option('--drain', 'evict workload pods first instead of refusing')
    .option('--force', 'when the host is offline, clean up the cluster side only')
    .option(
      '--force-host <id>',
      'reset the host even though it serves another node; must repeat the instance id being reset',
    )
    .action(async (flags: TargetFlags & RemoveFlags) => {
      if (flags.batch !== undefined) {
        refuseSingleNodeFlags({
          '--name': flags.name,
          '--instance': flags.instance,
          '--drain': flags.drain,
          '--force': flags.force,
          '--force-host': flags.forceHost,
        });
        setExit(await runBatchCommand('batch-remove', flags.batch, flags, io));
        return;
      }
      requireSingleNodeFlags({ '--name <name>': flags.name });
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
    .option('--remediate', 'fix what is safe to fix: fence DaemonSets, expire locks of ended executions')
    .action(async (flags: TargetFlags & { remediate?: boolean }) => {
      // with --api-url: POST /drift-checks, followed to its summary
      const input = { remediate: Boolean(flags.remediate) };
      const view = (output: unknown) => formatDriftSummary(output as DriftSummary);
      setExit(await runWorkflowCommand('drift-check', input, flags, io, { view }));
    });

  targetCommand('unlock', 'break the lock of a node name once its holder is gone: shows who holds it first')
    .requiredOption('--name <name>', 'node name')
    .option('--force', 'break it even while its holder may still run')
    .action(async (flags: TargetFlags & { name: string; force?: boolean }) => {
      checkRemoveFlags({ mode: 'remove', nodeName: flags.name });
      const target = localTarget(flags, io);
      const { unlockCommand } = require('./unlock') as typeof import('./unlock');
      setExit(await unlockCommand(flags, target, io));
    });

  program
    .command('credentials')
    .description("edgekeeper's own cluster identity")
    .command('create')
    .description(
      'with the admin kubeconfig: apply deploy/rbac.yaml, request a bounded token of its ServiceAccount and store ' +
        'a kubeconfig with it as the SSM SecureString the steps read',
    )
    .option('--local', 'KUBECONFIG is the admin identity; the AWS credentials of this shell write the parameter')
    .option('--sandbox <dir>', 'a started sandbox: its admin kubeconfig and its SSM endpoint')
    .option(
      '--parameter <name>',
      'the SSM parameter (default: EDGEKEEPER_KUBECONFIG_PARAMETER or /edgekeeper/kubeconfig)',
    )
    .option(
      '--duration <duration>',
      `the token's lifetime, 10m to 2160h: 90 days is the usual rotation period of a stored credential ` +
        `(default: ${TOKEN_DURATION.default}, 30 days)`,
    )
    .option('--print', 'print the kubeconfig to stdout instead of storing it: it holds the token, keep it secret')
    .option('--json', 'print one JSON document')
    .exitOverride()
    .action(async (flags: CredentialsFlags) => {
      const { createCredentialsCommand } = require('./credentials') as typeof import('./credentials');
      setExit(await createCredentialsCommand(flags, io));
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
      const { startSandboxCommand } = require('./sandbox-commands') as typeof import('./sandbox-commands');
      setExit(await startSandboxCommand(flags, io));
    });
  sandbox
    .command('stop')
    .description('stop a detached sandbox and clean up its namespaces and mounts')
    .option('--dir <dir>', 'state directory', DEFAULT_SANDBOX_DIR)
    .exitOverride()
    .action(async (flags: { dir: string }) => {
      const { stopSandboxCommand } = require('./sandbox-commands') as typeof import('./sandbox-commands');
      setExit(await stopSandboxCommand(flags, io));
    });

  program
    .command('inventory')
    .description('device inventory events, as a fleet system publishes them')
    .command('emit')
    .description(
      'emit Device Registered / Device Retired events for sandbox hosts through an in-process queue (SQS ' +
        'semantics) to the inventory starter; drain it and print each event’s outcome and the dead-letter queue',
    )
    .option('--sandbox <dir>', 'a started sandbox: its hosts, cluster and workflows')
    .option('--registered <instance-id>', 'a Device Registered event for this host (repeatable)', collect, [])
    .option('--retired <instance-id>', 'a Device Retired event for this host (repeatable)', collect, [])
    .option('--name <name>', 'the node name the event carries (default: the host’s name)')
    .option('--ip <ip>', 'the node IP a Registered event carries (default: the host’s address)')
    .option('--event-id <id>', 'the event id (default: a new UUID); the same id twice is one execution')
    .option('--detail <json>', 'JSON merged over each event’s detail (a site’s own fields, or a broken one)')
    .option('--duplicate', 'deliver every event twice, as SQS may')
    .option('--json', 'print one JSON document')
    .exitOverride()
    .action(async (flags: InventoryEmitFlags) => {
      const { inventoryEmitCommand } = require('../inventory/emit') as typeof import('../inventory/emit');
      setExit(await inventoryEmitCommand(flags, io));
    });

  program
    .command('serve')
    .description('serve the REST API on 127.0.0.1, running the workflows in this process (no IAM: local use only)')
    .option('--sandbox <dir>', 'run the workflows against a started sandbox')
    .option('--local', 'run the workflows against KUBECONFIG and the AWS credentials of this shell')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '8080')
    .exitOverride()
    .action(async (flags: ServeFlags) => {
      const { serveCommand } = require('./serve') as typeof import('./serve');
      setExit(await serveCommand(flags, io));
    });

  program
    .command('demo')
    .description(
      'on an embedded sandbox: add an edge node, roll back a failing join, remove the node, uninstall KubeEdge',
    )
    .option('--timings <file>', 'also write where the time went as JSON (what `npm run bench` reads)')
    .exitOverride()
    .action(async (flags: { timings?: string }) => {
      const { runDemo } = require('../demo') as typeof import('../demo');
      setExit(await runDemo(io, flags.timings === undefined ? {} : { timingsFile: flags.timings }));
    });

  return program;
}

interface OnboardFlags {
  /** `onboard` checks it (and --ip) is given unless --batch; `join-command` requires both */
  readonly name: string;
  readonly ip: string;
  /** the file of a batch, whose requests replace the single node's flags */
  readonly batch?: string;
  readonly instance?: string;
  readonly taint: boolean;
  readonly kubeedgeVersion?: string;
  readonly region?: string;
  readonly label: string[];
  readonly dryRun?: boolean;
}

interface RemoveFlags {
  /** checked given unless --batch */
  readonly name: string;
  readonly batch?: string;
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

/** The target of a command that runs only in this process (the REST API has no route for it). */
function localTarget(flags: TargetFlags, io: Io): LocalTarget {
  const target = resolveTarget(flags, io.env);
  if (target.kind === 'api') {
    throw new UsageError('--api-url: the REST API does not offer this command; use --local or --sandbox <dir>');
  }
  return target;
}

/** Runs one workflow where the flags say: through the REST API, or in this process; resolves to the exit code. */
async function runWorkflowCommand(
  workflow: string,
  input: unknown,
  flags: TargetFlags,
  io: Io,
  /** how a local run shows and ends; the API's client has its own views */
  options: LocalRunOptions = {},
): Promise<number> {
  checkExecutionNameFlag(flags.executionName, workflow);
  const remote = resolveTarget(flags, io.env);
  if (remote.kind === 'api') {
    // the API's call: the workflow runs where the API runs it; nothing of the local runtime is used
    const apiFlags = { ...flags, url: remote.url };
    const shows = {
      ...(options.view && { view: options.view }),
      ...(options.exitCode && { exitCode: options.exitCode }),
    };
    const { runApiWorkflowCommand } = require('./api-client') as typeof import('./api-client');
    return runApiWorkflowCommand(workflow, input as Record<string, unknown>, apiFlags, io, {}, shows);
  }
  if (flags.wait === false) throw new UsageError('--no-wait: only with --api-url; a local run lives in this process');
  const target = localTarget(flags, io);
  const { runLocalWorkflow } = require('./local-workflow') as typeof import('./local-workflow');
  return runLocalWorkflow(workflow, input, flags, target, io, options);
}

/** `onboard|remove --batch FILE`: the batch workflow over the file's requests (through POST /batches with --api-url). */
async function runBatchCommand(
  workflow: 'batch-onboard' | 'batch-remove',
  file: string,
  flags: TargetFlags,
  io: Io,
): Promise<number> {
  return runWorkflowCommand(workflow, { requests: readBatchFile(file) }, flags, io, BATCH_VIEW);
}
