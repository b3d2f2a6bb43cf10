import { bashCommands, firstPoll } from '../shared/host-commands';
import { KeadmProfile } from '../shared/kubeedge-schemas';
import { renderResetScript } from '../shared/reset-script';
import { script as RESET_SCRIPT_TEMPLATE } from '../shared/scripts/generated/reset-edge-node';
import { readSettings } from '../shared/settings';
import { sendShellCommand } from '../shared/ssm';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  instanceId: z.string().check(z.minLength(1)),
  keadm: z.object({ profile: KeadmProfile, version: z.string().check(z.minLength(1)) }),
  /** the request's forceHost: the script then resets a host whose edgecore serves another node */
  forceHost: z._default(z.nullable(z.string().check(z.minLength(1))), null),
});

/**
 * Sends the reset script (owner check, keadm reset, mosquitto, unmounts, files, verification) to the host. The
 * script refuses a host whose edgecore is configured for another node unless forceHost names that host.
 */
export const handler = defineStep('SendResetScript', Input, async (input) => {
  const settings = readSettings();
  const script = renderResetScript(RESET_SCRIPT_TEMPLATE, {
    ...input.keadm,
    nodeName: input.nodeName,
    instanceId: input.instanceId,
    forceHost: input.forceHost,
    keadmTimeoutSeconds: settings.keadmResetTimeoutSeconds,
  });
  const commandId = await sendShellCommand(settings, {
    instanceId: input.instanceId,
    commands: bashCommands(script),
    comment: `edgekeeper reset ${input.nodeName} (${input.operationId})`,
  });
  return firstPoll(commandId, input.instanceId);
});
