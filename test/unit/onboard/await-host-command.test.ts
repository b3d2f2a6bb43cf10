import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awaitHostCommand } from '../../../functions/await-host-command/core';
import { handler } from '../../../functions/await-host-command/handler';
import type { CommandWait, CommandWaits } from '../../../functions/shared/command-waits';
import { runWithEnvironment } from '../../../functions/shared/settings';
import type { Delivery, TaskCallbacks } from '../../../functions/shared/task-callbacks';
import { type FakeCommandServices, fakeEnvironment, startFakeCommandServices } from './fake-command-services';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAdJ0tUbfhmyVUNvBv+secret-task-token';
const REQUEST = {
  operationId: 'onboard-edge-1-7f3a',
  commandId: 'c0ffee00-0000-4000-8000-000000000001',
  instanceId: 'mi-0123456789abcdef0',
  taskToken: TOKEN,
};
const NOW = new Date('2026-12-02T12:00:00.000Z');

/** Waits in memory, with the atomic take of the real store. */
function memoryWaits(): CommandWaits & { readonly stored: Map<string, CommandWait> } {
  const stored = new Map<string, CommandWait>();
  return {
    stored,
    async put(wait) {
      stored.set(`${wait.commandId}/${wait.instanceId}`, wait);
    },
    async take(commandId, instanceId) {
      const wait = stored.get(`${commandId}/${instanceId}`);
      stored.delete(`${commandId}/${instanceId}`);
      return wait?.taskToken ?? null;
    },
  };
}

function recordingCallbacks(answer: Delivery = 'delivered'): TaskCallbacks & { readonly sent: unknown[][] } {
  const sent: unknown[][] = [];
  return {
    sent,
    async succeed(taskToken, output) {
      sent.push([taskToken, output]);
      return answer;
    },
  };
}

/** Ports over memory, the invocation in `status` (null: SSM has not created it). */
function ports(status: string | null = 'InProgress') {
  return { waits: memoryWaits(), callbacks: recordingCallbacks(), readInvocationStatus: async () => status };
}

describe('awaitHostCommand', () => {
  it('stores the wait with its token and leaves a running command to its event', async () => {
    // Prepare
    const given = ports('InProgress');

    // Act
    const result = await awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 });

    // Assess
    expect(result).toEqual({
      commandId: REQUEST.commandId,
      instanceId: REQUEST.instanceId,
      status: 'InProgress',
      outcome: 'waiting',
    });
    expect([...given.waits.stored.values()]).toEqual([
      {
        commandId: REQUEST.commandId,
        instanceId: REQUEST.instanceId,
        taskToken: TOKEN,
        operationId: REQUEST.operationId,
        // the wait's 30 s and 5 minutes to spare
        expiresAt: new Date('2026-12-02T12:05:30.000Z'),
      },
    ]);
    expect(given.callbacks.sent).toEqual([]);
  });

  it('waits for a command SSM has not created yet', async () => {
    // Prepare
    const given = ports(null);

    // Act
    const result = await awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 });

    // Assess
    expect(result.outcome).toBe('waiting');
    expect(given.waits.stored.size).toBe(1);
  });

  it.each(['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable'])(
    'completes the task itself when the command already ended (%s) before the wait was stored',
    async (status) => {
      // Prepare: the command's event came first and found no wait
      const given = ports(status);

      // Act
      const result = await awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 });

      // Assess
      expect(result).toEqual({
        commandId: REQUEST.commandId,
        instanceId: REQUEST.instanceId,
        status,
        outcome: 'completed',
      });
      expect(given.callbacks.sent).toEqual([[TOKEN, { status }]]);
      expect(given.waits.stored.size).toBe(0);
    },
  );

  it('leaves the task to the event when the event took the wait first', async () => {
    // Prepare: the event arrives between storing the wait and reading the invocation
    const given = ports();
    const read = async () => {
      await given.waits.take(REQUEST.commandId, REQUEST.instanceId);
      return 'Success';
    };

    // Act
    const result = await awaitHostCommand({ ...given, readInvocationStatus: read }, REQUEST, {
      now: NOW,
      waitSeconds: 30,
    });

    // Assess: the task is completed once, by the event
    expect(result.outcome).toBe('resumed-by-event');
    expect(given.callbacks.sent).toEqual([]);
  });

  it('completes the task of an ended command even without a table of waits', async () => {
    // Prepare
    const given = ports('Success');

    // Act
    const result = await awaitHostCommand({ ...given, waits: null }, REQUEST, { now: NOW, waitSeconds: 30 });

    // Assess
    expect(result).toMatchObject({ outcome: 'completed', problem: 'NoWaitsTable' });
    expect(given.callbacks.sent).toEqual([[TOKEN, { status: 'Success' }]]);
  });

  it('falls back to polling, without failing, when no wait can be stored', async () => {
    // Prepare
    const given = ports('InProgress');
    given.waits.put = async () => {
      throw Object.assign(new Error('User is not authorized to perform dynamodb:PutItem'), {
        name: 'AccessDeniedException',
      });
    };

    // Act
    const result = await awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 });

    // Assess
    expect(result).toMatchObject({ outcome: 'fallback', problem: 'AccessDeniedException' });
  });

  it('falls back to polling, without failing, when the invocation cannot be read', async () => {
    // Prepare
    const given = ports();
    const unreadable = async (): Promise<string | null> => {
      throw Object.assign(new Error('SSM did not answer within 10 s'), { name: 'TransientServiceError' });
    };

    // Act
    const result = await awaitHostCommand({ ...given, readInvocationStatus: unreadable }, REQUEST, {
      now: NOW,
      waitSeconds: 30,
    });

    // Assess: the wait stays for the event
    expect(result).toMatchObject({ outcome: 'waiting', problem: 'TransientServiceError' });
    expect(given.waits.stored.size).toBe(1);
  });

  it('falls back to polling when the task it completes has already timed out', async () => {
    // Prepare
    const given = { ...ports('Success'), callbacks: recordingCallbacks('task-gone') };

    // Act
    const result = await awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 });

    // Assess
    expect(result.outcome).toBe('fallback');
  });

  it('never returns the token, whatever happens', async () => {
    // Prepare
    const failing = ports('Success');
    failing.callbacks.succeed = async () => {
      throw new Error(`Invalid Token: '${TOKEN}'`);
    };
    const cases = [ports('InProgress'), ports('Success'), failing];

    // Act
    const results = await Promise.all(
      cases.map((given) => awaitHostCommand(given, REQUEST, { now: NOW, waitSeconds: 30 })),
    );

    // Assess
    for (const result of results) expect(JSON.stringify(result)).not.toContain(TOKEN);
  });
});

