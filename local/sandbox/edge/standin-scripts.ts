import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeadmFlag, KeadmRelease } from './keadm-releases';

const STANDINS_DIR = join(__dirname, 'standins');

/** Names of the stand-in sources under `standins/` (without `.sh`). */
export type StandinName =
  | 'apt-get'
  | 'containerd'
  | 'crictl'
  | 'docker'
  | 'dpkg'
  | 'edgecore'
  | 'iptables'
  | 'keadm'
  | 'mosquitto'
  | 'rpm'
  | 'systemctl'
  | 'uname'
  | 'yum';

function source(name: string): string {
  return readFileSync(join(STANDINS_DIR, `${name}.sh`), 'utf8');
}

/**
 * A stand-in as installed: lib.sh inlined in place of its `source … # @inline` line, so the installed file needs
 * nothing beside it (a downloaded keadm has no lib.sh next to it).
 */
export function renderStandin(name: StandinName): string {
  const lib = source('lib')
    .replace(/^#!.*\n/, '')
    .trimEnd();
  return source(name)
    .replace(/^# shellcheck source=lib\.sh\n/m, '')
    .replace(/^source .*# @inline$/m, () => lib);
}

function flagLines(flags: readonly KeadmFlag[]): string {
  return flags
    .map((f) => {
      const def = Array.isArray(f.default) ? f.default.join(',') : f.default === null ? '' : String(f.default);
      const fields = [f.name, f.short, f.type, def, String(f.required)];
      // The spec lands inside single quotes and is split on |: neither may appear in a field.
      if (fields.some((x) => /['|\n]/.test(x))) throw new Error(`unsupported character in flag ${f.name}: ${def}`);
      return fields.join('|');
    })
    .join('\n');
}

/** The keadm stand-in of one release: its flag sets and behaviour switches filled into the profile block. */
export function renderKeadm(release: KeadmRelease): string {
  const profile = [
    `KEADM_VERSION='${release.version}'`,
    `KEADM_FAMILY='${release.family}'`,
    `KEADM_VERSION_FORMAT='${release.versionFormat}'`,
    `KEADM_DEFAULT_KUBEEDGE_VERSION='${release.defaultKubeEdgeVersion}'`,
    `KEADM_RESET_SUBCOMMANDS='${release.resetEdge ? 'true' : 'false'}'`,
    `KEADM_JOIN_FLAGS='${flagLines(release.join)}'`,
    `KEADM_RESET_FLAGS='${flagLines(release.reset)}'`,
    `KEADM_RESET_EDGE_FLAGS='${flagLines(release.resetEdge ?? [])}'`,
  ].join('\n');
  return renderStandin('keadm').replace(
    /^# @keadm-profile.*\n[\s\S]*?^# @end-keadm-profile$/m,
    () => `# keadm profile: ${release.flagsKey}\n${profile}`,
  );
}

/** The edgecore stand-in reporting the given KubeEdge version (with the leading v). */
export function renderEdgecore(version: string): string {
  return renderStandin('edgecore').replace(/^EDGECORE_VERSION=.*$/m, () => `EDGECORE_VERSION=${version}`);
}
