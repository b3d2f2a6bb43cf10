import { existingNodeNameRule, instanceIdRule } from './domain';
import { EdgekeeperError } from './errors';
import { resetCommand } from './keadm/reset';
import type { KeadmProfile } from './kubeedge-schemas';
import { shellQuote, withValues } from './scripts/values-block';
import * as z from './zod';

/**
 * Pure core of "Reset the edge host": renders functions/shared/scripts/reset-edge-node.sh for one host, reads the
 * report it prints, and decides what an offline host means. The handler sends the script with SSM Run Command
 * (as a bash script: it uses arrays and `mapfile`) and passes the command's stdout to {@link parseResetReport}.
 */

/** Exit code of the script when something is left after the reset (the report lists it). */
export const RESET_EXIT_LEFTOVERS = 3;
/** Exit code of the script when it is not run as root (nothing changed, no report). */
export const RESET_EXIT_NOT_ROOT = 4;
/**
 * Exit code of the script when edgecore on the host is configured for another node than the one being removed
 * (nothing changed, no report): the host is not this node's to reset.
 */
export const RESET_EXIT_OTHER_NODE = 5;
/** The prefix of the report line. */
export const RESET_REPORT_PREFIX = 'EDGEKEEPER_RESET_REPORT';

/** Where edgekeeper's join script keeps keadm and its download (join-edge-node.sh); removed whole. */
export const DEFAULT_EDGEKEEPER_DIR = '/opt/edgekeeper';
/** Other places keadm may lie: KubeSphere's manual procedure puts it on PATH. Only keadm files are removed there. */
export const DEFAULT_KEADM_DIRS: readonly string[] = ['/usr/local/bin'];

/** What {@link renderResetScript} needs to know about the host. */
export interface ResetScriptOptions {
  /** The node being removed: the script refuses a host whose edgecore is configured for another node. */
  readonly nodeName: string;
  /** The SSM managed instance the script is sent to, named in its messages. */
  readonly instanceId: string;
  /**
   * Reset even when edgecore on the host serves another node. Must equal `instanceId`: forcing names the host, so
   * a force meant for one host never resets another.
   */
  readonly forceHost?: string | null;
  readonly profile: KeadmProfile;
  /** The KubeEdge / keadm version installed on the host (`v1.6.1`, `1.6.1`, `v1.6.1-kubesphere`). */
  readonly version: string;
  /** edgekeeper's directory on the host, removed whole. @default DEFAULT_EDGEKEEPER_DIR */
  readonly edgekeeperDir?: string;
  /** Directories that may hold keadm and its tarballs (only those removed). @default DEFAULT_KEADM_DIRS */
  readonly keadmDirs?: readonly string[];
  /**
   * Bound on `keadm reset`, which stops containers and can hang on a wedged container runtime: the
   * `keadmResetTimeoutSeconds` setting, whose default and bounds live in the settings table.
   */
  readonly keadmTimeoutSeconds: number;
  /**
   * Remove the mosquitto package. The fork's keadm installs it with apt/yum; upstream keadm ≥ 1.12 runs MQTT as a
   * container (or a cloud DaemonSet from 1.16), so a mosquitto package there is the user's, not ours.
   * @default profile === 'fork'
   */
  readonly removeMosquitto?: boolean;
}

/** The template lacks the `edgekeeper:values` block the renderer replaces. */
export class ResetTemplateError extends EdgekeeperError {
  override readonly name = 'ResetTemplateError';
}

/**
 * Renders the reset script: the template with its values block replaced by shell-quoted values. Pure; the template
 * is passed in (see template.ts) so this module does no I/O.
 * @throws UnsupportedKeadmVersionError for a keadm version the flag table cannot place
 * @throws ResetTemplateError when a value is unusable; ScriptTemplateError when the template has no values block
 */
