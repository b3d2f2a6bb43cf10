import { KUBEEDGE_NAMESPACE, TOKEN_SECRET } from '../shared/domain';
import { KubeEdgeNotInstalledError } from '../shared/errors';
import { type CommandPoll, firstPoll } from '../shared/host-commands';
import { renderHostScript, withToken } from '../shared/join-script';
import type { JoinSettings } from '../shared/schemas';

/** The ports of this step: the join token in the cluster, and Run Command on one host. */
export interface JoinSendPorts {
  /** null when the token Secret is missing; read at the moment of sending, since cloudcore rotates it */
  readJoinToken(): Promise<string | null>;
  /** sends the commands to the host and returns only the command id (SSM's answer echoes the token) */
  sendCommand(instanceId: string, commands: readonly string[], comment: string): Promise<string>;
}

/**
 * Renders the join script and sends it to the host with the token joined to it. The token exists in this function
 * and the port only: it is never returned, logged or carried in the workflow; only the command id goes back.
 * @throws KubeEdgeNotInstalledError when the cluster has no join token
 * @throws InvalidJoinSettingsError, InvalidJoinTokenError, UnsupportedKeadmFlagError before anything is sent
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
  const comment = `edgekeeper join ${request.nodeName} (${request.operationId})`;
  const commandId = await ports.sendCommand(request.instanceId, withToken(script, token), comment);
  return firstPoll(commandId, request.instanceId);
}
