import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepName } from '../../../functions/registry';
import { currentEnvironment } from '../../../functions/shared/settings';
import { EXECUTIONS_DIR_ENV } from '../../../local/executions';
import { runWorkflow, stopPoints, workflowStates } from '../../../local/runtime';

type Handler = (input: unknown) => Promise<unknown>;

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const input = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0123456789abcdef0' };

describe('the local runtime', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-runtime-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never runs an execution name twice: the second start returns the first result', async () => {
    let validations = 0;
    const handlers: Partial<Record<StepName, Handler>> = {
      ValidateOnboardRequest: async () => {
        validations += 1;
        throw new NamedError('InvalidRequestError', 'nodeName Bad: must be a DNS-1123 label');
      },
    };
    const run = () =>
      runWorkflow({ workflow: 'onboard-node', input, executionName: 'op-1', executionsDir: dir, handlers });
    const first = await run();
    const second = await run();
    expect(first.status).toBe('FAILED');
    expect(second).toMatchObject({
      status: 'FAILED',
      error: first.error,
      events: [],
      execution: { name: 'op-1', replayed: true },
    });
    expect(validations).toBe(1);
    const record = JSON.parse(readFileSync(join(dir, 'op-1.json'), 'utf8'));
    expect(record).toMatchObject({ status: 'FAILED', workflow: 'onboard-node', result: { error: first.error } });
  });

  it('tells the handlers where the execution registry is, without changing process.env', async () => {
    let seen: string | undefined;
    await runWorkflow({
      workflow: 'onboard-node',
      input,
      executionsDir: dir,
      handlers: {
        ValidateOnboardRequest: async () => {
          seen = currentEnvironment()[EXECUTIONS_DIR_ENV];
          throw new NamedError('InvalidRequestError', 'stop here');
        },
      },
    });
    expect(seen).toBe(dir);
    expect(process.env[EXECUTIONS_DIR_ENV]).toBeUndefined();
  });

  it('stops at the next step after a stop request, runs the failure path, and records ABORTED', async () => {
    const stop = new AbortController();
    const called: string[] = [];
    const step =
      (name: StepName, result: () => unknown): Handler =>
      async () => {
        called.push(name);
        return result();
      };
    const result = await runWorkflow({
      workflow: 'onboard-node',
      input,
      executionName: 'op-2',
      executionsDir: dir,
      signal: stop.signal,
      handlers: {
        ValidateOnboardRequest: async (event) => {
          called.push('ValidateOnboardRequest');
          stop.abort('SIGINT');
          return {
            request: { ...((event as { request: object }).request ?? input), taint: true, labels: {}, dryRun: false },
            alreadyJoined: false,
            join: { settings: {} },
          };
        },
        LockNode: step('LockNode', () => ({ lock: 'acquired' })),
        ReleaseNodeLock: step('ReleaseNodeLock', () => ({ lock: 'released' })),
      },
    });
    expect(called).not.toContain('LockNode');
    expect(result.status).toBe('ABORTED');
    expect(result.stop).toMatchObject({ reason: 'SIGINT', mode: 'graceful', before: 'Lock the node' });
    expect(result.error?.name).toBe('ExecutionStopped');
    const record = JSON.parse(readFileSync(join(dir, 'op-2.json'), 'utf8'));
    expect(record.status).toBe('ABORTED');
  });

  it('stops only on the forward path and never inside a polling loop, where work is in flight', () => {
    const definition = {
      StartAt: 'Lock',
      States: {
        Lock: { Type: 'Task', Resource: 'x', Next: 'Send', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Undo' }] },
        Send: { Type: 'Task', Resource: 'x', Next: 'Check' },
        Check: { Type: 'Task', Resource: 'x', Next: 'Done?' },
        'Done?': {
          Type: 'Choice',
          Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Finish' }],
          Default: 'Pause',
        },
        Pause: { Type: 'Wait', Seconds: 1, Next: 'Check' },
        Finish: { Type: 'Task', Resource: 'x', End: true },
        Undo: { Type: 'Task', Resource: 'x', End: true },
      },
    };
    const points = stopPoints(definition as unknown as Parameters<typeof stopPoints>[0]);
    expect([...points].sort()).toEqual(['Finish', 'Lock', 'Send']);
    // a loop that waits for a person (the manual join) is a stop point: nothing is in flight there
    const waiting = stopPoints(definition as unknown as Parameters<typeof stopPoints>[0], ['Check']);
    expect([...waiting].sort()).toEqual(['Check', 'Finish', 'Lock', 'Send']);
  });

  it('knows the manual join’s wait by the name the onboarding workflow gives it', () => {
    expect(workflowStates('onboard-node').map((s) => s.name)).toContain('Check the manual join');
  });

  it('lists every state of a workflow from its ASL, nested ones included', () => {
    const names = workflowStates('remove-node').map((s) => s.name);
    expect(names).toContain('Lock the node');
    expect(names).toContain('Remove the edge node');
    expect(new Set(names).size).toBe(names.length);
  });
});
