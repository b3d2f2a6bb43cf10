import { z } from 'zod';
import { bashCommands, firstPoll, sendShellCommand } from '../shared/host-commands';
import { renderResetScript } from '../shared/reset-script';
import { KeadmProfile } from '../shared/schemas';
import { script as RESET_SCRIPT_TEMPLATE } from '../shared/scripts/generated/reset-edge-node';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  instanceId: z.string().min(1),
  keadm: z.object({ profile: KeadmProfile, version: z.string().min(1) }),
});

/** Sends the reset script (keadm reset, mosquitto, unmounts, files, verification) to the host. */
export const handler = defineStep('SendResetScript', Input, async ({ operationId, nodeName, instanceId, keadm }) => {
  const settings = readSettings();
  const script = renderResetScript(RESET_SCRIPT_TEMPLATE, keadm);
  const commandId = await sendShellCommand(settings, {
    instanceId,
    commands: bashCommands(script),
    comment: `edgekeeper reset ${nodeName} (${operationId})`,
  });
  return firstPoll(commandId, instanceId);
});
