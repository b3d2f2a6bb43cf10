import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAslFile } from '../../../lib/asl';
import { runWorkflow, UNSTATED_TASK_TIMEOUT_SECONDS, withTaskTimeouts } from '../../../local/runtime';

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const input = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0123456789abcdef0' };

describe('task time limits in the local runtime', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-task-timeouts-'));
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a step without TimeoutSeconds run past 60 s, as Step Functions does', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    let called = false;
    const running = runWorkflow({
      workflow: 'onboard-node',
      input,
      executionsDir: dir,
      handlers: {
        // a validation that takes 61 s, then refuses the request: its own error must reach the workflow
        ValidateOnboardRequest: () =>
          new Promise((_resolve, reject) => {
            called = true;
            setTimeout(() => reject(new NamedError('InvalidRequestError', 'refused after 61 s')), 61_000);
          }),
      },
    });
    while (!called) await new Promise((resolve) => setImmediate(resolve));
    await jest.advanceTimersByTimeAsync(61_000);
    const result = await running;
    expect(result.error).toEqual({ name: 'InvalidRequestError', message: 'refused after 61 s' });
  });

  it("gives the batch's child task no limit of its own, and keeps the limits a state states", () => {
    const batch = withTaskTimeouts(JSON.parse(readAslFile('batch-onboard').text));
    const states = JSON.stringify(batch);
    expect(states).toContain(`"TimeoutSeconds":${UNSTATED_TASK_TIMEOUT_SECONDS}`);
    const definition = withTaskTimeouts({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 30, Next: 'B' },
        B: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSecondsPath: '$.t', Next: 'C' },
        C: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true },
      },
    } as never) as unknown as { States: Record<string, { TimeoutSeconds?: number; TimeoutSecondsPath?: string }> };
    expect(definition.States.A.TimeoutSeconds).toBe(30);
    expect(definition.States.B).toEqual(expect.objectContaining({ TimeoutSecondsPath: '$.t' }));
    expect(definition.States.B.TimeoutSeconds).toBeUndefined();
    expect(definition.States.C.TimeoutSeconds).toBe(UNSTATED_TASK_TIMEOUT_SECONDS);
    // the longest delay Node's timers take: a longer one would fire at once
    expect(UNSTATED_TASK_TIMEOUT_SECONDS * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
