import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { EngineThrottledError } from '../../../functions/api/engine';
import { type SfnClient, sfnEngine, stepTimings } from '../../../functions/api/sfn-engine';
import { TransientServiceError } from '../../../functions/shared/errors';
import { caught } from '../../support/thrown';

const ONBOARD = 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-onboard-node';
const REMOVE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-remove-node';
const MACHINE_PREFIX = 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-';
const BATCH_ONBOARD = `${MACHINE_PREFIX}batch-onboard`;
const execution = (machine: string, name: string) => `${machine.replace(':stateMachine:', ':execution:')}:${name}`;
const TOKEN = `${'b'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl`;

function sdkError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

interface StoredExecution {
  readonly arn: string;
  readonly name: string;
  readonly machine: string;
  readonly input: string;
  status: string;
  readonly startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
}

/**
 * Step Functions as the engine sees it, behind `send`: executions by ARN, names unique per state machine, history
 * pages of `historyPageSize` events. Every call is recorded; `failNext` makes the next call of a command fail.
 */
class FakeSfn implements SfnClient {
  readonly calls: { command: string; input: Record<string, unknown> }[] = [];
  readonly executions = new Map<string, StoredExecution>();
  failures = new Map<string, Error>();
  historyPageSize = 1000;

  add(machine: string, name: string, input: unknown, extra: Partial<StoredExecution> = {}): StoredExecution {
    const stored: StoredExecution = {
      arn: execution(machine, name),
      name,
      machine,
      input: JSON.stringify(input),
      status: 'RUNNING',
      startDate: new Date(Date.parse('2026-12-02T08:00:00Z') + this.executions.size * 60_000),
      history: [],
      ...extra,
    };
    this.executions.set(stored.arn, stored);
    return stored;
  }

  count(command: string): number {
    return this.calls.filter((call) => call.command === command).length;
  }

  async send(command: Parameters<SfnClient['send']>[0]): Promise<unknown> {
    const name = command.constructor.name;
    this.calls.push({ command: name, input: { ...command.input } });
    const failure = this.failures.get(name);
    if (failure) {
      this.failures.delete(name);
      throw failure;
    }
    if (command instanceof StartExecutionCommand) {
      const { stateMachineArn = '', name: executionName = '', input = '{}' } = command.input;
      const arn = execution(stateMachineArn, executionName);
      if (this.executions.has(arn)) throw sdkError('ExecutionAlreadyExists');
      this.add(stateMachineArn, executionName, JSON.parse(input));
      return { executionArn: arn, startDate: new Date() };
    }
    if (command instanceof DescribeExecutionCommand) {
      const stored = this.executions.get(command.input.executionArn ?? '');
      if (!stored) throw sdkError('ExecutionDoesNotExist');
      const { arn, machine, history: _history, ...rest } = stored;
      return { executionArn: arn, stateMachineArn: machine, ...rest };
    }
    if (command instanceof GetExecutionHistoryCommand) {
      const stored = this.executions.get(command.input.executionArn ?? '');
      if (!stored) throw sdkError('ExecutionDoesNotExist');
      if (command.input.reverseOrder) {
        return { events: [...stored.history].reverse().slice(0, command.input.maxResults ?? 1000) };
      }
      const offset = Number(command.input.nextToken ?? 0);
      const end = offset + this.historyPageSize;
      return {
        events: stored.history.slice(offset, end),
        nextToken: end < stored.history.length ? String(end) : undefined,
      };
    }
    if (command instanceof ListExecutionsCommand) {
      const items = [...this.executions.values()]
        .filter((stored) => stored.machine === command.input.stateMachineArn)
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
      const offset = Number(command.input.nextToken ?? 0);
      const end = offset + (command.input.maxResults ?? 100);
      return {
        executions: items.slice(offset, end).map(({ arn, machine, name: itemName, status, startDate, stopDate }) => ({
          executionArn: arn,
          stateMachineArn: machine,
          name: itemName,
          status,
          startDate,
          stopDate,
        })),
        nextToken: end < items.length ? String(end) : undefined,
      };
    }
    throw new Error(`unexpected command ${name}`);
  }
}

function engineOn(sfn: FakeSfn, options: { maxHistoryPages?: number; maxListPages?: number } = {}) {
  const stateMachines = {
    'onboard-node': ONBOARD,
    'remove-node': REMOVE,
    'batch-onboard': BATCH_ONBOARD,
    'batch-remove': `${MACHINE_PREFIX}batch-remove`,
    'drift-check': `${MACHINE_PREFIX}drift-check`,
  };
  return sfnEngine(sfn, { stateMachines, ...options });
}

