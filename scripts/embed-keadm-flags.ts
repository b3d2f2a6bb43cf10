/**
 * Writes functions/shared/keadm/generated/step-flags.ts: the part of keadm-flags.json the Lambda steps read
 * (keadm/step-flags.ts says why), derived from the table as flag-table.ts validates it. keadm-flags.json stays the
 * source of truth; a unit test fails when the generated module is stale.
 *
 * Usage: `npm run embed` (write) or `... --check` (exit 1 when stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  entriesOf,
  type FlagTableEntry,
  flagTableEntry,
  releaseKey,
  versionFormatOf,
} from '../functions/shared/keadm/flag-table';
import type { JoinRelease, ResetRelease } from '../functions/shared/keadm/step-flags';
import { SUPPORTED_VERSIONS } from '../functions/shared/keadm/supported-versions';
import type { KeadmProfile } from '../functions/shared/kubeedge-schemas';

const TARGET = join(__dirname, '..', 'functions', 'shared', 'keadm', 'generated', 'step-flags.ts');
const PROFILES: readonly KeadmProfile[] = ['fork', 'upstream'];

/** The steps' view of the join flags: every supported version, by profile and version (`v1.6.1`). */
export type JoinFlags = Record<KeadmProfile, Record<string, JoinRelease>>;
/** The steps' view of the reset flags: every release of a profile, in table order. */
export type ResetFlags = Record<KeadmProfile, ResetRelease[]>;

function joinRelease(entry: FlagTableEntry): JoinRelease {
  const runtimetype = entry.join.find((flag) => flag.name === 'runtimetype');
  return {
    versionFormat: versionFormatOf(entry),
    flags: entry.join.map((flag) => flag.name),
    types: Object.fromEntries(
      entry.join.flatMap((flag) => (flag.type === 'string' ? [] : [[flag.name, flag.type]])),
    ) as JoinRelease['types'],
    required: entry.join.filter((flag) => flag.required).map((flag) => flag.name),
    ...(runtimetype ? { runtimetypeDefault: String(runtimetype.default) } : {}),
  };
}

/** The join view of the table. @throws Error when a supported version has no entry */
export function joinFlags(): JoinFlags {
  const view = { fork: {}, upstream: {} } as JoinFlags;
  for (const profile of PROFILES) {
    for (const version of SUPPORTED_VERSIONS[profile]) {
      const entry = flagTableEntry(releaseKey(profile, version));
      if (!entry) throw new Error(`keadm-flags.json has no entry ${releaseKey(profile, version)}`);
      view[profile][version] = joinRelease(entry);
    }
  }
  return view;
}

/** The reset view of the table. */
export function resetFlags(): ResetFlags {
  const view = { fork: [], upstream: [] } as ResetFlags;
  for (const profile of PROFILES) {
    for (const [key, entry] of entriesOf(profile)) {
      const resetEdge = entry.reset_subcommands?.['reset edge'];
      view[profile].push({
        ref: key.slice(key.indexOf('@') + 1),
        reset: entry.reset.map((flag) => flag.name),
        ...(resetEdge ? { resetEdge: resetEdge.map((flag) => flag.name) } : {}),
      });
    }
  }
  return view;
}

/**
 * The join view as source: a flag list several releases share (fork v1.5.0 and v1.6.0, upstream 1.12 to 1.15, …)
 * is written once as a constant the releases name, so each bundle carries it once.
 */
function joinFlagsSource(view: JoinFlags): { constants: string[]; value: string } {
  const shared = new Map<string, string>();
  const constants: string[] = [];
  const profiles = PROFILES.map((profile) => {
    const releases = Object.entries(view[profile]).map(([version, release]) => {
      const list = JSON.stringify(release.flags);
      let name = shared.get(list);
      if (name === undefined) {
        name = `${profile.toUpperCase()}_${version.toUpperCase().replaceAll('.', '_')}_FLAGS`;
        shared.set(list, name);
        constants.push(`const ${name} = ${list};`);
      }
      const fields = Object.entries(release).map(([key, value]) =>
        key === 'flags' ? `flags: ${name}` : `${key}: ${JSON.stringify(value)}`,
      );
      return `${JSON.stringify(version)}: { ${fields.join(', ')} }`;
    });
    return `${profile}: { ${releases.join(', ')} }`;
  });
  return { constants, value: `{ ${profiles.join(', ')} }` };
}

/** The text of the generated module. */
export function stepFlagsModule(): string {
  const join = joinFlagsSource(joinFlags());
  return [
    '// Generated from keadm-flags.json by embed-keadm-flags.ts: edit the JSON, then run `npm run embed`.',
    '// Biome may reformat this file; only the values matter. What it holds and why: keadm/step-flags.ts.',
    "import type { KeadmProfile } from '../../kubeedge-schemas';",
    "import type { JoinRelease, ResetRelease } from '../step-flags';",
    '',
    '// `keadm join` flag lists, each written once and named after the first release that registers it',
    ...join.constants,
    '',
    '/** `keadm join` of every supported version, by profile and version. */',
    `export const JOIN_FLAGS: Readonly<Record<KeadmProfile, Readonly<Record<string, JoinRelease>>>> = ${join.value};`,
    '',
    '/** `keadm reset` of every release in the table, by profile, in table order. */',
    `export const RESET_FLAGS: Readonly<Record<KeadmProfile, readonly ResetRelease[]>> = ${JSON.stringify(resetFlags(), null, 2)};`,
    '',
  ].join('\n');
}

/** Whether the generated module exports what the table gives (values, not text: Biome may reformat it). */
export function stepFlagsCurrent(): boolean {
  try {
    const loaded = require(TARGET) as { JOIN_FLAGS?: unknown; RESET_FLAGS?: unknown };
    return isDeepStrictEqual(loaded.JOIN_FLAGS, joinFlags()) && isDeepStrictEqual(loaded.RESET_FLAGS, resetFlags());
  } catch {
    return false;
  }
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  if (!stepFlagsCurrent()) {
    console.log(`${check ? 'stale' : 'wrote'} ${TARGET}`);
    if (check) process.exit(1);
    writeFileSync(TARGET, stepFlagsModule());
  }
}
