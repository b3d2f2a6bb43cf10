import { ApiException } from '@kubernetes/client-node';
import { kubeNodeSource } from '../../../functions/api/nodes';
import { InvalidRequestError, TransientServiceError } from '../../../functions/shared/errors';
import type { KubeClients } from '../../../functions/shared/k8s';
import { caught } from '../../support/thrown';
import { node } from './fakes';

/** The two core API calls the node source makes, answered by `answer`, with what they were asked. */
function clients(answer: (call: string, params: Record<string, unknown>) => unknown) {
  const asked: { call: string; params: Record<string, unknown> }[] = [];
  const respond = (call: string) => async (params: Record<string, unknown>) => {
    asked.push({ call, params });
    return answer(call, params);
  };
  const core = { listNode: respond('listNode'), readNode: respond('readNode') } as unknown as KubeClients['core'];
  return { asked, kube: { core } as KubeClients };
}

function status(code: number): ApiException<string> {
  return new ApiException(code, 'request failed', JSON.stringify({ message: `status ${code}` }), {});
}

describe('kubeNodeSource', () => {
  it('lists the nodes with the edge role label, one page at a time', async () => {
    // Prepare
    const { asked, kube } = clients(() => ({ items: [node('edge-1')], metadata: { _continue: 'next-page' } }));

    // Act
    const page = await kubeNodeSource(kube).listEdgeNodes({ limit: 1, continue: 'this-page' });

    // Assess
    expect(page.items.map((item) => item.metadata?.name)).toEqual(['edge-1']);
    expect(page.continue).toBe('next-page');
    expect(asked).toEqual([
      { call: 'listNode', params: { labelSelector: 'node-role.kubernetes.io/edge', limit: 1, _continue: 'this-page' } },
    ]);
  });

  it('ends the pages when the API server gives no continue token', async () => {
    // Prepare
    const { kube } = clients(() => ({ items: [], metadata: { _continue: '' } }));

    // Act
    const page = await kubeNodeSource(kube).listEdgeNodes({ limit: 10 });

    // Assess
    expect(page.continue).toBeNull();
  });

  it.each([
    [410, 'has expired: list again from the first page'],
    [400, 'is not a token a page of nodes gave'],
  ])('names the continue parameter when the API server answers %d to it', async (code, reason) => {
    // Prepare
    const { kube } = clients(() => {
      throw status(code);
    });

    // Act
    const error = await caught(kubeNodeSource(kube).listEdgeNodes({ limit: 10, continue: 'stale' }));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).problems).toEqual([{ field: 'continue', value: 'stale', reason }]);
  });

  it('reads a node, null when it does not exist, and classifies a failing API server', async () => {
    // Prepare
    const { kube } = clients((_call, params) => {
      if (params.name === 'edge-1') return node('edge-1');
      throw status(params.name === 'gone' ? 404 : 503);
    });
    const source = kubeNodeSource(kube);

    // Act
    const found = await source.readNode('edge-1');
    const gone = await source.readNode('gone');
    const error = await caught(source.readNode('edge-2'));

    // Assess
    expect(found?.metadata?.name).toBe('edge-1');
    expect(gone).toBeNull();
    expect(error).toBeInstanceOf(TransientServiceError);
  });
});
