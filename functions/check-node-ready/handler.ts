import { defineClusterStep } from '../shared/cluster-step';
import { JoinSettings } from '../shared/join-settings/schema';
import { kubeClients } from '../shared/k8s';
import { readSettings } from '../shared/settings';
import * as z from '../shared/zod';
import { checkReadiness } from './core';
import { clusterNodeSource, remembering } from './node-source';

const Input = z.object({
  operationId: z.string().check(z.minLength(1)),
  nodeName: z.string().check(z.minLength(1)),
  nodeIp: z.string().check(z.minLength(1)),
  settings: JoinSettings,
  /** when waiting began; null on the first check */
  startedAt: z.nullable(z.iso.datetime()),
  attempt: z.int().check(z.minimum(0)),
  /**
   * which setting bounds the wait: the ready timeout after an SSM join, or the manual join timeout while a person
   * runs the join command on the device (the node does not even exist yet)
   */
  timeout: z._default(z.enum(['nodeReady', 'manualJoin']), 'nodeReady'),
});

/**
 * One readiness check of the joined node: after an SSM join it watches the node until Ready (up to a minute), while a
 * person runs the manual join it reads it once; then the backoff before the next check. Fails at the ready timeout
 * (or, for a manual join, at the manual join timeout).
 */
export const handler = defineClusterStep(
  'CheckNodeReady',
  Input,
  async ({ nodeName, nodeIp, settings, startedAt, attempt, timeout }) => {
    const config = readSettings();
    const { source, seen } = remembering(clusterNodeSource(await kubeClients(config), nodeName));
    const since = startedAt ?? new Date().toISOString();
    const manual = timeout === 'manualJoin';
    const decision = await checkReadiness(
      source,
      { nodeName, nodeIp, taint: settings.taint, profile: settings.profile, version: settings.version },
      {
        attempt,
        deadlineMs:
          Date.parse(since) + (manual ? config.manualJoinTimeoutSeconds : config.nodeReadyTimeoutSeconds) * 1000,
        watch: !manual,
      },
      Date.now,
    );
    return {
      ready: decision.done,
      missing: decision.done ? [] : decision.missing,
      waitSeconds: decision.done ? 0 : decision.waitSeconds,
      startedAt: since,
      attempt: attempt + 1,
      // once ready, the node as seen: finishing patches it without reading it again
      node: decision.done ? seen() : null,
    };
  },
);
