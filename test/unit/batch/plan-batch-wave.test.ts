import { checkBatch } from '../../../functions/check-batch/core';
import { planWave } from '../../../functions/plan-batch-wave/core';
import { readChildFailure } from '../../../functions/read-child-failure/core';
import { type ChildOutcome, MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from '../../../functions/shared/batch';

const request = (n: number, extra: object = {}) => ({
  nodeName: `edge-${n}`,
  nodeIp: `10.40.${Math.floor(n / 250)}.${(n % 250) + 1}`,
  instanceId: `mi-${String(n).padStart(17, '0')}`,
  ...extra,
});

function start(requests: unknown[], concurrency: number, percent: number) {
  const checked = checkBatch('onboard-node', 'b', requests, {
    batchConcurrency: concurrency,
    batchToleratedFailurePercent: percent,
  });
  return { ...checked, requests };
}

const failed = (index: number, name = 'JoinPreflightFailedError'): ChildOutcome => ({
  index,
  started: true,
  error: { name, message: 'preflight failed' },
});

describe('planWave', () => {
  it('takes the requests in order, a wave of `concurrency` at a time, each under its own execution name', () => {
    const { plan, progress, requests } = start([request(1, { id: 'evt-1' }), request(2), request(3)], 2, 0);
    const first = planWave('b', plan, progress, [], requests);
    expect(first.wave).toEqual([
      { index: 0, executionName: 'evt-1', input: request(1) },
      { index: 1, executionName: 'b-1', input: request(2) },
    ]);
    expect(first.done).toBe(false);
    const second = planWave('b', plan, first.progress, [{ index: 0 }, { index: 1 }], requests);
    expect(second.wave.map((item) => item.index)).toEqual([2]);
    const last = planWave('b', plan, second.progress, [{ index: 2 }], requests);
    expect(last.done).toBe(true);
    expect(last.progress.results.map((node) => [node.index, node.status])).toEqual([
      [0, 'joined'],
      [1, 'joined'],
      [2, 'joined'],
    ]);
    expect(last.progress.totals).toEqual({ requested: 3, joined: 3, failed: 0, skipped: 0 });
  });

  it('fills a wave past requests that cannot run, recording them failed without a child', () => {
    const { plan, progress, requests } = start([request(1, { nodeIp: 'x' }), request(2), request(3)], 2, 0);
    const first = planWave('b', plan, progress, [], requests);
    expect(first.wave.map((item) => item.index)).toEqual([1, 2]);
    expect(first.progress.results).toEqual([
      {
        index: 0,
        nodeName: 'edge-1',
        status: 'failed',
        operationId: 'onboard-node:b-0',
        error: {
          name: 'InvalidRequestError',
          message: 'nodeIp x must be an IPv4 address in dotted-quad form (like 192.168.1.20)',
        },
      },
    ]);
    expect(first.progress.budget).toMatchObject({ failedChildren: 0, exceeded: false });
  });

  it('within the budget keeps starting; past it skips every request left, with the reason', () => {
    const requests = Array.from({ length: 10 }, (_, n) => request(n + 1));
    const { plan, progress } = start(requests, 2, 10);
    expect(plan.toleratedFailures).toBe(1);
    const first = planWave('b', plan, progress, [], requests);
    const within = planWave('b', plan, first.progress, [failed(0), { index: 1 }], requests);
    expect(within.wave.map((item) => item.index)).toEqual([2, 3]);
    const past = planWave('b', plan, within.progress, [failed(2), { index: 3 }], requests);
    expect(past.done).toBe(true);
    expect(past.progress.budget).toEqual({
      toleratedFailurePercent: 10,
      toleratedFailures: 1,
      failedChildren: 2,
      exceeded: true,
    });
    expect(past.progress.totals).toEqual({ requested: 10, joined: 2, failed: 2, skipped: 6 });
    expect(past.progress.results[4]).toEqual({
      index: 4,
      nodeName: 'edge-5',
      status: 'skipped',
      operationId: 'onboard-node:b-4',
      error: {
        name: 'FailureBudgetExceeded',
        message: 'not started: 2 of the started requests failed, more than the 10 % of 10 the batch tolerates (1)',
      },
    });
  });

  it('skips, at no cost to the budget, a child whose name already ran, and stops starting once the batch is stopped', () => {
    const requests = [request(1, { id: 'evt-1' }), request(2), request(3)];
    const { plan, progress } = start(requests, 2, 0);
    const first = planWave('b', plan, progress, [], requests);
    const next = planWave(
      'b',
      plan,
      first.progress,
      [
        readChildFailure(0, {
          Error: 'StepFunctions.ExecutionAlreadyExistsException',
          Cause: 'Execution Already Exists',
        }),
        readChildFailure(1, { Error: 'ExecutionStopped', Cause: 'stopped on SIGINT before "Onboard the node"' }),
      ],
      requests,
    );
    expect(next.done).toBe(true);
    expect(next.progress.results).toEqual([
      expect.objectContaining({
        index: 0,
        status: 'skipped',
        error: {
          name: 'ExecutionAlreadyExists',
          message: 'not started: execution evt-1 already exists (a rerun, or an id seen before); it has the result',
        },
      }),
      expect.objectContaining({
        index: 1,
        status: 'skipped',
        error: expect.objectContaining({ name: 'ExecutionStopped' }),
      }),
      expect.objectContaining({
        index: 2,
        status: 'skipped',
        error: { name: 'ExecutionStopped', message: 'not started: the batch was stopped' },
      }),
    ]);
    expect(next.progress.budget).toMatchObject({ failedChildren: 0, exceeded: false });
  });

  it('keeps a full batch of failures inside Step Functions’ 256 KB, requests and a wave included', () => {
    // the longest names and ids a request may carry, every node failing with a long message
    const requests = Array.from({ length: MAX_BATCH_REQUESTS }, (_, n) => ({
      id: `${'e'.repeat(60)}${String(n).padStart(4, '0')}`,
      nodeName: `${'n'.repeat(59)}${String(n).padStart(4, '0')}`,
      nodeIp: request(n).nodeIp,
      instanceId: request(n).instanceId,
    }));
    expect(Buffer.byteLength(JSON.stringify(requests))).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    const long = {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({ Status: 'FAILED', Error: 'HostScriptFailedError', Cause: 'y'.repeat(5000) }),
    };
    const { plan, progress } = start(requests, 40, 100);
    let state = planWave('b', plan, progress, [], requests);
    let outcomes: ChildOutcome[] = [];
    let largest = 0;
    while (!state.done) {
      outcomes = state.wave.map((item) => readChildFailure(item.index, long));
      // what the next PlanBatchWave call receives: the state, the wave's outcomes and the execution's requests
      const payload = JSON.stringify({ plan, progress: state.progress, wave: state.wave, outcomes, requests });
      largest = Math.max(largest, Buffer.byteLength(payload));
      state = planWave('b', plan, state.progress, outcomes, requests);
    }
    expect(state.progress.totals).toEqual({
      requested: MAX_BATCH_REQUESTS,
      joined: 0,
      failed: MAX_BATCH_REQUESTS,
      skipped: 0,
    });
    expect(largest).toBeLessThan(256 * 1024);
  });
});