export function renderResetScript(template: string, options: ResetScriptOptions): string {
  const dirs = options.keadmDirs ?? DEFAULT_KEADM_DIRS;
  const timeout = options.keadmTimeoutSeconds;
  const edgekeeperDir = options.edgekeeperDir ?? DEFAULT_EDGEKEEPER_DIR;
  // Removed with rm -rf: refuse anything that is not a dedicated absolute directory.
  if (!/^\/[^/]+\/[^/]/.test(edgekeeperDir) || edgekeeperDir.split('/').includes('..')) {
    throw new ResetTemplateError(`edgekeeperDir ${edgekeeperDir} must be an absolute path at least two levels deep`);
  }
  if (dirs.length === 0 || dirs.some((dir) => !dir.startsWith('/'))) {
    throw new ResetTemplateError(`keadmDirs ${JSON.stringify(dirs)} must be a non-empty list of absolute paths`);
  }
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new ResetTemplateError(`keadmTimeoutSeconds ${timeout} must be a positive integer`);
  }
  const nameProblem = existingNodeNameRule(options.nodeName);
  if (nameProblem) throw new ResetTemplateError(`nodeName ${options.nodeName} ${nameProblem}`);
  const idProblem = instanceIdRule(options.instanceId);
  if (idProblem) throw new ResetTemplateError(`instanceId ${options.instanceId} ${idProblem}`);
  if (options.forceHost && options.forceHost !== options.instanceId) {
    throw new ResetTemplateError(
      `forceHost ${options.forceHost} must name the host the script is sent to (${options.instanceId})`,
    );
  }
  const values = [
    `# rendered for node ${options.nodeName} on ${options.instanceId}, keadm ${options.profile} ${options.version}`,
    `NODE_NAME=${shellQuote(options.nodeName)}`,
    `INSTANCE_ID=${shellQuote(options.instanceId)}`,
    `FORCE_HOST=${shellQuote(options.forceHost ?? '')}`,
    `KEADM_RESET_ARGS=(${resetCommand(options.profile, options.version).map(shellQuote).join(' ')})`,
    `EDGEKEEPER_DIR=${shellQuote(edgekeeperDir)}`,
    `KEADM_DIRS=(${dirs.map(shellQuote).join(' ')})`,
    `KEADM_TIMEOUT_SECONDS=${timeout}`,
    `REMOVE_MOSQUITTO=${(options.removeMosquitto ?? options.profile === 'fork') ? 'true' : 'false'}`,
  ];
  return withValues(template, 'reset-edge-node.sh', values);
}

/** The script refused the host: its edgecore is configured for another node. Nothing on the host was changed. */
export class HostServesAnotherNodeError extends EdgekeeperError {
  override readonly name = 'HostServesAnotherNodeError';
  constructor(
    readonly nodeName: string,
    readonly instanceId: string,
    /** the node edgecore on the host is configured for, as the script printed it ('unknown' when it did not) */
    readonly servedNode: string,
  ) {
    super(
      `host ${instanceId} runs edgecore for node ${servedNode}, not ${nodeName}: not reset, nothing changed on it; ` +
        `pass forceHost ${instanceId} (with instanceId ${instanceId}) to reset it anyway`,
    );
  }
}

/** The error for a reset that ended with RESET_EXIT_OTHER_NODE, naming the node the script found on the host. */
export function hostServesAnotherNode(
  nodeName: string,
  instanceId: string,
  output: string,
): HostServesAnotherNodeError {
  const served = /is configured for node (\S+), not /.exec(output)?.[1] ?? 'unknown';
  return new HostServesAnotherNodeError(nodeName, instanceId, served);
}

/**
 * The report line the script prints last. A function, not a module constant, so that a step which only renders the
 * script (send-reset-script) does not carry the schema: a schema built at module level is a call the bundler keeps.
 */
function resetReportSchema() {
  return z.object({
    version: z.literal(1),
    clean: z.boolean(),
    keadm: z.enum(['reset', 'failed', 'absent']),
    edgecore: z.enum(['stopped', 'absent']),
    mosquitto: z.enum(['removed', 'absent', 'kept', 'failed']),
    /** the EdgeMesh preparation of the join (nsswitch.conf, ip_forward) undone, or none was recorded */
    edgemesh: z.enum(['restored', 'absent']),
    removed: z.array(z.string()),
    unmounted: z.array(z.string()),
    lazyUnmounted: z.array(z.string()),
    leftovers: z.array(z.string()),
  });
}
export type ResetReport = z.infer<ReturnType<typeof resetReportSchema>>;

/** The script printed no report (killed, not root, or SSM cut its output). */
export class ResetReportMissingError extends EdgekeeperError {
  override readonly name = 'ResetReportMissingError';
  constructor(readonly stdoutTail: string) {
    super(`the reset script printed no ${RESET_REPORT_PREFIX} line; last output: ${stdoutTail || '(none)'}`);
  }
}

/** The report line is not the JSON the script writes. */
export class ResetReportInvalidError extends EdgekeeperError {
  override readonly name = 'ResetReportInvalidError';
}

/**
 * Reads the last report line of the script's stdout.
 * @throws ResetReportMissingError when there is none
 * @throws ResetReportInvalidError when it is not valid report JSON
 */
