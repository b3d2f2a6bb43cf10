import { createHash } from 'node:crypto';
import { nodeIpRule, nodeNameRule, type Rule } from './domain';
import { EdgekeeperError } from './errors';
import { joinPlanFor } from './keadm/profiles';
import { ARCH_PLACEHOLDER, type JoinSettings, labelKeyRule, labelValueRule } from './schemas';
import { script as joinScriptTemplate } from './scripts/generated/join-edge-node';
import { assign, assignArray, shellQuote, withValues } from './scripts/values-block';

/** A JoinSettings value that cannot go into a host script (a bug or tampering upstream of this step). */
export class InvalidJoinSettingsError extends EdgekeeperError {
  override readonly name = 'InvalidJoinSettingsError';
}

/** The join token does not look like cloudcore's `<sha256 hex>.<JWT>`; the message never contains it. */
export class InvalidJoinTokenError extends EdgekeeperError {
  override readonly name = 'InvalidJoinTokenError';
}

/** Exit codes of the join script, as documented in its header; keys are the step the code belongs to. */
export const JOIN_SCRIPT_EXIT_CODES: Readonly<Record<number, { step: string; meaning: string }>> = Object.freeze({
  1: { step: 'script', meaning: 'unexpected failure' },
  2: { step: 'setup', meaning: 'no join token given, or its parameter could not be read' },
  10: { step: 'preflight', meaning: 'CPU architecture not supported' },
  11: { step: 'preflight', meaning: 'no container runtime' },
  12: { step: 'preflight', meaning: 'docker older than 19.3.0' },
  13: { step: 'preflight', meaning: 'a required tool is missing (wget, curl, tar)' },
  14: { step: 'preflight', meaning: 'a cloudcore public port is unreachable' },
  15: { step: 'preflight', meaning: 'edgecore already runs on this host for another node' },
  16: { step: 'preflight', meaning: 'nodeIp is not an address of this host' },
  17: { step: 'edgemesh', meaning: 'EdgeMesh preparation failed' },
  20: { step: 'download', meaning: 'keadm download or unpacking failed' },
  21: { step: 'join', meaning: 'keadm join failed' },
});

/**
 * Renders the host script: the template's values block replaced with these settings, each validated and quoted.
 * Pure: the same settings give the same script. The token is not in it (see `joinCommands`). Taint and labels this
 * keadm cannot set are returned by `joinPlanFor(settings).applyViaApi` for the finish step.
 * @throws InvalidJoinSettingsError naming the bad value
 * @throws UnsupportedKeadmFlagError when the keadm version cannot express the settings
 */
export function renderHostScript(settings: JoinSettings): string {
  checkSettings(settings);
  const plan = joinPlanFor(settings);
  const { ports } = settings.cloudcore;
  const block = [
    `# rendered for node ${settings.nodeName} by edgekeeper render-host-script`,
    assign('node_name', settings.nodeName),
    assign('node_ip', settings.nodeIp),
    assign('kubeedge_version', settings.version),
    assign('profile', settings.profile),
    `# shellcheck disable=SC2016 # ${ARCH_PLACEHOLDER} is a placeholder this script fills in, not an expansion`,
    assign('download_url_template', settings.downloadUrl),
    assign('cloudcore_address', settings.cloudcore.address),
    // The edge dials cloudhub (websocket), https (certificates) and the tunnel over TCP; quic is UDP and the
    // stream port is dialled by the API server, not by the edge, so neither is probed from the host.
    assignArray('cloudcore_tcp_ports', [ports.cloudhub, ports.https, ports.tunnel].map(String)),
    assign('node_ip_must_be_local', String(plan.nodeIpMustBeLocal)),
    assignArray('keadm_join_args', plan.args),
    assignArray('runtime_args_docker', plan.runtimeArgs.docker),
    assignArray('runtime_args_containerd', plan.runtimeArgs.containerd),
    assignArray('runtime_args_crio', plan.runtimeArgs.crio),
  ];
  return withValues(joinScriptTemplate, 'join-edge-node.sh', block);
}

