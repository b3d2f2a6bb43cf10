import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransientServiceError } from '../../../functions/shared/errors';
import { type EndedOperation, LocalWorkflowEngine } from '../../../local/api-engine';
import { ExecutionRegistry } from '../../../local/executions';
import type { RunWorkflowOptions, WorkflowResult } from '../../../local/runtime';

/**
 * A stand-in for the runtime that keeps its contract with the engine: it claims and finishes the execution record
 * as runWorkflow does, reports events through onEvent, and ends when the test says, or on a stop request.
 */
function fakeRuntime() {
  const runs = new Map<
    string,
    { options: RunWorkflowOptions; end: (result: Omit<WorkflowResult, 'events'>) => void }
  >();
  const calls: string[] = [];
  const run = async (options: RunWorkflowOptions): Promise<WorkflowResult> => {
    const name = options.executionName as string;
    calls.push(name);
    const registry = new ExecutionRegistry(options.executionsDir as string);
    await registry.start({ name, arn: `arn:local:${name}`, workflow: options.workflow, input: options.input });
    const result = await new Promise<Omit<WorkflowResult, 'events'>>((resolve) => {
      runs.set(name, { options, end: resolve });
      options.signal?.addEventListener('abort', () =>
        resolve({
          status: 'ABORTED',
          output: null,
          error: { name: 'ExecutionStopped', message: `stopped on ${options.signal?.reason}` },
          stop: { reason: String(options.signal?.reason), mode: 'graceful', before: 'Lock the node', afterwards: [] },
        }),
      );
    });
    await registry.finish(name, { status: result.status, output: result.output, error: result.error });
    return { ...result, events: [] };
  };
  const event = (name: string, type: string, state: string, stateType: string, timestamp: number) =>
    runs.get(name)?.options.onEvent?.({ type, workflow: 'onboard-node', execution: name, state, stateType, timestamp });
  return { run, runs, calls, event };
}

