import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorkflow, type WorkflowEvent } from '../../local/runtime';
import { asHandlers, NamedError, type StepInput, type StepResult, type Stubs } from './stubs';

/**
 * The batch workflows with the real batch steps (CheckBatch, PlanBatchWave, ReadChildFailure, all pure) and stub
 * steps for the children: each child onboarding finds its node already joined (the short path), unless the test
 * makes its validation or its finishing fail.
 */

const INSTANCE = (n: number) => `mi-0ed9e0000000000${String(n).padStart(2, '0')}`;
const request = (n: number, extra: object = {}) => ({
  nodeName: `edge-b${n}`,
  nodeIp: `10.30.0.${n}`,
  instanceId: INSTANCE(n),
  ...extra,
});

const SETTINGS: StepResult<'ValidateOnboardRequest'>['join']['settings'] = {
  nodeName: 'edge-b1',
  nodeIp: '10.30.0.1',
  profile: 'fork',
  version: 'v1.6.2',
  region: 'zh',
  downloadUrl: 'https://kubeedge.pek3b.qingstor.com/bin/v1.6.2/$arch/keadm-v1.6.2-linux-$arch.tar.gz',
  cloudcore: {
    address: '203.0.113.10',
    ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
  },
  taint: true,
  labels: {},
};

interface Behaviour {
  /** node names whose validation fails (before the lock: no rollback) */
  readonly invalid?: readonly string[];
  /** node names whose finishing fails after the join (a rollback runs) */
  readonly unfinished?: readonly string[];
}

function childStubs(behaviour: Behaviour, started: string[]): Stubs {
  const nodeOf = (input: StepInput) =>
    String((input.request as { nodeName?: string } | undefined)?.nodeName ?? input.nodeName);
  return {
    ValidateOnboardRequest: async (input) => {
      const asked = input.request as { nodeName: string; nodeIp: string; instanceId: string };
      started.push(asked.nodeName);
      if (behaviour.invalid?.includes(asked.nodeName)) {
        throw new NamedError('InvalidRequestError', `nodeIp ${asked.nodeIp} is already the InternalIP of node worker`);
      }
      return {
        request: { ...asked, mode: 'ssm', taint: true, labels: {}, dryRun: false },
        alreadyJoined: true,
        adopting: false,
        join: { settings: { ...SETTINGS, nodeName: asked.nodeName } },
      };
    },
    LockNode: async () => ({ lock: 'acquired', keys: [] }),
    ReleaseNodeLock: async () => ({ lock: 'released', released: [] }),
    FinishNode: async (input) => {
      if (behaviour.unfinished?.includes(nodeOf(input))) {
        throw new NamedError('NodeVanishedError', `node ${nodeOf(input)} was deleted\nsecond line of detail`);
      }
      return { nodeName: nodeOf(input), patched: true, labelsSet: [], labelsRemoved: [], taint: 'unchanged' };
    },
    KeepDaemonSetsOffEdge: async () => ({ patched: [], skipped: [] }),
    RouteNodeStreams: async () => ({
      status: 'Done',
      outcome: { step: 'routing', result: 'skipped', detail: 'logs/exec routing is off' },
    }),
  };
}

async function batch(
  requests: unknown,
  options: { behaviour?: Behaviour; env?: Record<string, string>; executionName?: string; executionsDir?: string } = {},
) {
  const started: string[] = [];
  const result = await runWorkflow({
    workflow: 'batch-onboard',
    input: { requests },
    executionName: options.executionName ?? 'batch-1',
    waits: 'compressed',
    compressedWaitMs: 1,
    handlers: asHandlers(childStubs(options.behaviour ?? {}, started)),
    // the real batch steps run here: their logs stay out of the test output
    environment: { EDGEKEEPER_LOCAL_LOG: 'off', ...options.env },
    ...(options.executionsDir && { executionsDir: options.executionsDir }),
  });
  return { result, started };
}

/** The child executions the batch started, by execution name, in the order they started. */
function children(events: readonly WorkflowEvent[]): string[] {
  return events
    .filter((event) => event.type === 'ExecutionStarted' && event.workflow === 'onboard-node')
    .map((event) => event.execution);
}