const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;
// no whitespace, quotes, backslash or control characters (NUL cannot reach a shell at all)
const URL_TEXT = /^https?:\/\/[^\s'"`\\\p{Cc}]+$/u;

function checkSettings(settings: JoinSettings): void {
  const checks: [string, string, Rule<string>][] = [
    ['nodeName', settings.nodeName, nodeNameRule],
    ['nodeIp', settings.nodeIp, nodeIpRule],
    ['version', settings.version, (v) => (/^v\d+\.\d+\.\d+$/.test(v) ? undefined : 'must look like v1.6.1')],
    ['downloadUrl', settings.downloadUrl, (u) => (URL_TEXT.test(u) ? undefined : 'must be an http(s) URL')],
    [
      'cloudcore.address',
      settings.cloudcore.address,
      (a) => (HOST.test(a) ? undefined : 'must be a host name or IPv4 address'),
    ],
  ];
  for (const [key, value] of Object.entries(settings.labels)) {
    checks.push(['labels key', key, labelKeyRule], [`labels.${key}`, value, labelValueRule]);
  }
  for (const [name, port] of Object.entries(settings.cloudcore.ports)) {
    checks.push([
      `cloudcore.ports.${name}`,
      String(port),
      (p) => (/^[1-9]\d{0,4}$/.test(p) && Number(p) <= 65535 ? undefined : 'must be a port 1-65535'),
    ]);
  }
  for (const [field, value, rule] of checks) {
    const reason = rule(value);
    if (reason) throw new InvalidJoinSettingsError(`${field} ${JSON.stringify(value)} ${reason}`);
  }
}

/**
 * Where the send step keeps the join token for one execution: a SecureString parameter under this path, which the
 * host reads with its own AWS credentials. IAM scopes both sides to the path (the send and check steps may put and
 * delete under it; the edge hosts' role may only read it). See docs/adr/0004-join-token-handling.md.
 */
export const JOIN_TOKEN_PARAMETER_PATH = '/edgekeeper/join-token/';

/** What the script reads the parameter's name from; the value is never in its environment. */
export const TOKEN_PARAMETER_ENV = 'EDGEKEEPER_TOKEN_PARAMETER';

/** Parameter names take `[A-Za-z0-9_.-/]`; an execution name outside that alphabet is named by its hash. */
const PARAMETER_SAFE_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

/**
 * The token parameter of an execution (its name, `$$.Execution.Name`): the send step writes it, the check step and
 * the rollback delete it, each deriving the same name from the execution, so nothing carries it in between.
 */
export function joinTokenParameterName(operationId: string): string {
  const leaf = PARAMETER_SAFE_NAME.test(operationId)
    ? operationId
    : `sha256-${createHash('sha256').update(operationId).digest('hex').slice(0, 40)}`;
  return `${JOIN_TOKEN_PARAMETER_PATH}${leaf}`;
}

/** The execution whose token a rollback child cleans up: the ASL names the child `<parent name>-rollback`. */
export function parentOfRollback(operationId: string): string | undefined {
  return operationId.endsWith(ROLLBACK_SUFFIX) ? operationId.slice(0, -ROLLBACK_SUFFIX.length) : undefined;
}

const ROLLBACK_SUFFIX = '-rollback';
const HEREDOC_END = 'EDGEKEEPER_JOIN_SCRIPT_END';
const TOKEN_SHAPE = /^[A-Za-z0-9._-]+$/;
const PARAMETER_NAME = /^\/[A-Za-z0-9_./-]{1,1010}$/;

/**
 * Refuses a token that does not look like cloudcore's `<sha256 hex>.<JWT>` before it is stored anywhere.
 * @throws InvalidJoinTokenError (the message does not contain the token)
 */
export function assertJoinTokenShape(token: string): void {
  if (!TOKEN_SHAPE.test(token)) {
    throw new InvalidJoinTokenError('join token has an unexpected shape (expected <sha256 hex>.<JWT>)');
  }
}

/**
 * The `commands` lines for SSM `AWS-RunShellScript`. They hold the rendered script and the *name* of the token
 * parameter, never the token: the script reads the value on the host with the host's own AWS credentials
 * (Run Command does not resolve SecureString references in a shell script's commands, see ADR 0004).
 *
 * Written for the agent's POSIX `sh`. First they remove the agent's own copy of these lines (`_script.sh` in the
 * command's orchestration folder; the shell keeps reading it through its open descriptor), so no copy outlives the
 * run even when it is killed; then they write the script to a private temporary file (quoted heredoc: nothing in
 * it is expanded), run it with bash, remove the file on every exit (a TERM, HUP or INT exits through the trap too)
 * and exit with the script's status.
 * @throws InvalidJoinSettingsError when the script contains the heredoc's end line or the name is not a parameter
 */
export function joinCommands(script: string, tokenParameter: string): string[] {
  if (!PARAMETER_NAME.test(tokenParameter)) {
    throw new InvalidJoinSettingsError(`token parameter ${JSON.stringify(tokenParameter)} is not a parameter name`);
  }
  return [
    'umask 077',
    // The agent runs `sh -c <orchestration dir>/_script.sh` (the sandbox: `bash _script.sh` from that folder).
    'case $0 in /*) edgekeeper_copy=$0 ;; *) edgekeeper_copy=$PWD/$0 ;; esac',
    'case $edgekeeper_copy in */amazon/ssm/*/document/orchestration/*/_script.sh) rm -f -- "$edgekeeper_copy" ;; esac',
    'edgekeeper_script=$(mktemp /tmp/edgekeeper-join.XXXXXX)',
    `trap 'rm -f -- "$edgekeeper_script"' EXIT`,
    "trap 'exit 129' HUP",
    "trap 'exit 130' INT",
    "trap 'exit 143' TERM",
    ...scriptToFile(script, '"$edgekeeper_script"'),
    'edgekeeper_status=0',
    `${TOKEN_PARAMETER_ENV}=${shellQuote(tokenParameter)} bash "$edgekeeper_script" || edgekeeper_status=$?`,
    'exit "$edgekeeper_status"',
  ];
}

/**
 * Shell lines that write `script` to `file` (a shell word, e.g. `"$edgekeeper_script"`) through a quoted heredoc:
 * nothing in the script is expanded, so it arrives byte for byte. The SSM commands and the manual join command
 * (functions/shared/manual-join.ts) both carry the script this way.
 * @throws InvalidJoinSettingsError when the script contains the heredoc's end line
 */
export function scriptToFile(script: string, file: string): string[] {
  const lines = script.split('\n');
  if (lines.includes(HEREDOC_END)) throw new InvalidJoinSettingsError(`script contains the line ${HEREDOC_END}`);
  return [`cat >${file} <<'${HEREDOC_END}'`, ...lines, HEREDOC_END];
}

/**
 * Steps of the join script that only look at the host (the token, the architecture, tools, runtime, ports, the node
 * IP, whether edgecore already runs): a failure in them leaves the host exactly as it was, so a rollback must not
 * reset it (a host refused because it serves another node would otherwise lose that node).
 */
export const READ_ONLY_JOIN_STEPS: readonly string[] = Object.freeze(['setup', 'preflight']);

/**
 * Whether a failed run of the join script may have changed the host: false only when its exit code, or for an
 * unexpected failure (exit 1) its error line, places the failure in a read-only step. Anything else (a kill, an
 * unknown code, no error line) may have changed it.
 */
export function joinFailureChangedHost(exitCode: number, stdout: string, stderr: string): boolean {
  const known = JOIN_SCRIPT_EXIT_CODES[exitCode];
  const step =
    known && known.step !== 'script'
      ? known.step
      : exitCode === 1
        ? lastMatch(`${stdout}\n${stderr}`, /^edgekeeper: ([a-z-]+): error: /gm)?.[1]
        : undefined;
  return step === undefined || !READ_ONLY_JOIN_STEPS.includes(step);
}

const TAIL_LINES = 20;

/**
 * A clear message for a failed run: `<step> failed: <reason>` from the script's own error line when there is one,
 * else from the exit code table, followed by the tail of stderr (last 20 lines).
 */
export function parseScriptFailure(exitCode: number, stdout: string, stderr: string): string {
  const errorLine = lastMatch(`${stdout}\n${stderr}`, /^edgekeeper: ([a-z-]+): error: (.*)$/gm);
  const known = JOIN_SCRIPT_EXIT_CODES[exitCode];
  const lastStep = lastMatch(stdout, /^edgekeeper: ([a-z-]+): /gm)?.[1];
  const headline = errorLine
    ? `${errorLine[1]} failed: ${errorLine[2]}`
    : known
      ? `${known.step === 'script' ? (lastStep ?? 'script') : known.step} failed: ${known.meaning} (exit ${exitCode})`
      : `${lastStep ?? 'script'} failed with exit code ${exitCode}`;
  const tail = stderr.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return tail ? `${headline}\nstderr (last ${TAIL_LINES} lines):\n${tail}` : headline;
}

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of text.matchAll(pattern)) last = match as RegExpExecArray;
  return last;
}