/** A history event `seconds` after 08:00:00, numbered in order. */
function events(...specs: [type: string, seconds: number, state?: string][]): HistoryEvent[] {
  return specs.map(([type, seconds, state], index) => ({
    id: index + 1,
    type: type as HistoryEvent['type'],
    timestamp: new Date(Date.parse('2026-12-02T08:00:00Z') + seconds * 1000),
    ...(type.endsWith('StateEntered') && { stateEnteredEventDetails: { name: state } }),
    ...(type.endsWith('StateExited') && { stateExitedEventDetails: { name: state } }),
  }));
}

const at = (seconds: number) => new Date(Date.parse('2026-12-02T08:00:00Z') + seconds * 1000).toISOString();

describe('sfnEngine.start', () => {
  it('starts the workflow’s state machine under the given name with the input as JSON', async () => {
    // Prepare
    const sfn = new FakeSfn();

    // Act
    const started = await engineOn(sfn).start({ workflow: 'remove-node', name: 'r1', input: { nodeName: 'edge-1' } });

    // Assess
    expect(started).toEqual({ operationId: 'remove-node:r1', existed: false, sameInput: true });
    expect(sfn.calls).toEqual([
      {
        command: 'StartExecutionCommand',
        input: { stateMachineArn: REMOVE, name: 'r1', input: '{"nodeName":"edge-1"}' },
      },
    ]);
  });

  it.each([
    ['the same input in another key order', { b: 2, a: 1 }, true],
    ['another input', { a: 1, b: 3 }, false],
  ])('finds an execution that already has the name and compares %s', async (_case, input, same) => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.add(ONBOARD, 'k1', { a: 1, b: 2 }, { status: 'SUCCEEDED' });

    // Act
    const started = await engineOn(sfn).start({ workflow: 'onboard-node', name: 'k1', input });

    // Assess
    expect(started).toEqual({ operationId: 'onboard-node:k1', existed: true, sameInput: same });
    expect(sfn.calls.map((call) => call.command)).toEqual(['StartExecutionCommand', 'DescribeExecutionCommand']);
  });

  it.each([
    ['throttled', sdkError('ThrottlingException'), EngineThrottledError],
    ['unavailable', sdkError('ServiceUnavailable', 503), TransientServiceError],
    ['unreachable', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), TransientServiceError],
  ])('says Step Functions is %s', async (_case, failure, kind) => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.failures.set('StartExecutionCommand', failure);

    // Act
    const error = await caught(engineOn(sfn).start({ workflow: 'onboard-node', name: 'k1', input: {} }));

    // Assess
    expect(error).toBeInstanceOf(kind);
  });

  it('lets any other refusal through as it is (the API answers 500)', async () => {
    // Prepare
    const sfn = new FakeSfn();
    const denied = sdkError('AccessDeniedException');
    sfn.failures.set('StartExecutionCommand', denied);

    // Act
    const error = await caught(engineOn(sfn).start({ workflow: 'onboard-node', name: 'k1', input: {} }));

    // Assess
    expect(error).toBe(denied);
  });
});

