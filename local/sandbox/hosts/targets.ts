import { SsmServiceError } from './ssm-errors';
import type { HostSpec } from './traits';

/** One entry of SendCommand's `Targets`. */
export interface Target {
  readonly Key: string;
  readonly Values: readonly string[];
}

const TAG_PREFIX = 'tag:';

/**
 * The instances `targets` select, in fixture order, as Run Command resolves them: each target is a key with
 * alternative values (`tag:<key>` = the tag has one of the values, `tag-key` = the instance has one of the tag
 * keys, `InstanceIds` = one of the ids), and an instance must match every target. Registered instances are
 * selected whatever their ping status: an offline one gets an invocation that never gets delivered.
 * A target that matches nothing is not an error: the command runs on zero instances.
 */
export function resolveTargets(targets: readonly Target[], specs: readonly HostSpec[]): HostSpec[] {
  const matchers = targets.map((target): ((spec: HostSpec) => boolean) => {
    const values = new Set(target.Values);
    if (target.Key.startsWith(TAG_PREFIX)) {
      const key = target.Key.slice(TAG_PREFIX.length);
      return (spec) => Object.hasOwn(spec.tags, key) && values.has(spec.tags[key] as string);
    }
    if (target.Key === 'tag-key') return (spec) => Object.keys(spec.tags).some((key) => values.has(key));
    if (target.Key.toLowerCase() === 'instanceids') return (spec) => values.has(spec.instanceId);
    throw new SsmServiceError(
      'InvalidTarget',
      `target key ${target.Key} is not supported by the sandbox: expected tag:<key>, tag-key or InstanceIds`,
    );
  });
  return specs.filter((spec) => matchers.every((matches) => matches(spec)));
}
