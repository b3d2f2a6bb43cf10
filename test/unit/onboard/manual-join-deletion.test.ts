import type { V1Node } from '@kubernetes/client-node';
import { manualJoinDeletion } from '../../../functions/delete-node/core';

function node(ips: readonly string[]): V1Node {
  return {
    metadata: { name: 'edge-m' },
    status: { addresses: ips.map((address) => ({ type: 'InternalIP', address })) },
  };
}

describe('what a failed manual join deletes', () => {
  it('deletes the node its command registered: this name, this IP', () => {
    expect(manualJoinDeletion('edge-m', node(['10.20.0.71']), '10.20.0.71')).toBe('delete');
  });

  it('has nothing to do when the node never registered', () => {
    expect(manualJoinDeletion('edge-m', null, '10.20.0.71')).toEqual({
      step: 'delete-node',
      result: 'nothing-to-do',
      detail: 'node edge-m never registered',
    });
  });

  it.each([
    [['10.9.9.9'], 'node edge-m reports InternalIP 10.9.9.9, not 10.20.0.71'],
    [[], 'node edge-m reports InternalIP none, not 10.20.0.71'],
  ])('keeps a node of that name reporting %j, saying why', (ips, why) => {
    const outcome = manualJoinDeletion('edge-m', node(ips), '10.20.0.71');

    expect(outcome).toEqual({ step: 'delete-node', result: 'kept', detail: expect.stringContaining(why) });
  });
});
