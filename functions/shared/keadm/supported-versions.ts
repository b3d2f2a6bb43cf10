import type { KeadmProfile } from '../kubeedge-schemas';

/**
 * The versions edgekeeper installs, per profile. Fork: KubeSphere's installable list (v1.5.0, v1.6.0, v1.6.1,
 * v1.6.2) plus the cloudcore versions of KubeSphere 3.2/3.3 (v1.7.2, v1.9.2). Upstream: the keadm ≥ 1.12
 * (image-based join) versions whose flags the table holds. The two ranges do not overlap, so a version alone
 * names its profile. A module of its own so that scripts/embed-keadm-flags.ts can read it without loading the
 * steps' view of the flag table it generates.
 */
export const SUPPORTED_VERSIONS: Readonly<Record<KeadmProfile, readonly string[]>> = Object.freeze({
  fork: Object.freeze(['v1.5.0', 'v1.6.0', 'v1.6.1', 'v1.6.2', 'v1.7.2', 'v1.9.2']),
  upstream: Object.freeze(['v1.12.0', 'v1.13.0', 'v1.15.0', 'v1.17.0', 'v1.20.0']),
});
