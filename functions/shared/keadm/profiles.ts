import { EdgekeeperError } from '../errors';
import type { JoinSettings } from '../join-settings/schema';
import type { KeadmProfile } from '../kubeedge-schemas';
import { JOIN_FLAGS } from './generated/step-flags';
import { type JoinFlag, type JoinRelease, joinFlagsOf } from './step-flags';
import { SUPPORTED_VERSIONS } from './supported-versions';

export { DEFAULT_KUBEEDGE_VERSION } from './default-version';

/** Every supported version, fork first, in ascending order (`v1.6.1` form). */
export function supportedVersions(): string[] {
  return [...SUPPORTED_VERSIONS.fork, ...SUPPORTED_VERSIONS.upstream];
}

/** The requested KubeEdge version is not one edgekeeper can install. */
export class UnsupportedKubeedgeVersionError extends EdgekeeperError {
  override readonly name = 'UnsupportedKubeedgeVersionError';
  constructor(readonly version: string) {
    super(`kubeedgeVersion ${version} is not supported: expected one of ${supportedVersions().join(', ')}`);
  }
}

/** A keadm flag was asked of a keadm version that does not register it (it would fail with "unknown flag"). */
export class UnsupportedKeadmFlagError extends EdgekeeperError {
  override readonly name = 'UnsupportedKeadmFlagError';
}

/**
 * `v1.6.1`, `1.6.1` and `v1.6.1-kubesphere` all mean `v1.6.1`; anything else is returned unchanged (and then
 * fails the support check with the caller's spelling).
 */
export function normalizeVersion(version: string): string {
  const match = /^v?(\d+\.\d+\.\d+)(-kubesphere)?$/.exec(version.trim());
  return match ? `v${match[1]}` : version;
}

/** Whether edgekeeper can install this version (any spelling accepted by `normalizeVersion`). */
export function isSupportedVersion(version: string): boolean {
  return supportedVersions().includes(normalizeVersion(version));
}

/**
 * The keadm family that installs `version`.
 * @throws UnsupportedKubeedgeVersionError when the version is in neither list
 */
export function profileFor(version: string): KeadmProfile {
  const normalized = normalizeVersion(version);
  if (SUPPORTED_VERSIONS.fork.includes(normalized)) return 'fork';
  if (SUPPORTED_VERSIONS.upstream.includes(normalized)) return 'upstream';
  throw new UnsupportedKubeedgeVersionError(version);
}

function joinRelease(profile: KeadmProfile, version: string): JoinRelease {
  const normalized = normalizeVersion(version);
  if (!SUPPORTED_VERSIONS[profile].includes(normalized)) throw new UnsupportedKubeedgeVersionError(version);
  const releases = JOIN_FLAGS[profile];
  if (!Object.hasOwn(releases, normalized)) throw new UnsupportedKubeedgeVersionError(version);
  return releases[normalized] as JoinRelease;
}

/**
 * The `keadm join` flags of one keadm version, in the flag table's order.
 * @throws UnsupportedKubeedgeVersionError when the version is not supported for that profile
 */
export function joinFlagsFor(profile: KeadmProfile, version: string): readonly JoinFlag[] {
  return joinFlagsOf(joinRelease(profile, version));
}

/** Whether this keadm registers `--<flag>` on `join`. */
export function hasJoinFlag(profile: KeadmProfile, version: string, flag: string): boolean {
  return joinRelease(profile, version).flags.includes(flag);
}

/**
 * The value `--kubeedge-version` takes: `X.Y.Z` for every fork tag and upstream ≤ 1.10 (they feed it to
 * `semver.MustParse`, which panics on a leading `v`), `vX.Y.Z` otherwise.
 */
export function kubeedgeVersionArg(profile: KeadmProfile, version: string): string {
  const normalized = normalizeVersion(version);
  return joinRelease(profile, version).versionFormat === 'no-v' ? normalized.slice(1) : normalized;
}

/**
 * Whether the node gets the `node-role.kubernetes.io/edge:NoSchedule` taint from keadm itself (fork ≥ v1.6.1,
 * `--with-edge-taint`); otherwise edgekeeper taints it through the API after it registers.
 */
export function taintAppliedAtJoin(profile: KeadmProfile, version: string): boolean {
  return hasJoinFlag(profile, version, 'with-edge-taint');
}

/** Flag values by flag name (without `--`): strings, booleans, or lists for slice/array flags. */
export type KeadmFlagValues = Readonly<Record<string, string | boolean | readonly string[]>>;