describe('the AwaitHostCommand handler, against local SSM, DynamoDB and Step Functions', () => {
  let fake: FakeCommandServices;
  const logFile = join(tmpdir(), `await-host-command-${process.pid}.log`);
  const invoke = (event: unknown) => runWithEnvironment(fakeEnvironment(fake.url, logFile), () => handler(event));

  beforeEach(async () => {
    fake = await startFakeCommandServices();
    rmSync(logFile, { force: true });
  });

  afterEach(async () => {
    await fake.close();
    rmSync(logFile, { force: true });
  });

  it('stores the wait in the table and completes nothing while the command runs', async () => {
    // Prepare
    fake.invocationStatus = 'InProgress';

    // Act
    const result = await invoke(REQUEST);

    // Assess
    expect(result.outcome).toBe('waiting');
    expect(fake.calls).toEqual(['DynamoDB_20120810.PutItem', 'AmazonSSM.GetCommandInvocation']);
    expect(fake.items.get(`${REQUEST.commandId}/${REQUEST.instanceId}`)).toMatchObject({
      taskToken: { S: TOKEN },
      operationId: { S: REQUEST.operationId },
      expiresAt: { N: expect.stringMatching(/^\d+$/) },
    });
    expect(fake.successes).toEqual([]);
  });

  it('takes the wait and sends the task success itself when the command already ended', async () => {
    // Prepare
    fake.invocationStatus = 'Success';

    // Act
    const result = await invoke(REQUEST);

    // Assess
    expect(result.outcome).toBe('completed');
    expect(fake.successes).toEqual([{ taskToken: TOKEN, output: JSON.stringify({ status: 'Success' }) }]);
    expect(fake.items.size).toBe(0);
  });

  it('logs and returns no token, even when Step Functions echoes it in a refusal', async () => {
    // Prepare
    fake.invocationStatus = 'Failed';
    fake.failing.set('AWSStepFunctions.SendTaskSuccess', {
      status: 400,
      type: 'InvalidOutput',
      message: `output refused for ${TOKEN}`,
    });

    // Act
    const result = await invoke(REQUEST);

    // Assess
    expect(result.outcome).toBe('fallback');
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('host command awaited');
    expect(log).not.toContain(TOKEN);
  });
});
