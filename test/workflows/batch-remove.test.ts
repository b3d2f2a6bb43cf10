import { runWorkflow } from '../../local/runtime';
import { asHandlers, NamedError, type StepInput, type Stubs } from './stubs';

/** batch-remove with the real batch steps and stub removal steps (the host reset skipped: the short path). */

function removalStubs(started: string[], refusing: readonly string[]): Stubs {
  return {
    InspectNode: async (input: StepInput) => {
      const asked = input.request as { nodeName: string; mode: 'remove'; drain?: boolean };
      started.push(asked.nodeName);
      if (refusing.includes(asked.nodeName)) {
        throw new NamedError('NotAnEdgeNodeError', `node ${asked.nodeName} is not an edge node`);
      }
      return {
        request: { ...asked, drain: asked.drain ?? false, force: false, forceHost: null, hostChanged: true },
        nodeExists: true,
        instanceId: null,
        nodeIp: null,
        hostReset: { action: 'skip', reason: 'no host recorded for it: nothing to reset', notCleaned: [] },
        notice: null,
        keadm: { profile: 'fork', version: 'v1.6.1' },
      };
    },
    LockNode: async () => ({ lock: 'acquired', keys: [] }),
    ReleaseNodeLock: async () => ({ lock: 'released', released: [] }),
    DrainNode: async () => ({
      done: true,
      waitSeconds: 0,
      startedAt: '2026-01-01T00:00:00.000Z',
      attempt: 1,
      outcome: { step: 'drain', result: 'nothing-to-do' },
    }),
    DeleteNode: async (input: StepInput) => ({
      outcome: { step: 'delete-node', result: 'done', detail: `deleted node ${input.nodeName}` },
    }),
    RouteNodeStreams: async () => ({
      status: 'Done',
      outcome: { step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' },
    }),
  };
}

async function removeBatch(requests: unknown[], refusing: readonly string[] = []) {
  const started: string[] = [];
  const result = await runWorkflow({
    workflow: 'batch-remove',
    input: { requests },
    executionName: 'retire-1',
    waits: 'compressed',
    compressedWaitMs: 1,
    handlers: asHandlers(removalStubs(started, refusing)),
    environment: { EDGEKEEPER_LOCAL_LOG: 'off', EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '50' },
  });
  return { result, started };
}

describe('batch-remove workflow', () => {
  it('removes each node in its own remove-node execution, in remove mode, with a result per node', async () => {
    const { result, started } = await removeBatch(
      [{ id: 'evt-9', nodeName: 'edge-r1', drain: true }, { nodeName: 'edge-r2' }, { nodeName: 'master' }],
      ['master'],
    );
    expect(started.sort()).toEqual(['edge-r1', 'edge-r2', 'master']);
    expect(result.output).toEqual({
      workflow: 'remove-node',
      concurrency: 10,
      budget: { toleratedFailurePercent: 50, toleratedFailures: 1, failedChildren: 1, exceeded: false },
      totals: { requested: 3, removed: 2, failed: 1, skipped: 0 },
      results: [
        { index: 0, id: 'evt-9', nodeName: 'edge-r1', status: 'removed', operationId: 'remove-node:evt-9' },
        { index: 1, nodeName: 'edge-r2', status: 'removed', operationId: 'remove-node:retire-1-1' },
        {
          index: 2,
          nodeName: 'master',
          status: 'failed',
          operationId: 'remove-node:retire-1-2',
          error: { name: 'NotAnEdgeNodeError', message: 'node master is not an edge node' },
        },
      ],
    });
    const childInputs = result.events
      .filter((event) => event.type === 'ExecutionStarted' && event.workflow === 'remove-node')
      .map((event) => event.input);
    expect(childInputs).toContainEqual({ nodeName: 'edge-r1', drain: true, mode: 'remove' });
  });

  it('fails a rollback or uninstall request without starting it: a batch only removes', async () => {
    const { result, started } = await removeBatch([{ nodeName: 'edge-r1', mode: 'rollback' }, { nodeName: 'edge-r2' }]);
    expect(started).toEqual(['edge-r2']);
    expect((result.output as { results: unknown[] }).results[0]).toEqual({
      index: 0,
      nodeName: 'edge-r1',
      status: 'failed',
      operationId: 'remove-node:retire-1-0',
      error: {
        name: 'InvalidRequestError',
        message: 'mode rollback must be remove or left out in a batch: rollbacks and the uninstall run on their own',
      },
    });
  });
});
