import { DNS1123_SUBDOMAIN, existingNodeNameRule, instanceIdRule, nodeIpRule, type Rule } from './domain';
import { InvalidRequestError } from './errors';
import * as z from './zod';
import { problemsFromIssues } from './zod-problems';

/** Helm's own rule for release names (lowercase DNS-1123 subdomain, at most 53 characters). */
const RELEASE_NAME = DNS1123_SUBDOMAIN;

/** A string checked by one of the shared rules; the rule's reason is the message. */
function ruled(rule: Rule<string>) {
  return z.string({ error: 'must be a string' }).check(
    z.superRefine((value, ctx) => {
      const reason = rule(value);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    }),
  );
}

/**
 * The node to remove or roll back: any name the API server accepts, not only the stricter ones onboarding creates,
 * so removal works for every node that exists, including ones joined by hand.
 */
export const NodeName = ruled(existingNodeNameRule);

/** The SSM managed instance of the edge host. */
export const InstanceId = ruled(instanceIdRule);

/**
 * Remove an edge node (`remove`), or undo a failed join (`rollback`, every step tolerant of what never happened).
 * `instanceId` falls back to the node's `edgekeeper.io/instance-id` annotation.
 */
export const RemoveRequest = z.strictObject({
  mode: z.enum(['remove', 'rollback'], { error: 'must be "remove", "rollback" or "uninstall"' }),
  nodeName: NodeName,
  instanceId: z.optional(InstanceId),
  /** Cordon and evict workload pods instead of refusing. @default false */
  drain: z._default(z.boolean({ error: 'must be true or false' }), false),
  /** Clean up the cluster side even when the host cannot be reset (offline). @default false */
  force: z._default(z.boolean({ error: 'must be true or false' }), false),
  /** The node's InternalIP, when the node may be gone (a rollback): the key of its logs/exec routing. */
  nodeIp: z.optional(ruled(nodeIpRule)),
  /**
   * Rollback only: whether the failed join changed the host. False when the join script failed in preflight,
   * which changes nothing: the rollback then leaves the host alone. @default true
   */
  hostChanged: z._default(z.boolean({ error: 'must be true or false' }), true),
  /**
   * Reset this host even when it serves another node (its edgecore names another node, or another node or lock
   * records the instance). It must name the very instance being reset, so it cannot be given by accident.
   */
  forceHost: z.optional(InstanceId),
});
export type RemoveRequest = z.infer<typeof RemoveRequest>;

/** Uninstall KubeEdge from the cluster; `release` defaults to `kubeedge` (`cloudcore` on KubeSphere 3.3). */
export const UninstallRequest = z.strictObject({
  mode: z.literal('uninstall', { error: 'must be "remove", "rollback" or "uninstall"' }),
  /** Remove the remaining edge nodes first instead of refusing. @default false */
  force: z._default(z.boolean({ error: 'must be true or false' }), false),
  release: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(
        z.minLength(1, { error: 'must not be empty' }),
        z.maxLength(53, { error: 'must be at most 53 characters (Helm limit)' }),
        z.regex(RELEASE_NAME, { error: 'must be a lowercase DNS-1123 name, as Helm requires' }),
      ),
  ),
});
export type UninstallRequest = z.infer<typeof UninstallRequest>;

/** The remove-node workflow input: one of the three modes, told apart by `mode`. */
export const RemoveNodeInput = z.discriminatedUnion('mode', [RemoveRequest, UninstallRequest], {
  error: 'must be "remove", "rollback" or "uninstall"',
});
export type RemoveNodeInput = z.infer<typeof RemoveNodeInput>;

/**
 * Parses the workflow input. `mode` defaults to `remove` (docs/workflows.md); the default is applied before the
 * discriminated union because a union cannot default its own discriminator.
 * @throws InvalidRequestError naming each field, the value received and the reason
 */
export function parseRemoveNodeInput(input: unknown): RemoveNodeInput {
  const withMode = isRecord(input) && input.mode === undefined ? { ...input, mode: 'remove' } : input;
  const result = RemoveNodeInput.safeParse(withMode);
  if (!result.success) throw new InvalidRequestError(problemsFromIssues(result.error.issues, withMode));
  const parsed = result.data;
  if (parsed.mode !== 'uninstall' && parsed.forceHost !== undefined && parsed.forceHost !== parsed.instanceId) {
    throw new InvalidRequestError([
      {
        field: 'forceHost',
        value: parsed.forceHost,
        reason: `must repeat the instanceId of the host to reset (${parsed.instanceId ?? 'none given'})`,
      },
    ]);
  }
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
