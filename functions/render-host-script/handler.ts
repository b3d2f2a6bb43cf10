import { z } from 'zod';
import { JoinSettings } from '../shared/schemas';
import { defineStep } from '../shared/step';
import { renderHostScript } from './core';

const Input = z.object({ operationId: z.string().min(1), settings: JoinSettings });

export const handler = defineStep('RenderHostScript', Input, async ({ settings }) => ({
  script: renderHostScript(settings),
}));
