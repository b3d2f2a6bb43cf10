import { z } from 'zod';
import { kubeClients } from '../shared/k8s';
import { OnboardRequest } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { readJoinSettings } from './cluster';

const Input = z.object({ operationId: z.string().min(1), request: OnboardRequest });

export const handler = defineStep('ResolveJoinSettings', Input, async ({ request }) => {
  const settings = readSettings();
  return { settings: await readJoinSettings(await kubeClients(settings), settings, request) };
});