/**
 * Builds `keadm join` arguments (after `join`), refusing any flag this keadm version lacks, a value of the wrong
 * type, and a missing required flag. Every flag becomes one `--name=value` argument (pflag accepts it for every
 * type), bool `true` becomes a bare `--name`, string arrays repeat the flag.
 * @throws UnsupportedKeadmFlagError naming the flag and the version
 */
export function keadmJoinArgs(profile: KeadmProfile, version: string, values: KeadmFlagValues): string[] {
  const flags = joinFlagsFor(profile, version);
  const args = ['join', ...keadmJoinFlags(profile, version, values)];
  const missing = flags.filter((flag) => flag.required && !(flag.name in values));
  if (missing.length > 0) {
    throw new UnsupportedKeadmFlagError(
      `keadm ${profile} ${normalizeVersion(version)} requires ${missing.map((flag) => `--${flag.name}`).join(', ')}`,
    );
  }
  return args;
}

/**
 * Formats some `keadm join` flags, refusing any this keadm version lacks or a value of the wrong type; unlike
 * `keadmJoinArgs` it does not insist on required flags (for fragments such as the runtime flags).
 * @throws UnsupportedKeadmFlagError naming the flag and the version
 */
export function keadmJoinFlags(profile: KeadmProfile, version: string, values: KeadmFlagValues): string[] {
  const flags = joinFlagsFor(profile, version);
  return Object.entries(values).flatMap(([name, value]) => {
    const flag = flags.find((candidate) => candidate.name === name);
    if (!flag) throw new UnsupportedKeadmFlagError(`keadm ${profile} ${normalizeVersion(version)} has no --${name}`);
    return formatFlag(flag, value, profile, version);
  });
}

function formatFlag(
  flag: JoinFlag,
  value: string | boolean | readonly string[],
  profile: KeadmProfile,
  version: string,
): string[] {
  const where = `keadm ${profile} ${normalizeVersion(version)} --${flag.name}`;
  switch (flag.type) {
    case 'bool':
      if (typeof value !== 'boolean') throw new UnsupportedKeadmFlagError(`${where} takes true or false`);
      return [value ? `--${flag.name}` : `--${flag.name}=false`];
    case 'string':
      if (typeof value !== 'string') throw new UnsupportedKeadmFlagError(`${where} takes a string`);
      return [`--${flag.name}=${value}`];
    case 'stringSlice':
      if (!Array.isArray(value)) throw new UnsupportedKeadmFlagError(`${where} takes a list`);
      // pflag splits slices on commas (CSV): an element with a comma would silently become two.
      if (value.some((item: string) => item.includes(','))) {
        throw new UnsupportedKeadmFlagError(`${where} list items must not contain ","`);
      }
      return [`--${flag.name}=${value.join(',')}`];
    case 'stringArray':
      if (!Array.isArray(value)) throw new UnsupportedKeadmFlagError(`${where} takes a list`);
      return value.map((item: string) => `--${flag.name}=${item}`);
    default:
      throw new UnsupportedKeadmFlagError(`${where} has type ${flag.type}, which edgekeeper does not pass`);
  }
}

/** The port upstream keadm ≥ 1.11 hard-codes for the edge tunnel (it has no `--tunnelport`). */
export const UPSTREAM_TUNNEL_PORT = 10004;

/** Container runtimes the host script recognises. */
export type ContainerRuntime = 'docker' | 'containerd' | 'crio';

const SOCKETS: Readonly<Record<Exclude<ContainerRuntime, 'docker'>, string>> = {
  containerd: 'unix:///run/containerd/containerd.sock',
  crio: 'unix:///var/run/crio/crio.sock',
};

/** cri-dockerd's socket: upstream KubeEdge ≥ 1.14 (Kubernetes 1.24 base) has no dockershim. */
const CRI_DOCKERD_SOCKET = 'unix:///var/run/cri-dockerd.sock';

/**
 * The join flags that select each runtime for this keadm. The fork and upstream 1.12 default to Docker
 * (`runtimetype` docker); later upstream defaults to containerd and reaches Docker only through cri-dockerd from
 * 1.14 on. Remote runtimes need `--runtimetype=remote` where that flag still exists (removed in upstream 1.16).
 */