export function parseResetReport(stdout: string): ResetReport {
  const line = stdout
    .split(/\r?\n/)
    .reverse()
    .find((candidate) => candidate.startsWith(`${RESET_REPORT_PREFIX} `));
  if (line === undefined) throw new ResetReportMissingError(stdout.trimEnd().split('\n').slice(-3).join(' | '));
  let json: unknown;
  try {
    json = JSON.parse(line.slice(RESET_REPORT_PREFIX.length + 1));
  } catch (error) {
    throw new ResetReportInvalidError(`reset report is not JSON: ${(error as Error).message}`);
  }
  const result = resetReportSchema().safeParse(json);
  if (!result.success) {
    throw new ResetReportInvalidError(`reset report has an unexpected shape: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/** The reset ran but left things behind; names the node, the host and each leftover. */
export class HostResetIncompleteError extends EdgekeeperError {
  override readonly name = 'HostResetIncompleteError';
  constructor(
    readonly nodeName: string,
    readonly instanceId: string,
    readonly report: ResetReport,
  ) {
    super(`host ${instanceId} of node ${nodeName} is not clean after the reset: left ${report.leftovers.join(', ')}`);
  }
}

/**
 * Accepts a clean report, refuses one with leftovers.
 * @throws HostResetIncompleteError
 */
export function assertHostClean(nodeName: string, instanceId: string, report: ResetReport): ResetReport {
  if (!report.clean || report.leftovers.length > 0) throw new HostResetIncompleteError(nodeName, instanceId, report);
  return report;
}

/** What the reset would have cleaned: the host state an offline host keeps. */
export const HOST_STATE_NOT_CLEANED: readonly string[] = [
  'edgecore.service (still enabled: it reconnects if the host comes back)',
  'mosquitto',
  '/var/lib/kubeedge',
  '/var/lib/edged (and its mounts)',
  '/etc/kubeedge (ca, certs, config)',
  '/usr/local/bin/edgecore',
  'keadm and /opt/edgekeeper',
];

/** The host cannot take an SSM command and `force` was not given; says what stays on the host. */
export class HostCannotBeResetError extends EdgekeeperError {
  override readonly name = 'HostCannotBeResetError';
  constructor(
    readonly nodeName: string,
    readonly instanceId: string,
    readonly pingStatus: string,
  ) {
    super(
      `host ${instanceId} of node ${nodeName} is offline (SSM PingStatus ${pingStatus}): not cleaned: ` +
        `${HOST_STATE_NOT_CLEANED.join(', ')}; pass force to clean up the cluster side only`,
    );
  }
}

/** The decision on the host side of a removal. */
export type HostResetDecision =
  | { readonly action: 'reset' }
  | { readonly action: 'skip'; readonly reason: string; readonly notCleaned: readonly string[] };

/**
 * Reset the host when SSM can reach it; otherwise fail, or with `force` skip it and report what stays behind.
 * A missing instance id (a node joined by hand, no annotation) is treated like an unreachable host.
 * @param pingStatus SSM `DescribeInstanceInformation` PingStatus (`Online`, `ConnectionLost`, `Inactive`), or
 *   undefined when SSM does not know the instance
 * @throws HostCannotBeResetError
 */
export function decideHostReset(input: {
  readonly nodeName: string;
  readonly instanceId: string | undefined;
  readonly pingStatus: string | undefined;
  readonly force: boolean;
}): HostResetDecision {
  if (input.instanceId !== undefined && input.pingStatus === 'Online') return { action: 'reset' };
  const status = input.instanceId === undefined ? 'unknown (no instance id)' : (input.pingStatus ?? 'not registered');
  if (!input.force) throw new HostCannotBeResetError(input.nodeName, input.instanceId ?? 'unknown', status);
  return {
    action: 'skip',
    reason: `host ${input.instanceId ?? 'unknown'} is offline (SSM PingStatus ${status}); cluster side only`,
    notCleaned: HOST_STATE_NOT_CLEANED,
  };
}

/**
 * The order the script unmounts in, for tests and plans: mount points (octal-escaped, as in mountinfo) at or under
 * `roots`, deepest first, ties by byte value of the escaped form, then decoded. A child mount is always deeper
 * than its parent, so children go first and no umount fails because something is mounted below it. Stacked mounts
 * on one point appear once per layer, and each layer needs its own umount.
 */
export function unmountOrder(mountPoints: readonly string[], roots: readonly string[]): string[] {
  return mountPoints
    .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)))
    .map((escaped) => ({ escaped, depth: escaped.split('/').length - 1 }))
    .sort((a, b) => b.depth - a.depth || Buffer.compare(Buffer.from(a.escaped), Buffer.from(b.escaped)))
    .map(({ escaped }) => decodeMountPath(escaped));
}

/** Mount points (field 5, still escaped) of a `/proc/<pid>/mountinfo` text. */
export function mountPointsOf(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined && field !== '');
}

/** Decodes the kernel's `\ooo` octal escapes (space, tab, newline, backslash) in a mountinfo path. */
export function decodeMountPath(escaped: string): string {
  return escaped.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
