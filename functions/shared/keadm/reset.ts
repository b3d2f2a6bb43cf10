import { EdgekeeperError } from '../errors';
import type { KeadmProfile } from '../kubeedge-schemas';
import { RESET_FLAGS } from './generated/step-flags';
import type { ResetRelease } from './step-flags';

/** The flag table has no keadm of this profile at or below the requested version. */
export class UnsupportedKeadmVersionError extends EdgekeeperError {
  override readonly name = 'UnsupportedKeadmVersionError';
  constructor(
    readonly profile: KeadmProfile,
    readonly version: string,
  ) {
    super(`keadm ${profile} version ${version} is not supported: expected ${profile} ${supportedRange(profile)}`);
  }
}

interface TableRow {
  readonly version: Version;
  readonly release: ResetRelease;
}

/** major, minor, patch */
type Version = readonly [number, number, number];

// semver's coerce pattern: the first run of up to three dot-separated numbers of at most 16 digits each.
const COERCE = /(^|[^\d])(\d{1,16})(?:\.(\d{1,16}))?(?:\.(\d{1,16}))?(?:$|[^\d])/;

/**
 * The version in a text, as `semver.coerce` reads it (`v1.6.1-kubesphere` → 1.6.1, `kubesphere-release-1.8.2` →
 * 1.8.2, `v1.6` → 1.6.0), or null when it has none. Done here rather than with the semver package, which a step
 * would otherwise load for three comparisons; test/unit/remove/keadm-reset.test.ts holds the two to the same answers.
 */
export function coerceVersion(text: string): Version | null {
  const match = COERCE.exec(text);
  if (!match) return null;
  const parts = [match[2] ?? '', match[3] ?? '0', match[4] ?? '0'];
  // semver refuses what coerce then parses when a part has a leading zero or exceeds a safe integer
  if (parts.some((part) => /^0\d/.test(part) || Number(part) > Number.MAX_SAFE_INTEGER)) return null;
  return [Number(parts[0]), Number(parts[1]), Number(parts[2])];
}

function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The keadm arguments that reset an edge host, read from the flag table for the nearest keadm at or below
 * `version` (the table records the tags where flags changed; tags in between behave like the one below them).
 *
 * - Upstream ≥ 1.17 splits reset into `reset edge` / `reset cloud`: the edge one is used.
 * - `--force` is passed whenever that keadm has it: it skips the y/N prompt (fork ≥ 1.6, upstream ≥ 1.6).
 * - Fork v1.5.0 has no `--force` and, per its source, never prompts: plain `reset` is right, no `yes |` needed.
 *   The script also gives keadm `/dev/null` as stdin, so an unexpected prompt reads EOF and aborts instead of
 *   hanging the SSM command; the script then cleans up by itself.
 *
 * @param version `v1.6.1`, `1.6.1` or `v1.6.1-kubesphere`
 * @throws UnsupportedKeadmVersionError when the version is unparseable or older than every table entry
 */
export function resetCommand(profile: KeadmProfile, version: string): string[] {
  const row = nearestRow(profile, version);
  const edgeSubcommand = row.release.resetEdge;
  const flags = edgeSubcommand ?? row.release.reset;
  const args = edgeSubcommand ? ['reset', 'edge'] : ['reset'];
  if (flags.includes('force')) args.push('--force');
  return args;
}

function nearestRow(profile: KeadmProfile, version: string): TableRow {
  const wanted = coerceVersion(version);
  const candidates = rowsOf(profile).filter((row) => wanted !== null && compareVersions(row.version, wanted) <= 0);
  const best = candidates.at(-1);
  if (!best) throw new UnsupportedKeadmVersionError(profile, version);
  return best;
}

/**
 * Rows of one profile, oldest first. Fork keys are tags (`v1.6.1-kubesphere`) or release branches
 * (`kubesphere-release-1.8.2`); coercion reads the version out of either. When two keys give the same version
 * (fork `v1.9.2` and `v1.9.2-kubesphere` are byte-identical for keadm) the later key wins, which is harmless.
 */
function rowsOf(profile: KeadmProfile): TableRow[] {
  const rows: TableRow[] = [];
  for (const release of RESET_FLAGS[profile]) {
    const parsed = coerceVersion(release.ref);
    if (parsed) rows.push({ version: parsed, release });
  }
  return rows.sort((a, b) => compareVersions(a.version, b.version));
}

function supportedRange(profile: KeadmProfile): string {
  const first = rowsOf(profile)[0];
  return first ? `>= ${first.version.join('.')}` : '(none in the flag table)';
}