const INPUT = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0ed9e000000000001' };
const T0 = Date.parse('2026-12-02T07:00:00.000Z');
/** Waits for what the engine does in the background (record writes), without guessing how long it takes. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5_000) throw new Error(`still not so after 5 s: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-api-engine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function engine(runtime: ReturnType<typeof fakeRuntime>, onEnded?: (ended: EndedOperation) => void) {
  return new LocalWorkflowEngine({
    executionsDir: dir,
    environment: {},
    waits: 'compressed',
    runWorkflow: runtime.run,
    ...(onEnded && { onEnded }),
  });
}

describe('the local WorkflowEngine of edgekeeper serve', () => {
  it('starts a name once: a retry finds it, another input under the name is told apart', async () => {
    const runtime = fakeRuntime();
    const local = engine(runtime);
    expect(await local.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT })).toEqual({
      operationId: 'onboard-node:op-1',
      existed: false,
      sameInput: true,
    });
    // the same request with its keys in another order is the same request
    const reordered = { instanceId: INPUT.instanceId, nodeIp: INPUT.nodeIp, nodeName: INPUT.nodeName };
    expect(await local.start({ workflow: 'onboard-node', name: 'op-1', input: reordered })).toMatchObject({
      existed: true,
      sameInput: true,
    });
    expect(
      await local.start({ workflow: 'onboard-node', name: 'op-1', input: { ...INPUT, nodeIp: '10.0.0.9' } }),
    ).toMatchObject({
      existed: true,
      sameInput: false,
    });
    expect(await local.start({ workflow: 'remove-node', name: 'op-1', input: INPUT })).toMatchObject({
      operationId: 'remove-node:op-1',
      existed: true,
      sameInput: false,
    });
    expect(runtime.calls).toEqual(['op-1']);
  });

  it("describes a running execution from the runtime's events: current step and Task timings, retries included", async () => {
    const runtime = fakeRuntime();
    const local = engine(runtime);
    await local.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT });
    await until(() => runtime.runs.has('op-1'));
    runtime.event('op-1', 'StateEntered', 'Validate the request', 'Task', T0);
    runtime.event('op-1', 'StateExited', 'Validate the request', 'Task', T0 + 1200);
    runtime.event('op-1', 'StateEntered', 'Already joined?', 'Choice', T0 + 1201);
    runtime.event('op-1', 'StateEntered', 'Lock the node', 'Task', T0 + 1300);
    runtime.event('op-1', 'StateFailed', 'Lock the node', 'Task', T0 + 1400);
    runtime.event('op-1', 'StateRetried', 'Lock the node', 'Task', T0 + 1500);
    // a child execution's states are its own, not this operation's steps
    runtime.event('op-1-rollback', 'StateEntered', 'Reset the host', 'Task', T0 + 1600);
    expect(await local.describe('onboard-node:op-1')).toMatchObject({
      status: 'RUNNING',
      node: 'edge-1',
      mode: null,
      currentStep: 'Lock the node',
      steps: [
        {
          step: 'Validate the request',
          startedAt: '2026-12-02T07:00:00.000Z',
          endedAt: '2026-12-02T07:00:01.200Z',
          durationMs: 1200,
          status: 'SUCCEEDED',
        },
        { step: 'Lock the node', endedAt: null, durationMs: null, status: 'RUNNING' },
      ],
      output: null,
      error: null,
    });
    runtime.event('op-1', 'StateExited', 'Lock the node', 'Task', T0 + 1800);
    runtime.runs.get('op-1')?.end({ status: 'SUCCEEDED', output: { nodeName: 'edge-1' }, error: null });
    await until(() => local.running().length === 0);
    expect(await local.describe('onboard-node:op-1')).toMatchObject({
      status: 'SUCCEEDED',
      currentStep: null,
      output: { nodeName: 'edge-1' },
      steps: [{ status: 'SUCCEEDED' }, { step: 'Lock the node', durationMs: 500, status: 'SUCCEEDED' }],
    });
    expect(await local.describe('remove-node:op-1')).toBeNull();
    expect(await local.describe('onboard-node:op-2')).toBeNull();
  });

  it("keeps the runtime's events of an execution it runs, its child's included, and describes it as the runtime does", async () => {
    const runtime = fakeRuntime();
    const local = engine(runtime);
    await local.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT });
    await until(() => runtime.runs.has('op-1'));
    runtime.event('op-1', 'StateEntered', 'Already joined?', 'Choice', T0);
    // a child `.sync` execution reports its events through its parent's run
    runtime.runs.get('op-1')?.options.onEvent?.({
      type: 'StateEntered',
      workflow: 'onboard-node',
      execution: 'op-1-rollback',
      state: 'Reset the host',
      stateType: 'Task',
      timestamp: T0 + 1,
    });
    runtime.runs.get('op-1')?.end({ status: 'SUCCEEDED', output: {}, error: null });
    await until(() => local.running().length === 0);

    expect(await local.events('onboard-node:op-1')).toEqual([
      {
        type: 'StateEntered',
        workflow: 'onboard-node',
        execution: 'op-1',
        state: 'Already joined?',
        stateType: 'Choice',
        timestamp: T0,
      },
      {
        type: 'StateEntered',
        workflow: 'onboard-node',
        execution: 'op-1-rollback',
        state: 'Reset the host',
        stateType: 'Task',
        timestamp: T0 + 1,
      },
    ]);
    // the ARN the runtime recorded, no resumption, and the record the CLI reads for the same sandbox
    expect(await local.describe('onboard-node:op-1')).toMatchObject({
      arn: 'arn:local:op-1',
      resumed: 0,
      record: join(dir, 'op-1.json'),
    });
    expect(await local.events('remove-node:op-1')).toBeNull();
    expect(await local.events('onboard-node:op-2')).toBeNull();
  });

  it("describes and lists executions it did not run from the registry: the CLI's, and another server's", async () => {
    const runtime = fakeRuntime();
    const first = engine(runtime);
    await first.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT });
    await first.start({ workflow: 'remove-node', name: 'op-2', input: { mode: 'uninstall', force: false } });
    await until(() => runtime.runs.size === 2);
    runtime.runs
      .get('op-1')
      ?.end({ status: 'FAILED', output: null, error: { name: 'HostOfflineError', message: 'mi-… is offline' } });
    runtime.runs.get('op-2')?.end({ status: 'SUCCEEDED', output: { deleted: [] }, error: null });
    await until(() => first.running().length === 0);

    const second = engine(fakeRuntime());
    expect(await second.describe('onboard-node:op-1')).toMatchObject({
      status: 'FAILED',
      steps: [],
      currentStep: null,
      error: { name: 'HostOfflineError', message: 'mi-… is offline' },
    });
    const all = await second.list({ limit: 10 });
    expect(all.map((op) => [op.operationId, op.status, op.node, op.mode]).sort()).toEqual([
      ['onboard-node:op-1', 'FAILED', 'edge-1', null],
      ['remove-node:op-2', 'SUCCEEDED', null, 'uninstall'],
    ]);
    expect((await second.list({ node: 'edge-1', limit: 10 })).map((op) => op.operationId)).toEqual([
      'onboard-node:op-1',
    ]);
    expect(await second.list({ limit: 1 })).toHaveLength(1);
    // a retry of a name that ended runs nothing and finds it
    expect(await second.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT })).toMatchObject({
      existed: true,
      sameInput: true,
    });
  });

  it('runs a batch and a drift check as it runs the others: their output, no node, no mode', async () => {
    const runtime = fakeRuntime();
    const local = engine(runtime);
    const totals = { requested: 1, joined: 1, failed: 0, skipped: 0 };
    await local.start({ workflow: 'batch-onboard', name: 'b1', input: { requests: [INPUT] } });
    await local.start({ workflow: 'drift-check', name: 'd1', input: { remediate: false } });
    await until(() => runtime.runs.size === 2);
    expect(runtime.runs.get('b1')?.options.workflow).toBe('batch-onboard');
    runtime.runs.get('b1')?.end({ status: 'SUCCEEDED', output: { totals }, error: null });
    runtime.runs.get('d1')?.end({ status: 'SUCCEEDED', output: { total: 0 }, error: null });
    await until(() => local.running().length === 0);

    expect(await local.describe('batch-onboard:b1')).toMatchObject({ node: null, mode: null, output: { totals } });
    const fromRecords = await engine(fakeRuntime()).list({ limit: 10 });
    expect(fromRecords.map((op) => [op.operationId, op.workflow, op.node, op.mode]).sort()).toEqual([
      ['batch-onboard:b1', 'batch-onboard', null, null],
      ['drift-check:d1', 'drift-check', null, null],
    ]);
  });

  it('continues an execution whose process died when the same request comes again, as the CLI does', async () => {
    const record = {
      name: 'op-1',
      arn: 'arn:local:op-1',
      workflow: 'onboard-node',
      status: 'RUNNING',
      // no process has this pid: the server that ran it was killed
      pid: 2 ** 22 + 1,
      startedAt: '2026-12-02T06:00:00.000Z',
      input: INPUT,
      resumed: 0,
    };
    writeFileSync(join(dir, 'op-1.json'), JSON.stringify(record));
    const runtime = fakeRuntime();
    const local = engine(runtime);
    expect(await local.describe('onboard-node:op-1')).toMatchObject({
      status: 'ABORTED',
      error: { name: 'ExecutionAbandoned' },
    });
    expect(await local.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT })).toMatchObject({
      existed: true,
      sameInput: true,
    });
    await until(() => runtime.runs.has('op-1'));
    expect(await local.describe('onboard-node:op-1')).toMatchObject({ status: 'RUNNING' });
    expect((await new ExecutionRegistry(dir).read('op-1'))?.resumed).toBe(1);
  });

  it('stops every running execution gracefully, reports how each ended, and refuses new starts', async () => {
    const runtime = fakeRuntime();
    const ended: EndedOperation[] = [];
    const local = engine(runtime, (operation) => ended.push(operation));
    await local.start({ workflow: 'onboard-node', name: 'op-1', input: INPUT });
    await until(() => runtime.runs.has('op-1'));
    expect(local.running()).toEqual(['onboard-node:op-1']);

    const stopped = await local.stop('SIGTERM');
    expect(stopped).toEqual([
      {
        operationId: 'onboard-node:op-1',
        status: 'ABORTED',
        error: { name: 'ExecutionStopped', message: 'stopped on SIGTERM' },
        stop: { reason: 'SIGTERM', mode: 'graceful', before: 'Lock the node', afterwards: [] },
      },
    ]);
    expect(ended.map((operation) => operation.status)).toEqual(['ABORTED']);
    expect(local.running()).toEqual([]);
    await expect(local.start({ workflow: 'onboard-node', name: 'op-3', input: INPUT })).rejects.toThrow(
      TransientServiceError,
    );
    expect((await new ExecutionRegistry(dir).read('op-1'))?.status).toBe('ABORTED');
  });
});
