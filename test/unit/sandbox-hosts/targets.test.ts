import { loadHostFixture } from '../../../local/sandbox/hosts';
import { resolveTargets } from '../../../local/sandbox/hosts/targets';

describe('resolveTargets (SendCommand Targets)', () => {
  it('selects the hosts whose tag has one of the values, in fixture order', async () => {
    const specs = await loadHostFixture();
    const selected = resolveTargets([{ Key: 'tag:edgekeeper-role', Values: ['cloud'] }], specs);
    expect(selected.map((s) => s.name)).toEqual(['cloud-master', 'cloud-worker']);
  });

  it('requires every target to match, and any value within one', async () => {
    const specs = await loadHostFixture();
    const targets = [
      { Key: 'tag:edgekeeper-role', Values: ['edge', 'cloud'] },
      { Key: 'InstanceIds', Values: ['mi-0c10d0000000000a2', 'mi-0ed9e000000000001'] },
    ];
    expect(resolveTargets(targets, specs).map((s) => s.name)).toEqual(['cloud-worker']);
    expect(resolveTargets([{ Key: 'tag-key', Values: ['edgekeeper-role'] }], specs)).toHaveLength(2);
  });

  it('matches nothing for a tag no host has, without failing', async () => {
    const specs = await loadHostFixture();
    expect(resolveTargets([{ Key: 'tag:edgekeeper-role', Values: ['nope'] }], specs)).toEqual([]);
    expect(resolveTargets([{ Key: 'tag:team', Values: ['cloud'] }], specs)).toEqual([]);
  });

  it('fails on a target key the sandbox cannot resolve, naming it', () => {
    expect(() => resolveTargets([{ Key: 'resource-groups:Name', Values: ['x'] }], [])).toThrow(
      expect.objectContaining({ type: 'InvalidTarget', message: expect.stringContaining('resource-groups:Name') }),
    );
  });
});