describe('sfnEngine.describe', () => {
  it('reports a running execution: its current step and the timings of the steps so far, never its input', async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.add(
      ONBOARD,
      'j1',
      { nodeName: 'edge-1', instanceId: 'mi-0ed9e000000000001' },
      {
        history: events(
          ['ExecutionStarted', 0],
          ['TaskStateEntered', 1, 'Validate the request'],
          ['LambdaFunctionScheduled', 1],
          ['LambdaFunctionSucceeded', 3],
          ['TaskStateExited', 3, 'Validate the request'],
          ['ChoiceStateEntered', 3, 'Already joined?'],
          ['ChoiceStateExited', 3, 'Already joined?'],
          ['TaskStateEntered', 4, 'Lock the node'],
          ['LambdaFunctionScheduled', 4],
        ),
      },
    );

    // Act
    const operation = await engineOn(sfn).describe('onboard-node:j1');

    // Assess
    expect(operation).toEqual({
      operationId: 'onboard-node:j1',
      workflow: 'onboard-node',
      arn: execution(ONBOARD, 'j1'),
      resumed: 0,
      status: 'RUNNING',
      node: 'edge-1',
      mode: null,
      startedAt: '2026-12-02T08:00:00.000Z',
      stoppedAt: null,
      currentStep: 'Lock the node',
      steps: [
        { step: 'Validate the request', startedAt: at(1), endedAt: at(3), durationMs: 2000, status: 'SUCCEEDED' },
        { step: 'Lock the node', startedAt: at(4), endedAt: null, durationMs: null, status: 'RUNNING' },
      ],
      output: null,
      error: null,
    });
    expect(JSON.stringify(operation)).not.toContain('mi-0ed9e000000000001');
    const history = sfn.calls.find((call) => call.command === 'GetExecutionHistoryCommand');
    expect(history?.input).toMatchObject({ includeExecutionData: false });
  });

  it('gives a failed execution’s error name and Lambda’s errorMessage, never its stack trace', async () => {
    // Prepare
    const sfn = new FakeSfn();
    const cause = JSON.stringify({
      errorType: 'NodeLockedError',
      errorMessage: 'node edge-1 is locked by execution onboard-7, which is still running',
      trace: ['NodeLockedError: node edge-1 …', '    at lockNode (/var/task/index.js:1:2)'],
    });
    sfn.add(
      REMOVE,
      'r1',
      { mode: 'remove', nodeName: 'edge-1' },
      {
        status: 'FAILED',
        stopDate: new Date('2026-12-02T08:01:00Z'),
        error: 'NodeLockedError',
        cause,
      },
    );

    // Act
    const operation = await engineOn(sfn).describe('remove-node:r1');

    // Assess
    expect(operation).toMatchObject({
      status: 'FAILED',
      mode: 'remove',
      currentStep: null,
      stoppedAt: '2026-12-02T08:01:00.000Z',
      error: {
        name: 'NodeLockedError',
        message: 'node edge-1 is locked by execution onboard-7, which is still running',
      },
    });
    expect(JSON.stringify(operation)).not.toContain('/var/task');
  });

  it('redacts join-token shapes from an output', async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.add(
      ONBOARD,
      'j1',
      { nodeName: 'edge-1' },
      {
        status: 'SUCCEEDED',
        output: JSON.stringify({ outcome: { detail: `ran keadm join --token=${TOKEN}` } }),
      },
    );

    // Act
    const operation = await engineOn(sfn).describe('onboard-node:j1');

    // Assess
    expect(operation?.output).toEqual({ outcome: { detail: 'ran keadm join --token=<redacted>' } });
  });

  it('follows a batch on its own state machine: its output (per-node results, totals), no node, no mode', async () => {
    // Prepare
    const sfn = new FakeSfn();
    const output = {
      workflow: 'onboard-node',
      totals: { requested: 1, joined: 1, failed: 0, skipped: 0 },
      results: [{ index: 0, nodeName: 'edge-7', status: 'joined', operationId: 'onboard-node:b1-0' }],
    };
    const engine = engineOn(sfn);
    await engine.start({ workflow: 'batch-onboard', name: 'b1', input: { requests: [{ nodeName: 'edge-7' }] } });
    const stored = sfn.executions.get(execution(BATCH_ONBOARD, 'b1'));
    if (stored) Object.assign(stored, { status: 'SUCCEEDED', output: JSON.stringify(output) });

    // Act
    const operation = await engine.describe('batch-onboard:b1');

    // Assess
    expect(sfn.calls[0]).toEqual({
      command: 'StartExecutionCommand',
      input: { stateMachineArn: BATCH_ONBOARD, name: 'b1', input: '{"requests":[{"nodeName":"edge-7"}]}' },
    });
    expect(operation).toMatchObject({
      operationId: 'batch-onboard:b1',
      workflow: 'batch-onboard',
      status: 'SUCCEEDED',
      node: null,
      mode: null,
      output,
    });
  });

  it('reads the history page by page up to its cap, and past it the current step from the newest events', async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.historyPageSize = 2;
    const history = events(
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, 'Validate the request'],
      ['TaskStateExited', 2, 'Validate the request'],
      ['TaskStateEntered', 3, 'Lock the node'],
      ['TaskStateExited', 4, 'Lock the node'],
      ['TaskStateEntered', 5, 'Resolve the join settings'],
    );
    sfn.add(ONBOARD, 'j1', { nodeName: 'edge-1' }, { history });

    // Act
    const all = await engineOn(sfn).describe('onboard-node:j1');
    const capped = await engineOn(sfn, { maxHistoryPages: 2 }).describe('onboard-node:j1');

    // Assess
    expect(all?.steps.map((step) => step.step)).toEqual([
      'Validate the request',
      'Lock the node',
      'Resolve the join settings',
    ]);
    expect(all?.currentStep).toBe('Resolve the join settings');
    expect(capped?.steps.map((step) => step.step)).toEqual(['Validate the request', 'Lock the node']);
    expect(capped?.currentStep).toBe('Resolve the join settings');
    expect(sfn.calls.filter((call) => call.command === 'GetExecutionHistoryCommand').map((call) => call.input)).toEqual(
      [
        ...[undefined, '2', '4'].map((nextToken) =>
          expect.objectContaining({ nextToken, includeExecutionData: false }),
        ),
        ...[undefined, '2'].map((nextToken) => expect.objectContaining({ nextToken, includeExecutionData: false })),
        expect.objectContaining({ reverseOrder: true, includeExecutionData: false }),
      ],
    );
  });

  it.each([
    ['an execution Step Functions does not know', 'onboard-node:nope'],
    ['an id of no workflow', 'drift-check:x'],
  ])('answers null for %s', async (_case, id) => {
    // Act
    const operation = await engineOn(new FakeSfn()).describe(id);

    // Assess
    expect(operation).toBeNull();
  });
});

