import { z } from 'zod';

/** Managed-instance id of a hybrid activation, as SSM prints it: `mi-` and 17 lowercase hex digits. */
export const MANAGED_INSTANCE_ID = /^mi-[0-9a-f]{17}$/;

/** What a host is in the sandbox: an edge device to onboard, or a cloud (control-plane) host of the cluster. */
export const HostRoleSchema = z.enum(['edge', 'cloud']);

/** A host's role. */
export type HostRole = z.infer<typeof HostRoleSchema>;

/** SSM tag keys and values, as `Target` and `Tag` accept them (letters, digits, spaces and `_.:/=+-@`). */
const TagText = z.string().regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, 'expected letters, digits, spaces and _.:/=+-@');

/** One host of the sandbox, as `fixtures/hosts.yaml` describes it. */
export const HostSpecSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS-1123 label'),
  instanceId: z.string().regex(MANAGED_INSTANCE_ID, 'expected mi- and 17 lowercase hex digits'),
  os: z.enum(['ubuntu', 'centos']),
  osVersion: z.string().min(1),
  arch: z.string().min(1),
  runtime: z.object({
    kind: z.enum(['docker', 'containerd', 'none']),
    version: z.string().optional(),
  }),
  online: z.boolean(),
  cloudcoreReachable: z.boolean(),
  /** the address SSM reports for the host (made up: hosts only have loopback) */
  ipAddress: z.ipv4(),
  tools: z.object({ wget: z.boolean(), curl: z.boolean(), tar: z.boolean() }).partial().optional(),
  role: HostRoleSchema.default('edge'),
  /** the managed instance's SSM tags: SendCommand `Targets` with `tag:<key>` select hosts by them */
  tags: z.record(TagText.min(1).max(128), TagText.max(256)).default({}),
});

/** One host of the sandbox. */
export type HostSpec = z.infer<typeof HostSpecSchema>;

/** What the edge stand-ins need to know about a host (the `HostTraits` of `local/sandbox/edge`). */
export interface HostTraits {
  instanceId: string;
  name: string;
  os: 'ubuntu' | 'centos';
  arch: string;
  runtime: { kind: 'docker' | 'containerd' | 'none'; version?: string };
  online: boolean;
  cloudcoreReachable: boolean;
  tools?: { wget?: boolean; curl?: boolean; tar?: boolean };
  role?: HostRole;
}

/** The names of the sandbox services an edge host dials. */
export type ServiceName = 'cloudhub' | 'quic' | 'https' | 'stream' | 'tunnel' | 'mirror';

/**
 * The part of the edge services (`local/sandbox/edge`) the hosts need: where the services listen on the real
 * loopback, and how to fill a fresh host root with stand-in commands. Kept structural so hosts do not depend on
 * the edge module and tests can pass a small stub.
 */
export interface HostProvisioner {
  readonly endpoints: readonly { name: ServiceName; port: number }[];
  provisionHost(root: string, traits: HostTraits): Promise<void>;
  /** PATH for scripts of a host in the portable mode (the stand-ins' fallback tool directories) */
  portablePath?(root: string): string;
}

/** The port a service has *inside* a host: cloudcore's public ports of KubeSphere's table, the mirror's own port. */
export function portInsideHost(name: ServiceName, realPort: number): number {
  const cloudcorePorts: Record<Exclude<ServiceName, 'mirror'>, number> = {
    cloudhub: 10000,
    quic: 10001,
    https: 10002,
    stream: 10003,
    tunnel: 10004,
  };
  return name === 'mirror' ? realPort : cloudcorePorts[name];
}

/** The traits handed to the edge stand-ins for a host spec. */
export function traitsOf(spec: HostSpec): HostTraits {
  const { instanceId, name, os, arch, runtime, online, cloudcoreReachable, tools, role } = spec;
  return { instanceId, name, os, arch, runtime, online, cloudcoreReachable, role, ...(tools ? { tools } : {}) };
}
