import { readJoinToken } from '../shared/cluster-reads';
import { defineClusterStep } from '../shared/cluster-step';
import { JoinSettings } from '../shared/join-settings/schema';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import { deleteParameter, putSecureParameter, sendShellCommand } from '../shared/ssm';
import * as z from '../shared/zod';
import { sendJoinScript } from './core';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  instanceId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  settings: JoinSettings,
});

/**
 * How long the token parameter outlives the host command's timeout at most, when no step deleted it (the Lambda
 * died between storing it and the check): by then the workflow has given up on the command.
 */
const EXPIRY_MARGIN_SECONDS = 15 * 60;

/**
 * Renders the join script and sends it to the host. The script is rendered here, not carried through the
 * workflow, so the execution history stays small (a dry run shows it); the token goes to a SecureString
 * parameter that the script names.
 */
export const handler = defineClusterStep('SendJoinScript', Input, async (request) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  return sendJoinScript(
    {
      readJoinToken: () => readJoinToken(kube),
      storeToken: (name, value) =>
        putSecureParameter(settings, {
          name,
          value,
          expiresAt: new Date(Date.now() + (settings.hostCommandTimeoutSeconds + EXPIRY_MARGIN_SECONDS) * 1000),
          description: `edgekeeper join token of ${request.operationId} (deleted when its join command ends)`,
        }),
      deleteToken: (name) => deleteParameter(settings, name),
      sendCommand: (instanceId, commands, comment) => sendShellCommand(settings, { instanceId, commands, comment }),
    },
    request,
  );
});
