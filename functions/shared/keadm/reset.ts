import semver from 'semver';
import { EdgekeeperError } from '../errors';
import type { KeadmProfile } from '../schemas';
import { entriesOf, type FlagTableEntry } from './flag-table';

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
  readonly version: string;
  readonly entry: FlagTableEntry;
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
  const edgeSubcommand = row.entry.reset_subcommands?.['reset edge'];
  const flags = edgeSubcommand ?? row.entry.reset;
  const args = edgeSubcommand ? ['reset', 'edge'] : ['reset'];
  if (flags.some((flag) => flag.name === 'force')) args.push('--force');
  return args;
}

function nearestRow(profile: KeadmProfile, version: string): TableRow {
  const wanted = semver.coerce(version);
  const candidates = rowsOf(profile).filter((row) => wanted !== null && semver.lte(row.version, wanted));
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
  for (const [key, entry] of entriesOf(profile)) {
    const parsed = semver.coerce(key.slice(key.indexOf('@') + 1));
    if (parsed) rows.push({ version: parsed.version, entry });
  }
  return rows.sort((a, b) => semver.compare(a.version, b.version));
}

function supportedRange(profile: KeadmProfile): string {
  const first = rowsOf(profile)[0];
  return first ? `>= ${first.version}` : '(none in the flag table)';
}