describe('sfnEngine.events', () => {
  const ROLLBACK = `${MACHINE_PREFIX}rollback-node`;
  const time = (seconds: number) => new Date(Date.parse('2026-12-02T08:00:00Z') + seconds * 1000);
  const ms = (seconds: number) => time(seconds).getTime();

  it('maps the history, with its data, to the runtime’s events: states of every type, a retry, a catch, a child workflow', async () => {
    // Prepare
    const sfn = new FakeSfn();
    const input = { nodeName: 'edge-1' };
    const child = execution(ROLLBACK, 'j1-rollback');
    const failure = { error: 'JoinFailedError', cause: JSON.stringify({ errorMessage: 'keadm failed', trace: ['x'] }) };
    sfn.add(ONBOARD, 'j1', input, {
      status: 'FAILED',
      history: [
        {
          id: 1,
          type: 'ExecutionStarted',
          timestamp: time(0),
          executionStartedEventDetails: { input: '{"nodeName":"edge-1"}' },
        },
        {
          id: 2,
          type: 'TaskStateEntered',
          timestamp: time(1),
          stateEnteredEventDetails: { name: 'Join', input: '{"a":1}' },
        },
        { id: 3, type: 'LambdaFunctionScheduled', timestamp: time(1) },
        { id: 4, type: 'LambdaFunctionFailed', timestamp: time(2), lambdaFunctionFailedEventDetails: failure },
        { id: 5, type: 'LambdaFunctionScheduled', timestamp: time(3) },
        { id: 6, type: 'LambdaFunctionFailed', timestamp: time(4), lambdaFunctionFailedEventDetails: failure },
        {
          id: 7,
          type: 'PassStateEntered',
          timestamp: time(5),
          stateEnteredEventDetails: { name: 'Keep the error', input: '{}' },
        },
        {
          id: 8,
          type: 'PassStateExited',
          timestamp: time(5),
          stateExitedEventDetails: { name: 'Keep the error', output: '{"e":1}' },
        },
        {
          id: 9,
          type: 'TaskStateEntered',
          timestamp: time(6),
          stateEnteredEventDetails: { name: 'Roll back', input: '{}' },
        },
        {
          id: 10,
          type: 'TaskSubmitted',
          timestamp: time(6),
          taskSubmittedEventDetails: {
            resourceType: 'states',
            resource: 'startExecution.sync',
            output: JSON.stringify({ ExecutionArn: child }),
          },
        },
        { id: 11, type: 'TaskSucceeded', timestamp: time(9) },
        {
          id: 12,
          type: 'TaskStateExited',
          timestamp: time(9),
          stateExitedEventDetails: { name: 'Roll back', output: '{"r":1}' },
        },
        {
          id: 13,
          type: 'FailStateEntered',
          timestamp: time(10),
          stateEnteredEventDetails: { name: 'Failed', input: '{}' },
        },
        { id: 14, type: 'ExecutionFailed', timestamp: time(10), executionFailedEventDetails: failure },
      ],
    });
    sfn.add(
      ROLLBACK,
      'j1-rollback',
      {},
      {
        status: 'SUCCEEDED',
        history: [
          { id: 1, type: 'ExecutionStarted', timestamp: time(7), executionStartedEventDetails: { input: '{}' } },
          {
            id: 2,
            type: 'WaitStateEntered',
            timestamp: time(7),
            stateEnteredEventDetails: { name: 'Pause', input: '{}' },
          },
          {
            id: 3,
            type: 'WaitStateExited',
            timestamp: time(8),
            stateExitedEventDetails: { name: 'Pause', output: '{}' },
          },
          {
            id: 4,
            type: 'ExecutionSucceeded',
            timestamp: time(8),
            executionSucceededEventDetails: { output: '{"done":true}' },
          },
        ],
      },
    );

    // Act
    const log = await engineOn(sfn).events('onboard-node:j1');

    // Assess
    const on = { workflow: 'onboard-node', execution: 'j1' };
    const join = { ...on, state: 'Join', stateType: 'Task' };
    const error = { name: 'JoinFailedError', message: 'keadm failed' };
    const rollback = { workflow: 'rollback-node', execution: 'j1-rollback' };
    expect(log).toEqual([
      { type: 'ExecutionStarted', ...on, input, timestamp: ms(0) },
      { type: 'StateEntered', ...join, input: { a: 1 }, timestamp: ms(1) },
      { type: 'StateFailed', ...join, error, timestamp: ms(2) },
      { type: 'StateRetried', ...join, timestamp: ms(3) },
      { type: 'StateFailed', ...join, error, timestamp: ms(4) },
      { type: 'StateCaught', ...join, timestamp: ms(5) },
      { type: 'StateEntered', ...on, state: 'Keep the error', stateType: 'Pass', input: {}, timestamp: ms(5) },
      { type: 'StateExited', ...on, state: 'Keep the error', stateType: 'Pass', output: { e: 1 }, timestamp: ms(5) },
      { type: 'StateEntered', ...on, state: 'Roll back', stateType: 'Task', input: {}, timestamp: ms(6) },
      { type: 'ExecutionStarted', ...rollback, input: {}, timestamp: ms(7) },
      { type: 'StateEntered', ...rollback, state: 'Pause', stateType: 'Wait', input: {}, timestamp: ms(7) },
      { type: 'StateExited', ...rollback, state: 'Pause', stateType: 'Wait', output: {}, timestamp: ms(8) },
      { type: 'ExecutionSucceeded', ...rollback, output: { done: true }, timestamp: ms(8) },
      { type: 'StateExited', ...on, state: 'Roll back', stateType: 'Task', output: { r: 1 }, timestamp: ms(9) },
      { type: 'StateEntered', ...on, state: 'Failed', stateType: 'Fail', input: {}, timestamp: ms(10) },
      { type: 'ExecutionFailed', ...on, error, timestamp: ms(10) },
    ]);
    const reads = sfn.calls.filter((call) => call.command === 'GetExecutionHistoryCommand');
    expect(reads.map((call) => [call.input.executionArn, call.input.includeExecutionData])).toEqual([
      [execution(ONBOARD, 'j1'), true],
      [child, true],
    ]);
  });

  it('reads the history page by page up to its cap, and finds no log for an unknown operation', async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.historyPageSize = 2;
    const history = events(
      ['ExecutionStarted', 0],
      ['PassStateEntered', 1, 'A'],
      ['PassStateExited', 1, 'A'],
      ['PassStateEntered', 2, 'B'],
      ['PassStateExited', 2, 'B'],
      ['ExecutionSucceeded', 3],
    );
    sfn.add(ONBOARD, 'j2', {}, { status: 'SUCCEEDED', history });

    // Act
    const capped = await engineOn(sfn, { maxHistoryPages: 2 }).events('onboard-node:j2');
    const missing = await engineOn(sfn).events('onboard-node:nope');

    // Assess
    expect(capped?.map((event) => `${event.type} ${event.state ?? ''}`.trim())).toEqual([
      'ExecutionStarted',
      'StateEntered A',
      'StateExited A',
      'StateEntered B',
    ]);
    expect(missing).toBeNull();
  });
});