describe('batch-onboard workflow', () => {
  it('runs every request as its own onboard-node execution and reports a result per node, with totals', async () => {
    const requests = [request(1, { id: 'evt-1' }), request(2), request(3)];
    const { result } = await batch(requests);
    expect(result.error).toBeNull();
    expect(result.output).toEqual({
      workflow: 'onboard-node',
      concurrency: 10,
      budget: { toleratedFailurePercent: 10, toleratedFailures: 0, failedChildren: 0, exceeded: false },
      totals: { requested: 3, joined: 3, failed: 0, skipped: 0 },
      results: [
        { index: 0, id: 'evt-1', nodeName: 'edge-b1', status: 'joined', operationId: 'onboard-node:evt-1' },
        { index: 1, nodeName: 'edge-b2', status: 'joined', operationId: 'onboard-node:batch-1-1' },
        { index: 2, nodeName: 'edge-b3', status: 'joined', operationId: 'onboard-node:batch-1-2' },
      ],
    });
    // the id names the child; without one, the batch's name and the index do
    expect(children(result.events).sort()).toEqual(['batch-1-1', 'batch-1-2', 'evt-1']);
    const childInputs = result.events
      .filter((event) => event.type === 'ExecutionStarted' && event.workflow === 'onboard-node')
      .map((event) => event.input);
    // the child gets the request as written, without the batch's id
    expect(childInputs).toContainEqual(request(1));
  });

  it('reports a failed child with its own error, first line only, and lets the others join', async () => {
    const { result } = await batch([request(1), request(2), request(3)], {
      behaviour: { invalid: ['edge-b2'], unfinished: ['edge-b3'] },
      env: { EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '100' },
    });
    const output = result.output as { results: unknown[]; totals: unknown; budget: unknown };
    expect(output.results).toEqual([
      expect.objectContaining({ nodeName: 'edge-b1', status: 'joined' }),
      expect.objectContaining({
        nodeName: 'edge-b2',
        status: 'failed',
        error: { name: 'InvalidRequestError', message: 'nodeIp 10.30.0.2 is already the InternalIP of node worker' },
      }),
      expect.objectContaining({
        nodeName: 'edge-b3',
        status: 'failed',
        error: { name: 'NodeVanishedError', message: 'node edge-b3 was deleted' },
      }),
    ]);
    expect(output.totals).toEqual({ requested: 3, joined: 1, failed: 2, skipped: 0 });
    expect(output.budget).toEqual({
      toleratedFailurePercent: 100,
      toleratedFailures: 3,
      failedChildren: 2,
      exceeded: false,
    });
  });

  it('past the failure budget starts no new child, lets the running ones finish, and skips the rest', async () => {
    const requests = [1, 2, 3, 4, 5].map((n) => request(n));
    const { result, started } = await batch(requests, {
      behaviour: { invalid: ['edge-b1'] },
      env: { EDGEKEEPER_BATCH_CONCURRENCY: '2', EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '20' },
    });
    // 20 % of 5 tolerates one failure: the first wave (b1 fails, b2 joins) is within it, the second is not
    expect(started.sort()).toEqual(['edge-b1', 'edge-b2', 'edge-b3', 'edge-b4', 'edge-b5']);
    const output = result.output as { results: { status: string }[]; totals: unknown; budget: unknown };
    expect(output.results.map((node) => node.status)).toEqual(['failed', 'joined', 'joined', 'joined', 'joined']);

    const over = await batch(requests, {
      behaviour: { invalid: ['edge-b1', 'edge-b2'] },
      env: { EDGEKEEPER_BATCH_CONCURRENCY: '2', EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '20' },
      executionName: 'batch-2',
    });
    // two failures in the first wave pass the budget: b3, b4 and b5 never start
    expect(over.started.sort()).toEqual(['edge-b1', 'edge-b2']);
    const overOutput = over.result.output as { results: unknown[]; totals: unknown; budget: unknown };
    expect(overOutput.totals).toEqual({ requested: 5, joined: 0, failed: 2, skipped: 3 });
    expect(overOutput.budget).toEqual({
      toleratedFailurePercent: 20,
      toleratedFailures: 1,
      failedChildren: 2,
      exceeded: true,
    });
    expect(overOutput.results[2]).toEqual({
      index: 2,
      nodeName: 'edge-b3',
      status: 'skipped',
      operationId: 'onboard-node:batch-2-2',
      error: {
        name: 'FailureBudgetExceeded',
        message: 'not started: 2 of the started requests failed, more than the 20 % of 5 the batch tolerates (1)',
      },
    });
  });

  it('lets a running child finish when another child of its wave fails', async () => {
    const { result, started } = await batch([request(1), request(2), request(3)], {
      behaviour: { invalid: ['edge-b1'] },
      env: { EDGEKEEPER_BATCH_CONCURRENCY: '2', EDGEKEEPER_BATCH_TOLERATED_FAILURE_PERCENT: '0' },
    });
    expect(started.sort()).toEqual(['edge-b1', 'edge-b2']);
    const output = result.output as { results: { status: string }[] };
    expect(output.results.map((node) => node.status)).toEqual(['failed', 'joined', 'skipped']);
  });

  it('fails a malformed request without starting it, and runs the others; it costs the budget nothing', async () => {
    const { result, started } = await batch([request(1), request(2, { nodeIp: '10.30.0.300' }), request(3)]);
    expect(started.sort()).toEqual(['edge-b1', 'edge-b3']);
    const output = result.output as { results: unknown[]; totals: unknown; budget: { exceeded: boolean } };
    expect(output.results[1]).toEqual({
      index: 1,
      nodeName: 'edge-b2',
      status: 'failed',
      operationId: 'onboard-node:batch-1-1',
      error: {
        name: 'InvalidRequestError',
        message: 'nodeIp 10.30.0.300 must be an IPv4 address: every part must be 0-255',
      },
    });
    expect(output.totals).toEqual({ requested: 3, joined: 2, failed: 1, skipped: 0 });
    expect(output.budget.exceeded).toBe(false);
  });

  it('refuses the whole batch before anything starts when requests collide, naming each collision', async () => {
    const { result, started } = await batch([
      request(1),
      request(2, { nodeName: 'edge-b1' }),
      request(3, { instanceId: INSTANCE(1) }),
      request(4, { nodeIp: '10.30.0.3' }),
    ]);
    expect(started).toEqual([]);
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({
      name: 'BatchCollisionError',
      message:
        'nodeName edge-b1 is in requests 0 and 1; nodeIp 10.30.0.3 is in requests 2 and 3; instanceId mi-0ed9e000000000001 is in requests 0 and 2',
    });
    expect(children(result.events)).toEqual([]);
  });

  it('once stopped, stops the running child at its next step and starts no other', async () => {
    const stop = new AbortController();
    const result = await runWorkflow({
      workflow: 'batch-onboard',
      input: { requests: [request(1), request(2), request(3)] },
      executionName: 'batch-stop',
      waits: 'compressed',
      compressedWaitMs: 1,
      handlers: asHandlers(childStubs({}, [])),
      environment: { EDGEKEEPER_LOCAL_LOG: 'off', EDGEKEEPER_BATCH_CONCURRENCY: '1' },
      signal: stop.signal,
      hooks: {
        beforeTask: ({ state }) => {
          if (state === 'Lock the node') stop.abort('SIGINT');
        },
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as { results: { status: string; error?: { name: string } }[] };
    expect(output.results.map((node) => [node.status, node.error?.name])).toEqual([
      ['failed', 'ExecutionStopped'],
      ['skipped', 'ExecutionStopped'],
      ['skipped', 'ExecutionStopped'],
    ]);
    expect(children(result.events)).toEqual(['batch-stop-0']);
  });

  it('starts nothing twice: a rerun of the batch, or a request whose id already ran in another batch', async () => {
    const executionsDir = mkdtempSync(join(tmpdir(), 'edgekeeper-batch-rerun-'));
    try {
      const requests = [request(1, { id: 'evt-1' }), request(2)];
      const first = await batch(requests, { executionsDir });
      const again = await batch(requests, { executionsDir });
      expect(first.started.sort()).toEqual(['edge-b1', 'edge-b2']);
      expect(again.started).toEqual([]);
      expect(again.result.output).toEqual(first.result.output);
      // another batch carrying the same event: its child is the execution evt-1 already ran (locally replayed)
      const other = await batch([request(1, { id: 'evt-1' }), request(3)], { executionsDir, executionName: 'batch-2' });
      expect(other.started).toEqual(['edge-b3']);
      expect(other.result.output).toMatchObject({ totals: { requested: 2, joined: 2, failed: 0, skipped: 0 } });
    } finally {
      rmSync(executionsDir, { recursive: true, force: true });
    }
  });
});
