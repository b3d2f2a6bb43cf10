import semver from 'semver';
import type { HostSpec } from './traits';

/** The most edge hosts a fleet may have: the batch workflow's own limit (300 requests, docs/adr/0012). */
export const MAX_FLEET_HOSTS = 300;

/** An edge host a join can succeed on: online, reaching cloudcore, with a runtime keadm accepts (Docker ≥ 19.03). */
export function canJoin(spec: HostSpec): boolean {
  if (spec.role !== 'edge' || !spec.online || !spec.cloudcoreReachable || spec.runtime.kind === 'none') return false;
  if (spec.runtime.kind !== 'docker') return true;
  const version = semver.coerce(spec.runtime.version ?? '');
  return version !== null && semver.gte(version, '19.3.0');
}

/**
 * Joinable edge hosts of a fleet, named `fleet-0001`…: clones of the fixture's edge hosts that can join (online,
 * reaching cloudcore, a runtime keadm accepts), taken in turn so that every OS, arch and runtime appears; then the
 * fixture's cloud hosts, which every onboarding's logs/exec routing targets. Ids, names and addresses are the
 * fleet's own (`mi-0f1ee…`, 10.64.0.0/16), so they meet none of the fixture's.
 */
export function fleetHostSpecs(count: number, fixture: readonly HostSpec[]): HostSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET_HOSTS) {
    throw new RangeError(`a fleet has 1-${MAX_FLEET_HOSTS} edge hosts, not ${count}`);
  }
  const templates = fixture.filter(canJoin);
  if (templates.length === 0) throw new RangeError('the fixture has no edge host that can join');
  const edge = Array.from({ length: count }, (_, i): HostSpec => {
    const template = templates[i % templates.length] as HostSpec;
    const number = i + 1;
    return {
      ...template,
      name: `fleet-${String(number).padStart(4, '0')}`,
      instanceId: `mi-0f1ee${number.toString(16).padStart(12, '0')}`,
      ipAddress: `10.64.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      tags: {},
    };
  });
  return [...edge, ...fixture.filter((h) => h.role === 'cloud')];
}
