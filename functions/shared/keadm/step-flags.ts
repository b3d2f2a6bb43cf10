import type { KeadmFlagType } from './flag-table';

/*
 * The part of keadm-flags.json the Lambda steps read, as generated/step-flags.ts holds it: which flags `keadm join`
 * and `keadm reset` register, without the provenance (sources, commits, notes) and the fields no step reads. The
 * whole table with its zod validation would be ~48 KB of every bundle that renders a keadm command; this view is a
 * few KB. scripts/embed-keadm-flags.ts derives it from the validated table (flag-table.ts), and a unit test fails
 * when it is stale, so keadm-flags.json stays the one source.
 */

/** What the steps read of one supported release's `keadm join`. */
export interface JoinRelease {
  /** how `--kubeedge-version` must be spelt: `X.Y.Z` only, or also `vX.Y.Z` */
  readonly versionFormat: 'no-v' | 'v-optional';
  /** every flag `join` registers, by long name without `--`, in the table's order */
  readonly flags: readonly string[];
  /** the type of each flag that is not a plain string flag */
  readonly types: Readonly<Record<string, Exclude<KeadmFlagType, 'string'>>>;
  /** the flags cobra marks required, in the table's order */
  readonly required: readonly string[];
  /** `--runtimetype`'s registered default (which runtime a bare join uses); absent when there is no such flag */
  readonly runtimetypeDefault?: string;
}

/** What the steps read of one release's `keadm reset`: every release of the table, tags and branch tips. */
export interface ResetRelease {
  /** the ref of the table key, after the `@`: `v1.6.1-kubesphere`, `kubesphere-release-1.8.2`, `v1.20.0` */
  readonly ref: string;
  /** the flags `reset` registers */
  readonly reset: readonly string[];
  /** the flags `reset edge` registers, where reset is split into `reset edge` and `reset cloud` (upstream ≥ 1.17) */
  readonly resetEdge?: readonly string[];
}

/** One `keadm join` flag as the steps see it. */
export interface JoinFlag {
  readonly name: string;
  readonly type: KeadmFlagType;
  /** cobra `MarkFlagRequired` */
  readonly required: boolean;
}

/** The flags of a join release, in the table's order. */
export function joinFlagsOf(release: JoinRelease): JoinFlag[] {
  return release.flags.map((name) => ({
    name,
    type: Object.hasOwn(release.types, name) ? (release.types[name] as KeadmFlagType) : 'string',
    required: release.required.includes(name),
  }));
}