describe('sfnEngine.list', () => {
  it("lists a node's executions of both workflows, newest first, reading each input once", async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.add(ONBOARD, 'j1', { nodeName: 'edge-1' }, { status: 'SUCCEEDED' });
    sfn.add(ONBOARD, 'j2', { nodeName: 'edge-2' });
    sfn.add(REMOVE, 'r1', { mode: 'remove', nodeName: 'edge-1' });
    sfn.add(REMOVE, 'u1', { mode: 'uninstall' });
    const engine = engineOn(sfn);

    // Act
    const first = await engine.list({ node: 'edge-1', limit: 10 });
    const describes = sfn.count('DescribeExecutionCommand');
    const again = await engine.list({ node: 'edge-1', limit: 10 });

    // Assess
    expect(first).toEqual([
      {
        operationId: 'remove-node:r1',
        workflow: 'remove-node',
        status: 'RUNNING',
        node: 'edge-1',
        mode: 'remove',
        startedAt: '2026-12-02T08:02:00.000Z',
        stoppedAt: null,
      },
      {
        operationId: 'onboard-node:j1',
        workflow: 'onboard-node',
        status: 'SUCCEEDED',
        node: 'edge-1',
        mode: null,
        startedAt: '2026-12-02T08:00:00.000Z',
        stoppedAt: null,
      },
    ]);
    expect(describes).toBe(4);
    expect(again).toEqual(first);
    expect(sfn.count('DescribeExecutionCommand')).toBe(4);
  });

  it('stops at the limit and at the page cap', async () => {
    // Prepare
    const sfn = new FakeSfn();
    for (let index = 0; index < 250; index++) sfn.add(ONBOARD, `j${index}`, { nodeName: 'edge-1' });

    // Act
    const listed = await engineOn(sfn, { maxListPages: 2 }).list({ limit: 3 });

    // Assess
    expect(listed.map((operation) => operation.operationId)).toEqual([
      'onboard-node:j249',
      'onboard-node:j248',
      'onboard-node:j247',
    ]);
    expect(sfn.calls.filter((call) => call.input.stateMachineArn === ONBOARD).length).toBe(2);
    expect(sfn.count('DescribeExecutionCommand')).toBeLessThanOrEqual(5);
  });

  it('says when Step Functions throttles the listing', async () => {
    // Prepare
    const sfn = new FakeSfn();
    sfn.failures.set('ListExecutionsCommand', sdkError('ThrottlingException'));

    // Act
    const error = await caught(engineOn(sfn).list({ limit: 10 }));

    // Assess
    expect(error).toBeInstanceOf(EngineThrottledError);
  });
});

