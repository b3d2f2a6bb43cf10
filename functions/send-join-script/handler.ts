import { z } from 'zod';
import { KUBEEDGE_NAMESPACE, readJoinToken, TOKEN_SECRET } from '../shared/cluster-reads';
import { KubeEdgeNotInstalledError } from '../shared/errors';
import { firstPoll, sendShellCommand } from '../shared/host-commands';
import { renderHostScript, withToken } from '../shared/join-script';
import { kubeClients } from '../shared/k8s';
import { JoinSettings } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

const Input = z.object({
  operationId: z.string().min(1),
  instanceId: z.string().min(1),
  nodeName: z.string().min(1),
  settings: JoinSettings,
});

/**
 * Renders the join script and sends it to the host. The script is rendered here, not carried through the
 * workflow, so the execution history stays small (a dry run shows it). The join token is read from the cluster
 * now — it rotates, so it is never cached — and joined to the script only inside this call; neither the commands
 * nor SSM's answer (which echoes them) leave this function. Only the command id goes back to the workflow.
 */
export const handler = defineStep('SendJoinScript', Input, async ({ operationId, instanceId, nodeName, settings }) => {
  const script = renderHostScript(settings);
  const config = readSettings();
  const token = await readJoinToken(await kubeClients(config));
  if (!token) {
    throw new KubeEdgeNotInstalledError([
      {
        field: 'cluster',
        value: undefined,
        reason: `has no join token (Secret ${KUBEEDGE_NAMESPACE}/${TOKEN_SECRET})`,
      },
    ]);
  }
  const commandId = await sendShellCommand(config, {
    instanceId,
    commands: withToken(script, token),
    comment: `edgekeeper join ${nodeName} (${operationId})`,
  });
  return firstPoll(commandId, instanceId);
});
