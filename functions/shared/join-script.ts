import { nodeIpRule, nodeNameRule, type Rule } from './domain';
import { EdgekeeperError } from './errors';
import { ARCH_PLACEHOLDER, type JoinSettings } from './join-settings/schema';
import { joinPlanFor } from './keadm/profiles';
import { labelKeyRule, labelValueRule } from './label-rules';
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

export { JOIN_TOKEN_PARAMETER_PATH, joinTokenParameterName } from './join-token';

/** What the script reads the parameter's name from; the value is never in its environment. */
export const TOKEN_PARAMETER_ENV = 'EDGEKEEPER_TOKEN_PARAMETER';

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
