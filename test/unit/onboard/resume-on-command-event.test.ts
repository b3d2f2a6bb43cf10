import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commandStatusChangeOf,
  type ResumePorts,
  resumeOnCommandEvent,
} from '../../../functions/resume-on-command-event/core';
import { handler } from '../../../functions/resume-on-command-event/handler';
import { runWithEnvironment } from '../../../functions/shared/settings';
import { type FakeCommandServices, fakeEnvironment, startFakeCommandServices } from './fake-command-services';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAdJ0tUbfhmyVUNvBv+secret-task-token';
const COMMAND_ID = 'c0ffee00-0000-4000-8000-000000000001';
const INSTANCE_ID = 'mi-0123456789abcdef0';

/** SSM's event as EventBridge delivers it (docs/events.md, from the AWS example). */
function commandEvent(status: string, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '4780e1b8-f56b-4de5-95f2-95db273d1602',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    source: 'aws.ssm',
    account: '123456789012',
    time: '2026-12-02T12:01:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:ssm:eu-west-1:123456789012:managed-instance/${INSTANCE_ID}`],
    detail: {
      'command-id': COMMAND_ID,
      'document-name': 'AWS-RunShellScript',
      'instance-id': INSTANCE_ID,
      'requested-date-time': '2026-12-02T12:00:00.049Z',
      status,
    },
    ...overrides,
  };
}

function ports(): ResumePorts & { readonly stored: Map<string, string>; readonly sent: unknown[][] } {
  const stored = new Map<string, string>([[`${COMMAND_ID}/${INSTANCE_ID}`, TOKEN]]);
  const sent: unknown[][] = [];
  return {
    stored,
    sent,
    waits: {
      async put(wait) {
        stored.set(`${wait.commandId}/${wait.instanceId}`, wait.taskToken);
      },
      async take(commandId, instanceId) {
        const token = stored.get(`${commandId}/${instanceId}`) ?? null;
        stored.delete(`${commandId}/${instanceId}`);
        return token;
      },
    },
    callbacks: {
      async succeed(taskToken, output) {
        sent.push([taskToken, output]);
        return 'delivered';
      },
    },
  };
}

describe('commandStatusChangeOf', () => {
  it("reads the command, host and status of SSM's event", () => {
    // Act
    const change = commandStatusChangeOf(commandEvent('Success'));

    // Assess
    expect(change).toEqual({ commandId: COMMAND_ID, instanceId: INSTANCE_ID, status: 'Success' });
  });

  it.each([
    ['another detail type', commandEvent('Success', { 'detail-type': 'EC2 Command Status-change Notification' })],
    ['another source', commandEvent('Success', { source: 'edgekeeper' })],
    ['no detail', commandEvent('Success', { detail: undefined })],
    [
      'a detail without the instance',
      commandEvent('Success', { detail: { 'command-id': COMMAND_ID, status: 'Success' } }),
    ],
    ['nothing', undefined],
  ])('reads nothing of %s', (_case, event) => {
    // Act
    const change = commandStatusChangeOf(event);

    // Assess
    expect(change).toBeNull();
  });
});

describe('resumeOnCommandEvent', () => {
  it('takes the wait and completes its task with the status when the command ended', async () => {
    // Prepare
    const given = ports();

    // Act
    const result = await resumeOnCommandEvent(given, commandEvent('Success'));

    // Assess
    expect(result).toEqual({ outcome: 'resumed', commandId: COMMAND_ID, instanceId: INSTANCE_ID, status: 'Success' });
    expect(given.sent).toEqual([[TOKEN, { status: 'Success' }]]);
    expect(given.stored.size).toBe(0);
  });

  it('completes the task once when the event comes twice', async () => {
    // Prepare
    const given = ports();

    // Act
    const first = await resumeOnCommandEvent(given, commandEvent('Failed'));
    const second = await resumeOnCommandEvent(given, commandEvent('Failed'));

    // Assess
    expect([first.outcome, second.outcome]).toEqual(['resumed', 'no-wait']);
    expect(given.sent).toEqual([[TOKEN, { status: 'Failed' }]]);
  });

  it.each(['Pending', 'InProgress', 'Delayed', 'Cancelling'])(
    'ignores %s: the command has not ended',
    async (status) => {
      // Prepare
      const given = ports();

      // Act
      const result = await resumeOnCommandEvent(given, commandEvent(status));

      // Assess
      expect(result.outcome).toBe('ignored');
      expect(given.sent).toEqual([]);
      expect(given.stored.size).toBe(1);
    },
  );

  it('does nothing for a command no workflow waits on', async () => {
    // Prepare
    const given = ports();
    given.stored.clear();

    // Act
    const result = await resumeOnCommandEvent(given, commandEvent('Success'));

    // Assess
    expect(result.outcome).toBe('no-wait');
    expect(given.sent).toEqual([]);
  });
});

