import { z } from 'zod';
import { readJoinToken } from '../shared/cluster-reads';
import { kubeClients } from '../shared/k8s';
import { JoinSettings } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { sendShellCommand } from '../shared/ssm';
import { defineStep } from '../shared/step';
import { sendJoinScript } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  instanceId: z.string().min(1),
  nodeName: z.string().min(1),
  settings: JoinSettings,
});

/**
 * Renders the join script and sends it to the host. The script is rendered here, not carried through the
 * workflow, so the execution history stays small (a dry run shows it); the token is added at send time.
 */
export const handler = defineStep('SendJoinScript', Input, async (request) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  return sendJoinScript(
    {
      readJoinToken: () => readJoinToken(kube),
      sendCommand: (instanceId, commands, comment) => sendShellCommand(settings, { instanceId, commands, comment }),
    },
    request,
  );
});