export function runtimeArgsFor(profile: KeadmProfile, version: string): Record<ContainerRuntime, string[]> {
  const hasRuntimeType = hasJoinFlag(profile, version, 'runtimetype');
  const remote = (endpoint: string): KeadmFlagValues =>
    hasRuntimeType
      ? { runtimetype: 'remote', 'remote-runtime-endpoint': endpoint }
      : { 'remote-runtime-endpoint': endpoint };
  const runtimeTypeDefault = joinRelease(profile, version).runtimetypeDefault;
  const minor = Number(normalizeVersion(version).split('.')[1]);
  let docker: KeadmFlagValues = {};
  if (profile === 'upstream' && runtimeTypeDefault !== 'docker') {
    docker = minor < 14 ? { runtimetype: 'docker' } : remote(CRI_DOCKERD_SOCKET);
  }
  return {
    docker: keadmJoinFlags(profile, version, docker),
    containerd: keadmJoinFlags(profile, version, remote(SOCKETS.containerd)),
    crio: keadmJoinFlags(profile, version, remote(SOCKETS.crio)),
  };
}

/** What `keadm join` does and what edgekeeper must do through the Kubernetes API after the node registers. */
export interface JoinPlan {
  /** `keadm` arguments, starting with `join`, without the token (the script appends `--token` at run time). */
  readonly args: readonly string[];
  /** Set by edgekeeper after the node registers because this keadm cannot do it. */
  readonly applyViaApi: {
    readonly taint: boolean;
    readonly labels: Readonly<Record<string, string>>;
  };
  /** Extra join flags per container runtime; the script picks one set after detecting the runtime. */
  readonly runtimeArgs: Readonly<Record<ContainerRuntime, readonly string[]>>;
  /**
   * Upstream keadm has no `--edgenode-ip`: edgecore reports the host's own address, so the requested nodeIp must be
   * an address of the host (the script checks it in preflight).
   */
  readonly nodeIpMustBeLocal: boolean;
}

/**
 * The `keadm join` invocation for these settings, with the profile's flags only. Taint and labels go to the API
 * when the version lacks `--with-edge-taint` / `--labels`.
 * @throws UnsupportedKeadmFlagError when the settings cannot be expressed (upstream with a tunnel port ≠ 10004)
 */
export function joinPlanFor(settings: JoinSettings): JoinPlan {
  const { profile, version, cloudcore, labels } = settings;
  if (!hasJoinFlag(profile, version, 'token')) {
    throw new UnsupportedKeadmFlagError(`keadm ${profile} ${version} has no --token`);
  }
  const values: Record<string, string | boolean | readonly string[]> = {
    'kubeedge-version': kubeedgeVersionArg(profile, version),
  };
  if (hasJoinFlag(profile, version, 'region')) values.region = settings.region;
  values['cloudcore-ipport'] = `${cloudcore.address}:${cloudcore.ports.cloudhub}`;
  values.certport = String(cloudcore.ports.https);
  if (profile === 'fork') {
    values.quicport = String(cloudcore.ports.quic);
    values.tunnelport = String(cloudcore.ports.tunnel);
  } else if (cloudcore.ports.tunnel !== UPSTREAM_TUNNEL_PORT) {
    throw new UnsupportedKeadmFlagError(
      `keadm upstream ${version} always dials the tunnel on port ${UPSTREAM_TUNNEL_PORT}: expected public tunnel port ${UPSTREAM_TUNNEL_PORT}, got ${cloudcore.ports.tunnel}`,
    );
  }
  values['edgenode-name'] = settings.nodeName;
  if (hasJoinFlag(profile, version, 'edgenode-ip')) values['edgenode-ip'] = settings.nodeIp;
  // The token is deliberately absent: the script appends --token at run time (see joinCommands in join-script.ts).
  const taintAtJoin = settings.taint && taintAppliedAtJoin(profile, version);
  if (taintAtJoin) values['with-edge-taint'] = true;
  const labelEntries = Object.entries(labels);
  const labelsAtJoin = labelEntries.length > 0 && hasJoinFlag(profile, version, 'labels');
  if (labelsAtJoin) values.labels = labelEntries.map(([key, value]) => `${key}=${value}`);
  const args = keadmJoinArgs(profile, version, values);
  return {
    args,
    applyViaApi: {
      taint: settings.taint && !taintAtJoin,
      labels: labelsAtJoin ? {} : { ...labels },
    },
    runtimeArgs: runtimeArgsFor(profile, version),
    nodeIpMustBeLocal: !hasJoinFlag(profile, version, 'edgenode-ip'),
  };
}
