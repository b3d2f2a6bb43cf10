import { BatchCollisionError, checkBatch, findCollisions } from '../../../functions/check-batch/core';
import { MAX_BATCH_BYTES, MAX_BATCH_REQUESTS, readBatchItems } from '../../../functions/shared/batch';
import { InvalidRequestError } from '../../../functions/shared/errors';
import { thrown } from '../../support/thrown';

const SETTINGS = { batchConcurrency: 10, batchToleratedFailurePercent: 10 };
const instance = (n: number) => `mi-0ed9e0000000000${String(n).padStart(2, '0')}`;
const request = (n: number, extra: object = {}) => ({
  nodeName: `edge-${n}`,
  nodeIp: `10.40.0.${n}`,
  instanceId: instance(n),
  ...extra,
});

function collisions(requests: unknown[], workflow: 'onboard-node' | 'remove-node' = 'onboard-node') {
  return findCollisions(workflow, readBatchItems(workflow, 'b', requests), requests);
}

describe('checkBatch', () => {
  it('settles the plan from the settings: concurrency, and the failures the percent tolerates, rounded down', () => {
    const requests = Array.from({ length: 25 }, (_, n) => request(n + 1));
    const checked = checkBatch('onboard-node', 'b', requests, {
      batchConcurrency: 4,
      batchToleratedFailurePercent: 10,
    });
    expect(checked.plan).toEqual({
      workflow: 'onboard-node',
      concurrency: 4,
      toleratedFailurePercent: 10,
      toleratedFailures: 2,
      requested: 25,
    });
    expect(checked.progress).toMatchObject({ next: 0, results: [], failedChildren: 0, stopped: false });
    expect(checked.progress.totals).toEqual({ requested: 25, joined: 0, failed: 0, skipped: 0 });
    expect(checked.outcomes).toEqual([]);
  });

  it('names each collision: the field, the value and every request that shares it', () => {
    const error = thrown(() =>
      checkBatch(
        'onboard-node',
        'b',
        [
          request(1),
          request(2, { nodeName: 'edge-1' }),
          request(3, { nodeIp: '10.40.0.1', instanceId: instance(1) }),
          request(4, { id: 'evt-1' }),
          request(5, { id: 'evt-1' }),
        ],
        SETTINGS,
      ),
    );
    expect(error).toBeInstanceOf(BatchCollisionError);
    expect((error as BatchCollisionError).problems).toEqual([
      { field: 'nodeName', value: 'edge-1', reason: 'is in requests 0 and 1' },
      { field: 'nodeIp', value: '10.40.0.1', reason: 'is in requests 0 and 2' },
      { field: 'instanceId', value: instance(1), reason: 'is in requests 0 and 2' },
      { field: 'id', value: 'evt-1', reason: 'is in requests 3 and 4' },
    ]);
  });

  it('finds a collision between an id and the name another request runs under', () => {
    expect(collisions([request(1), request(2, { id: 'b-0' })])).toEqual([
      { field: 'execution name', value: 'b-0', reason: 'is in requests 0 and 1' },
    ]);
  });

  it('compares removals by node name, instance and IP when given, and lets two requests leave the instance out', () => {
    expect(
      collisions(
        [{ nodeName: 'edge-1' }, { nodeName: 'edge-2' }, { nodeName: 'edge-1', instanceId: instance(3) }],
        'remove-node',
      ),
    ).toEqual([{ field: 'nodeName', value: 'edge-1', reason: 'is in requests 0 and 2' }]);
  });

  it('counts a colliding value even in a request with other problems, and ignores what is not a string', () => {
    expect(collisions([request(1), { nodeName: 'edge-1', nodeIp: 42 }, null, 'edge-1'])).toEqual([
      { field: 'nodeName', value: 'edge-1', reason: 'is in requests 0 and 1' },
    ]);
  });

  it('refuses what cannot be a batch, naming requests', () => {
    const refusal = (requests: unknown) =>
      (thrown(() => checkBatch('onboard-node', 'b', requests, SETTINGS)) as Error).message;
    expect(refusal({ nodeName: 'edge-1' })).toBe('requests {"nodeName":"edge-1"} must be a list of requests');
    expect(refusal([])).toBe('requests must hold at least one request');
    const many = Array.from({ length: MAX_BATCH_REQUESTS + 1 }, (_, n) => ({ nodeName: `e${n}` }));
    expect(refusal(many)).toBe(`requests must hold at most ${MAX_BATCH_REQUESTS} requests, got 301: split the batch`);
    const heavy = [request(1, { labels: { big: 'x'.repeat(MAX_BATCH_BYTES) } })];
    expect(refusal(heavy)).toMatch(
      new RegExp(`^requests must take at most ${MAX_BATCH_BYTES} bytes of JSON, got \\d+`),
    );
    expect(thrown(() => checkBatch('onboard-node', 'b', [], SETTINGS))).toBeInstanceOf(InvalidRequestError);
  });

  it('lets a batch whose requests have problems of their own through: each fails on its own when its turn comes', () => {
    const checked = checkBatch('onboard-node', 'b', [request(1, { nodeIp: '10.40.0.300' }), 'not a request'], SETTINGS);
    expect(checked.plan.requested).toBe(2);
  });
});
