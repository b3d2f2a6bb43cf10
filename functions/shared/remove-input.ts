import { z } from 'zod';
import { InvalidRequestError } from './errors';
import { problemsFromIssues } from './schemas';

/**
 * Node names are validated as DNS-1123 subdomains (what the API server accepts), not as the stricter labels
 * onboarding insists on: removal must work for every node that exists, including ones joined by hand.
 */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** EC2 instances (`i-` + 8 or 17 hex) and hybrid managed nodes (`mi-` + 17 hex), as SSM names them. */
const INSTANCE_ID = /^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/;

/** Helm's own rule for release names (lowercase DNS-1123 subdomain, at most 53 characters). */
const RELEASE_NAME = DNS_SUBDOMAIN;

/** The node to remove or roll back. */
export const NodeName = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(253, { error: 'must be at most 253 characters' })
  .regex(DNS_SUBDOMAIN, { error: 'must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".")' });

/** The SSM managed instance of the edge host. */
export const InstanceId = z
  .string({ error: 'must be a string' })
  .regex(INSTANCE_ID, { error: 'must be an SSM managed instance id (i-… or mi-… with hex digits)' });

/**
 * Remove an edge node (`remove`), or undo a failed join (`rollback`, every step tolerant of what never happened).
 * `instanceId` falls back to the node's `edgekeeper.io/instance-id` annotation.
 */
export const RemoveRequest = z.strictObject({
  mode: z.enum(['remove', 'rollback'], { error: 'must be "remove", "rollback" or "uninstall"' }),
  nodeName: NodeName,
  instanceId: InstanceId.optional(),
  /** Cordon and evict workload pods instead of refusing. @default false */
  drain: z.boolean({ error: 'must be true or false' }).default(false),
  /** Clean up the cluster side even when the host cannot be reset (offline). @default false */
  force: z.boolean({ error: 'must be true or false' }).default(false),
  /** The node's InternalIP, when the node may be gone (a rollback): the key of its logs/exec routing. */
  nodeIp: z
    .string({ error: 'must be a string' })
    .regex(/^\d{1,3}(\.\d{1,3}){3}$/, { error: 'must be an IPv4 address' })
    .optional(),
  /** A rollback runs under the lock of the onboarding it undoes: the id of that operation. */
  lockHolder: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
});
export type RemoveRequest = z.infer<typeof RemoveRequest>;

/** Uninstall KubeEdge from the cluster; `release` defaults to `kubeedge` (`cloudcore` on KubeSphere 3.3). */
export const UninstallRequest = z.strictObject({
  mode: z.literal('uninstall', { error: 'must be "remove", "rollback" or "uninstall"' }),
  /** Remove the remaining edge nodes first instead of refusing. @default false */
  force: z.boolean({ error: 'must be true or false' }).default(false),
  release: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(53, { error: 'must be at most 53 characters (Helm limit)' })
    .regex(RELEASE_NAME, { error: 'must be a lowercase DNS-1123 name, as Helm requires' })
    .optional(),
});
export type UninstallRequest = z.infer<typeof UninstallRequest>;

/** The remove-node workflow input: one of the three modes, told apart by `mode`. */
export const RemoveNodeInput = z.discriminatedUnion('mode', [RemoveRequest, UninstallRequest], {
  error: 'must be "remove", "rollback" or "uninstall"',
});
export type RemoveNodeInput = z.infer<typeof RemoveNodeInput>;

/**
 * Parses the workflow input. `mode` defaults to `remove`, as DESIGN §2 states; the default is applied before the
 * discriminated union because a union cannot default its own discriminator.
 * @throws InvalidRequestError naming each field, the value received and the reason
 */
export function parseRemoveNodeInput(input: unknown): RemoveNodeInput {
  const withMode = isRecord(input) && input.mode === undefined ? { ...input, mode: 'remove' } : input;
  const result = RemoveNodeInput.safeParse(withMode);
  if (result.success) return result.data;
  throw new InvalidRequestError(problemsFromIssues(result.error.issues, withMode));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
