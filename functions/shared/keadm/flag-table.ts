import * as z from 'zod';
import type { KeadmProfile } from '../kubeedge-schemas';
import flagTableJson from './keadm-flags.json';

/*
 * The one reader of keadm-flags.json: the flags each keadm release registers for `join` and `reset`, read from its
 * Go source (docs/keadm-flags.md says where, and how to refresh the table). Everything else reads the table through
 * this module, validated once when it is loaded, so a malformed edit of the JSON fails on import with the entry and
 * field named instead of producing a wrong `keadm` command later: the sandbox's keadm stand-in, and
 * scripts/embed-keadm-flags.ts, which derives from it the steps' view (generated/step-flags.ts) that the join
 * renderer and the reset command read. No Lambda step imports this module: the table is ~48 KB of a bundle.
 */

/** The pflag types keadm registers; edgekeeper formats each of them (see profiles.ts). */
export const KeadmFlagType = z.enum(['string', 'bool', 'stringSlice', 'stringArray']);
export type KeadmFlagType = z.infer<typeof KeadmFlagType>;

/** One flag as cobra/pflag registers it in a keadm release. */
export const KeadmFlag = z
  .strictObject({
    /** the long name, without `--` */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/),
    /** the one-letter shorthand, or empty */
    short: z.string().regex(/^[A-Za-z]?$/),
    type: KeadmFlagType,
    /** the registered default; lists for slice and array flags */
    default: z.union([z.string(), z.boolean(), z.array(z.string())]),
    /** cobra `MarkFlagRequired` */
    required: z.boolean(),
    /** cobra `MarkDeprecated` message: the flag is hidden but still accepted */
    deprecated: z.string().min(1).optional(),
  })
  .superRefine((flag, ctx) => {
    const expected = flag.type === 'bool' ? 'boolean' : flag.type === 'string' ? 'string' : 'array';
    const actual = Array.isArray(flag.default) ? 'array' : typeof flag.default;
    if (actual !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `a ${flag.type} flag's default must be a ${expected}, got ${JSON.stringify(flag.default)}`,
      });
    }
  });
export type KeadmFlag = z.infer<typeof KeadmFlag>;

const Flags = z.array(KeadmFlag).superRefine((flags, ctx) => {
  const seen = new Set<string>();
  for (const [index, flag] of flags.entries()) {
    if (seen.has(flag.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `--${flag.name} twice` });
    seen.add(flag.name);
  }
});

/** One keadm release (a tag or a branch tip) of the fork or of upstream, with where its flags were read. */
export const FlagTableEntry = z.strictObject({
  join: Flags,
  reset: Flags,
  /** upstream ≥ 1.17 splits reset into `reset edge` and `reset cloud` */
  reset_subcommands: z.record(z.enum(['reset edge', 'reset cloud']), Flags).optional(),
  /** the Go files the flags were read from, relative to the repository root */
  source: z.array(z.string().min(1)).min(1),
  ref_type: z.enum(['tag', 'branch']),
  /** the commit the ref pointed at when it was read */
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  commit_date: z.iso.datetime({ offset: true }),
  platform: z.string().min(1),
  /** how `--kubeedge-version` must be spelt: `no-v …` (X.Y.Z) or `v-optional …` */
  kubeedge_version_format: z.string().regex(/^(no-v|v-optional) /),
  /** keadm's own DefaultKubeEdgeVersion constant, without the leading v */
  default_kubeedge_version_const: z.string().regex(/^\d+\.\d+\.\d+$/),
  notes: z.array(z.string()),
});
export type FlagTableEntry = z.infer<typeof FlagTableEntry>;

/** Table keys: `<owner>/<repo>@<ref>`, e.g. `kubesphere/kubeedge@v1.6.1-kubesphere` or `kubeedge/kubeedge@v1.12.0`. */
const KEY = /^(kubesphere|kubeedge)\/kubeedge@[A-Za-z0-9.-]+$/;

export const FlagTable = z.record(z.string().regex(KEY), FlagTableEntry);
export type FlagTable = z.infer<typeof FlagTable>;

/** The flag table is malformed: a bad edit of keadm-flags.json. */
export class FlagTableError extends Error {
  override readonly name = 'FlagTableError';
}

/** Validates a flag table; a problem names the entry, the field and the reason. */
export function parseFlagTable(json: unknown): FlagTable {
  const parsed = FlagTable.safeParse(json);
  if (parsed.success) return deepFreeze(parsed.data);
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
  throw new FlagTableError(`keadm-flags.json is invalid: ${problems.join('; ')}`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The flag table, validated once on load. */
export const FLAG_TABLE: Readonly<FlagTable> = parseFlagTable(flagTableJson);

/** The repository each profile's keadm is built from. */
export const KEADM_REPOSITORY: Readonly<Record<KeadmProfile, string>> = Object.freeze({
  fork: 'kubesphere/kubeedge',
  upstream: 'kubeedge/kubeedge',
});

/**
 * The table key of a release: the fork tags its releases `<version>-kubesphere`, upstream `<version>`.
 * @param version with the leading v: `v1.6.1`
 */
export function releaseKey(profile: KeadmProfile, version: string): string {
  return profile === 'fork'
    ? `${KEADM_REPOSITORY.fork}@${version}-kubesphere`
    : `${KEADM_REPOSITORY.upstream}@${version}`;
}

/** The entry of a table key, or undefined when the table has none. */
export function flagTableEntry(key: string): FlagTableEntry | undefined {
  return Object.hasOwn(FLAG_TABLE, key) ? FLAG_TABLE[key] : undefined;
}

/** Every entry of one profile's repository (tags and branch tips), by key, in table order. */
export function entriesOf(profile: KeadmProfile): [key: string, entry: FlagTableEntry][] {
  const prefix = `${KEADM_REPOSITORY[profile]}@`;
  return Object.entries(FLAG_TABLE).filter(([key]) => key.startsWith(prefix));
}

/** Whether a release's `--kubeedge-version` takes `X.Y.Z` only (`no-v`) or also `vX.Y.Z` (`v-optional`). */
export function versionFormatOf(entry: FlagTableEntry): 'no-v' | 'v-optional' {
  return entry.kubeedge_version_format.startsWith('no-v') ? 'no-v' : 'v-optional';
}
