import { renderHostScript } from '../shared/join-script';
import { JoinSettings } from '../shared/join-settings/schema';
import { defineStep } from '../shared/step';
import * as z from '../shared/zod';

const Input = z.object({ operationId: z.string().check(z.minLength(1)), settings: JoinSettings });

export const handler = defineStep('RenderHostScript', Input, async ({ settings }) => ({
  script: renderHostScript(settings),
}));
