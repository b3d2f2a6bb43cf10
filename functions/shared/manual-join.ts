import { readJoinToken } from './cluster-reads';
import { KUBEEDGE_NAMESPACE, TOKEN_SECRET } from './domain';
import { InvalidRequestError, KubeEdgeNotInstalledError } from './errors';
import { assertJoinTokenShape, renderHostScript, scriptToFile } from './join-script';
import { readJoinSettings } from './join-settings/cluster';
import type { JoinSettings } from './join-settings/schema';
import { kubeClients } from './k8s';
import { joinModeOf, OnboardRequest } from './schemas';
import { shellQuote } from './scripts/values-block';
import type { Settings } from './settings';
import { problemsFromIssues } from './zod-problems';

/*
 * The command a person pastes on a device edgekeeper cannot reach (KubeSphere's "Add Edge Node" page shows the same
 * kind of `keadm join` command). It holds the join token, so it is rendered outside the workflow, by whoever started
 * the manual join, and shown to that caller once: it never enters an execution's history, a log or an event
 * (docs/adr/0009-manual-join-command-outside-the-workflow.md).
 *
 * It carries the very script an SSM join runs (`renderHostScript`: preflight, EdgeMesh preparation, download, keadm
 * join with the flags of the keadm flag table), so both paths join a device the same way and the workflow's
 * readiness check expects what the command does.
 */

/** Where the command puts the script and the token on the device, removed when the command ends. */
const WORK_DIR_TEMPLATE = '/tmp/edgekeeper-join.XXXXXX';

/**
 * The paste-able command for these join settings and this token. Pure: the same settings and token give the same
 * text. Written for any POSIX shell (`sh`, `bash`, `zsh`): one subshell, so its traps, `umask` and `exit` never
 * touch the person's own shell. The token reaches the script through a file only root can read, written by the
 * shell's builtin `printf` (no process's arguments or environment hold it); only keadm's `--token` receives it, as
 * in an SSM join.
 * @throws InvalidJoinTokenError when the token does not look like cloudcore's (the message does not contain it)
 * @throws InvalidJoinSettingsError, UnsupportedKeadmFlagError when the settings cannot go into a host script
 */
export function renderManualJoinCommand(settings: JoinSettings, token: string): string {
  assertJoinTokenShape(token);
  const script = renderHostScript(settings);
  return [
    `# edgekeeper: join this device to the cluster as edge node ${settings.nodeName} (${settings.nodeIp}), KubeEdge ${settings.version}.`,
    '# Run it once, as root, on the device. It holds the cluster join token: do not share it or keep a copy.',
    '(',
    'umask 077',
    `edgekeeper_dir=$(mktemp -d ${WORK_DIR_TEMPLATE}) || exit 1`,
    `trap 'rm -rf -- "$edgekeeper_dir"' EXIT`,
    "trap 'exit 129' HUP",
    "trap 'exit 130' INT",
    "trap 'exit 143' TERM",
    ...scriptToFile(script, '"$edgekeeper_dir/join-edge-node.sh"'),
    `printf '%s' ${shellQuote(token)} >"$edgekeeper_dir/token"`,
    'EDGEKEEPER_TOKEN_FILE="$edgekeeper_dir/token" bash "$edgekeeper_dir/join-edge-node.sh"',
    ')',
    '',
  ].join('\n');
}

/**
 * The join command of a manual join request, read from the cluster now: the join settings as the workflow's
 * validation resolves them and the join token as the send step reads it (cloudcore rotates it
 * every 12 h: a command is good until then). For the CLI and the REST API, called by the one who starts the manual
 * join, never by a workflow step. `request` is an onboarding request as a caller sends it (`OnboardRequestInput`),
 * parsed here.
 * @throws InvalidRequestError when the request is not a valid manual join request (each field named)
 * @throws KubeEdgeNotInstalledError when the cluster has no join token
 * @throws CloudcoreConfigError when cloudcore's configuration lacks what the join needs
 */
export async function manualJoinCommand(settings: Settings, request: unknown): Promise<string> {
  const parsed = OnboardRequest.safeParse(request);
  if (!parsed.success) throw new InvalidRequestError(problemsFromIssues(parsed.error.issues, request));
  if (joinModeOf(parsed.data) !== 'manual') {
    throw new InvalidRequestError([
      {
        field: 'instanceId',
        value: parsed.data.instanceId,
        reason:
          'must be left out: a join command is for a manual join, an SSM managed instance is joined by edgekeeper',
      },
    ]);
  }
  const kube = await kubeClients(settings);
  const [joinSettings, token] = await Promise.all([readJoinSettings(kube, settings, parsed.data), readJoinToken(kube)]);
  if (!token) {
    throw new KubeEdgeNotInstalledError([
      {
        field: 'cluster',
        value: undefined,
        reason: `has no join token (Secret ${KUBEEDGE_NAMESPACE}/${TOKEN_SECRET})`,
      },
    ]);
  }
  return renderManualJoinCommand(joinSettings, token);
}
