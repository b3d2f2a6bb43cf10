import { KUBEEDGE_NAMESPACE, TOKEN_SECRET } from '../shared/domain';
import { KubeEdgeNotInstalledError } from '../shared/errors';
import { type CommandPoll, firstPoll } from '../shared/host-commands';
import { assertJoinTokenShape, joinCommands, joinTokenParameterName, renderHostScript } from '../shared/join-script';
import type { JoinSettings } from '../shared/join-settings/schema';

/** The ports of this step: the join token in the cluster, its per-execution parameter, and Run Command. */
export interface JoinSendPorts {
  /** null when the token Secret is missing; read at the moment of sending, since cloudcore rotates it */
  readJoinToken(): Promise<string | null>;
  /** stores the token as a SecureString parameter the host reads with its own credentials */
  storeToken(parameterName: string, token: string): Promise<void>;
  /** deletes the parameter; one already gone is not an error */
  deleteToken(parameterName: string): Promise<void>;
  /** sends the commands to the host and returns only the command id */
  sendCommand(instanceId: string, commands: readonly string[], comment: string): Promise<string>;
}

/**
 * Renders the join script, stores the token in this execution's parameter and sends the script, which names the
 * parameter, never the token: SSM keeps a command's parameters for anyone with `ssm:ListCommands` to read. The
 * token exists in this function and the ports only: it is never returned, logged or carried in the workflow; only
 * the command id goes back. CheckHostCommand deletes the parameter when the command ends; a send that fails
 * deletes it here.
 * @throws KubeEdgeNotInstalledError when the cluster has no join token
 * @throws InvalidJoinSettingsError, InvalidJoinTokenError, UnsupportedKeadmFlagError before anything is stored or sent
 */
export async function sendJoinScript(
  ports: JoinSendPorts,
  request: {
    readonly operationId: string;
    readonly instanceId: string;
    readonly nodeName: string;
    readonly settings: JoinSettings;
  },
): Promise<CommandPoll> {
  const script = renderHostScript(request.settings);
  const token = await ports.readJoinToken();
  if (!token) {
    throw new KubeEdgeNotInstalledError([
      {
        field: 'cluster',
        value: undefined,
        reason: `has no join token (Secret ${KUBEEDGE_NAMESPACE}/${TOKEN_SECRET})`,
      },
    ]);
  }
  assertJoinTokenShape(token);
  const parameter = joinTokenParameterName(request.operationId);
  const commands = joinCommands(script, parameter);
  const comment = `edgekeeper join ${request.nodeName} (${request.operationId})`;
  await ports.storeToken(parameter, token);
  let commandId: string;
  try {
    commandId = await ports.sendCommand(request.instanceId, commands, comment);
  } catch (error) {
    // Nothing will read it; the send's own error is the one to report.
    await ports.deleteToken(parameter).catch(() => undefined);
    throw error;
  }
  return firstPoll(commandId, request.instanceId);
}
