import { flagTableEntry, type KeadmFlag, versionFormatOf } from '../../../functions/shared/keadm/flag-table';

/** One flag as registered with cobra/pflag in a keadm release (from keadm-flags.json). */
export type { KeadmFlag };

/**
 * How a keadm release behaves on join: the KubeSphere fork, upstream before the image-based join (<= 1.10, which
 * still downloads binaries and apt-installs mosquitto), or upstream >= 1.11 (edgecore from an image, MQTT optional).
 */
export type KeadmFamily = 'fork' | 'upstream-legacy' | 'upstream';

/** A keadm release the download mirror serves, with its exact flag sets. */
export interface KeadmRelease {
  /** Release version with the leading v, as in download URLs (`v1.6.2`). */
  readonly version: string;
  readonly family: KeadmFamily;
  /** Key in keadm-flags.json (`kubesphere/kubeedge@v1.6.2-kubesphere`). */
  readonly flagsKey: string;
  readonly join: readonly KeadmFlag[];
  readonly reset: readonly KeadmFlag[];
  /** Flags of `keadm reset edge` (upstream >= 1.17), undefined when reset has no subcommands. */
  readonly resetEdge?: readonly KeadmFlag[];
  /** Whether --kubeedge-version must be X.Y.Z (blang/semver MustParse) or may carry a leading v. */
  readonly versionFormat: 'no-v' | 'v-optional';
  /** The version keadm installs when --kubeedge-version is empty (without v). */
  readonly defaultKubeEdgeVersion: string;
}

function release(version: string, family: KeadmFamily, flagsKey: string): KeadmRelease {
  const entry = flagTableEntry(flagsKey);
  if (!entry) throw new Error(`keadm-flags.json has no entry ${flagsKey}`);
  return {
    version,
    family,
    flagsKey,
    join: entry.join,
    reset: entry.reset,
    resetEdge: entry.reset_subcommands?.['reset edge'],
    versionFormat: versionFormatOf(entry),
    defaultKubeEdgeVersion: entry.default_kubeedge_version_const,
  };
}

const fork = (v: string) => release(v, 'fork', `kubesphere/kubeedge@${v}-kubesphere`);
const upstream = (v: string, family: KeadmFamily) => release(v, family, `kubeedge/kubeedge@${v}`);

/** KubeSphere fork keadm releases (tags `<version>-kubesphere`), served under the zh and en layouts. */
export const FORK_RELEASES: readonly KeadmRelease[] = [
  'v1.5.0',
  'v1.6.0',
  'v1.6.1',
  'v1.6.2',
  'v1.7.0',
  'v1.7.2',
  'v1.9.2',
].map(fork);

/** Upstream keadm releases, served under the github.com/kubeedge/kubeedge layout. */
export const UPSTREAM_RELEASES: readonly KeadmRelease[] = [
  upstream('v1.6.2', 'upstream-legacy'),
  upstream('v1.9.2', 'upstream-legacy'),
  ...['v1.12.0', 'v1.13.0', 'v1.15.0', 'v1.17.0', 'v1.20.0'].map((v) => upstream(v, 'upstream')),
];

/** Every KubeEdge release whose tarball (edgecore inside) the mirror serves, with the leading v. */
export const KUBEEDGE_VERSIONS: readonly string[] = [
  ...new Set([...FORK_RELEASES, ...UPSTREAM_RELEASES].map((r) => r.version)),
].sort();

/** Download architectures of KubeEdge release assets. */
export const DOWNLOAD_ARCHES = ['amd64', 'arm64', 'arm'] as const;
/** One of {@link DOWNLOAD_ARCHES}. */
export type DownloadArch = (typeof DOWNLOAD_ARCHES)[number];
