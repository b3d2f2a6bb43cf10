/**
 * KubeSphere's default (its version list marks "v1.6.1(默认)", default; docs/kubeedge.md §1). A module of its own so
 * that the settings, which every step reads, do not load the keadm flag table with it.
 */
export const DEFAULT_KUBEEDGE_VERSION = 'v1.6.1';