describe('the ResumeOnCommandEvent handler, against local DynamoDB and Step Functions', () => {
  let fake: FakeCommandServices;
  const logFile = join(tmpdir(), `resume-on-command-event-${process.pid}.log`);
  const key = `${COMMAND_ID}/${INSTANCE_ID}`;
  const invoke = (event: unknown, requestSeconds = '5') =>
    runWithEnvironment(
      { ...fakeEnvironment(fake.url, logFile), EDGEKEEPER_REQUEST_TIMEOUT_SECONDS: requestSeconds },
      () => handler(event),
    );
  const storeWait = () =>
    fake.items.set(key, {
      id: { S: key },
      taskToken: { S: TOKEN },
      expiresAt: { N: '1796212800' },
      operationId: { S: 'op' },
    });

  beforeEach(async () => {
    fake = await startFakeCommandServices();
    rmSync(logFile, { force: true });
  });

  afterEach(async () => {
    await fake.close();
    rmSync(logFile, { force: true });
  });

  it('sends SendTaskSuccess with the status, and deletes the wait', async () => {
    // Prepare
    storeWait();

    // Act
    const result = await invoke(commandEvent('Success'));

    // Assess
    expect(result.outcome).toBe('resumed');
    expect(fake.successes).toEqual([{ taskToken: TOKEN, output: '{"status":"Success"}' }]);
    expect(fake.items.has(key)).toBe(false);
  });

  it('is a no-op the second time the same event comes', async () => {
    // Prepare
    storeWait();

    // Act
    const first = await invoke(commandEvent('Success'));
    const second = await invoke(commandEvent('Success'));

    // Assess
    expect([first.outcome, second.outcome]).toEqual(['resumed', 'no-wait']);
    expect(fake.successes).toHaveLength(1);
    expect(fake.calls.filter((call) => call === 'AWSStepFunctions.SendTaskSuccess')).toHaveLength(1);
  });

  it('calls nothing for a status that is not an end', async () => {
    // Prepare
    storeWait();

    // Act
    const result = await invoke(commandEvent('InProgress'));

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(fake.calls).toEqual([]);
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])(
    'ends normally when Step Functions answers %s: the wait already ended and the workflow polls',
    async (error) => {
      // Prepare
      storeWait();
      fake.taskError = error;

      // Act
      const result = await invoke(commandEvent('Success'));

      // Assess
      expect(result.outcome).toBe('task-gone');
      expect(fake.items.has(key)).toBe(false);
    },
  );

  it('fails as a TransientServiceError when Step Functions throttles, for EventBridge to retry', async () => {
    // Prepare
    storeWait();
    fake.failing.set('AWSStepFunctions.SendTaskSuccess', { status: 400, type: 'ThrottlingException' });

    // Act
    const error = await invoke(commandEvent('Success'), '1').then(
      () => new Error('expected a failure'),
      (failure: Error) => failure,
    );

    // Assess: named by the service (or by the request timeout, when the SDK's own retries outlast it)
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^Step Functions /);
  });

  it('puts no token in the error or the log when Step Functions quotes it in a refusal', async () => {
    // Prepare
    storeWait();
    fake.failing.set('AWSStepFunctions.SendTaskSuccess', {
      status: 400,
      type: 'InvalidOutput',
      message: `Invalid output for task ${TOKEN}`,
    });

    // Act
    const error = await invoke(commandEvent('Success')).then(
      () => new Error('expected a failure'),
      (failure: Error) => failure,
    );

    // Assess
    expect(error.name).toBe('InvalidOutput');
    expect(error.message).toBe('Invalid output for task <redacted>');
    expect(error.stack).not.toContain(TOKEN);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('Invalid output for task <redacted>');
    expect(log).not.toContain(TOKEN);
  });

  it('logs the outcome, and never the token', async () => {
    // Prepare
    storeWait();

    // Act
    const result = await invoke(commandEvent('Success'));

    // Assess
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('command event handled');
    expect(log).toContain(COMMAND_ID);
    expect(log).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });
});