describe('stepTimings', () => {
  it('counts a step whose error was caught as failed, ending at the failure', () => {
    // Act
    const timeline = stepTimings(
      events(
        ['ExecutionStarted', 0],
        ['TaskStateEntered', 1, 'Lock the node'],
        ['LambdaFunctionScheduled', 1],
        ['LambdaFunctionFailed', 2],
        ['PassStateEntered', 2, 'Nothing to undo'],
        ['PassStateExited', 2, 'Nothing to undo'],
        ['FailStateEntered', 3, 'Fail'],
        ['ExecutionFailed', 3],
      ),
    );

    // Assess
    expect(timeline).toEqual({
      steps: [{ step: 'Lock the node', startedAt: at(1), endedAt: at(2), durationMs: 1000, status: 'FAILED' }],
      currentStep: null,
    });
  });

  it('counts a step that succeeded on a retry as succeeded, over all its attempts', () => {
    // Act
    const timeline = stepTimings(
      events(
        ['TaskStateEntered', 1, 'Check the node'],
        ['LambdaFunctionScheduled', 1],
        ['LambdaFunctionFailed', 2],
        ['LambdaFunctionScheduled', 4],
        ['LambdaFunctionSucceeded', 5],
        ['TaskStateExited', 5, 'Check the node'],
      ),
    );

    // Assess
    expect(timeline.steps).toEqual([
      { step: 'Check the node', startedAt: at(1), endedAt: at(5), durationMs: 4000, status: 'SUCCEEDED' },
    ]);
  });

  it('fails the step a failing execution ends in, and names a Wait state as the current step', () => {
    // Act
    const ended = stepTimings(
      events(['TaskStateEntered', 1, 'Run the join'], ['TaskSubmitted', 1], ['ExecutionTimedOut', 9]),
    );
    const waiting = stepTimings(
      events(
        ['TaskStateEntered', 1, 'Check the node'],
        ['TaskStateExited', 2, 'Check the node'],
        ['WaitStateEntered', 2, 'Wait for the node'],
      ),
    );

    // Assess
    expect(ended.steps).toEqual([
      { step: 'Run the join', startedAt: at(1), endedAt: at(9), durationMs: 8000, status: 'FAILED' },
    ]);
    expect(waiting.currentStep).toBe('Wait for the node');
  });
});
