import { z } from 'zod';
import { readNode } from '../shared/cluster-reads';
import { kubeClients } from '../shared/k8s';
import { JoinSettings } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { decidePoll, type NodeView } from './core';

const Input = z.object({
  operationId: z.string().min(1),
  nodeName: z.string().min(1),
  nodeIp: z.string().min(1),
  settings: JoinSettings,
  /** when waiting began; null on the first check */
  startedAt: z.iso.datetime().nullable(),
  attempt: z.number().int().min(0),
  /**
   * which setting bounds the wait: the ready timeout after an SSM join, or the manual join timeout while a person
   * runs the join command on the device (the node does not even exist yet)
   */
  timeout: z.enum(['nodeReady', 'manualJoin']).default('nodeReady'),
});

/**
 * One readiness check of the joined node, with the backoff before the next one; fails at the ready timeout (or, for a
 * manual join, at the manual join timeout).
 */
export const handler = defineStep(
  'CheckNodeReady',
  Input,
  async ({ nodeName, nodeIp, settings, startedAt, attempt, timeout }) => {
    const config = readSettings();
    const node = await readNode(await kubeClients(config), nodeName);
    const now = Date.now();
    const since = startedAt ?? new Date(now).toISOString();
    const decision = decidePoll(
      node as NodeView | null,
      { nodeName, nodeIp, taint: settings.taint, profile: settings.profile, version: settings.version },
      attempt,
      now,
      Date.parse(since) +
        (timeout === 'manualJoin' ? config.manualJoinTimeoutSeconds : config.nodeReadyTimeoutSeconds) * 1000,
    );
    return {
      ready: decision.done,
      missing: decision.done ? [] : decision.missing,
      waitSeconds: decision.done ? 0 : decision.waitSeconds,
      startedAt: since,
      attempt: attempt + 1,
    };
  },
);
