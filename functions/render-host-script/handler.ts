import * as z from 'zod';
import { renderHostScript } from '../shared/join-script';
import { JoinSettings } from '../shared/join-settings/schema';
import { defineStep } from '../shared/step';

const Input = z.object({ operationId: z.string().min(1), settings: JoinSettings });

export const handler = defineStep('RenderHostScript', Input, async ({ settings }) => ({
  script: renderHostScript(settings),
}));
