import { dynamodbCommandWaits } from '../../../functions/shared/command-waits';
import { readSettings, runWithEnvironment } from '../../../functions/shared/settings';
import { type FakeCommandServices, fakeEnvironment, startFakeCommandServices } from '../onboard/fake-command-services';

const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAdJ0tUbfhmyVUNvBv+secret-task-token';
const WAIT = {
  commandId: 'c0ffee00-0000-4000-8000-000000000001',
  instanceId: 'mi-0123456789abcdef0',
  taskToken: TOKEN,
  expiresAt: new Date('2026-12-02T12:05:30.000Z'),
  operationId: 'onboard-edge-1-7f3a',
};

describe('the DynamoDB store of command waits', () => {
  let fake: FakeCommandServices;
  const inEnvironment = <T>(fn: () => Promise<T>, requestSeconds = '5') =>
    runWithEnvironment({ ...fakeEnvironment(fake.url, 'off'), EDGEKEEPER_REQUEST_TIMEOUT_SECONDS: requestSeconds }, fn);
  const store = () => dynamodbCommandWaits(readSettings(), 'edgekeeper-command-waits');

  beforeEach(async () => {
    fake = await startFakeCommandServices();
  });

  afterEach(async () => {
    await fake.close();
  });

  it('keeps one wait per command and host, with its expiry in epoch seconds, and hands its token out once', async () => {
    // Act
    const taken = await inEnvironment(async () => {
      await store().put(WAIT);
      await store().put({ ...WAIT, taskToken: 'a-newer-token' });
      return [await store().take(WAIT.commandId, WAIT.instanceId), await store().take(WAIT.commandId, WAIT.instanceId)];
    });

    // Assess: the newer wait replaced the older one, and the second take finds nothing
    expect(taken).toEqual(['a-newer-token', null]);
    expect(fake.calls).toEqual([
      'DynamoDB_20120810.PutItem',
      'DynamoDB_20120810.PutItem',
      'DynamoDB_20120810.DeleteItem',
      'DynamoDB_20120810.DeleteItem',
    ]);
  });

  it('stores the expiry as the TTL attribute expiresAt', async () => {
    // Act
    await inEnvironment(() => store().put(WAIT));

    // Assess
    expect(fake.items.get(`${WAIT.commandId}/${WAIT.instanceId}`)).toEqual({
      id: { S: `${WAIT.commandId}/${WAIT.instanceId}` },
      taskToken: { S: TOKEN },
      expiresAt: { N: '1796213130' },
      operationId: { S: WAIT.operationId },
    });
  });

  it('fails a throttled call as a TransientServiceError, which the workflow retries', async () => {
    // Prepare
    fake.failing.set('DynamoDB_20120810.PutItem', { status: 400, type: 'ProvisionedThroughputExceededException' });

    // Act
    const error = await inEnvironment(() => store().put(WAIT), '1').then(
      () => new Error('expected a failure'),
      (failure: Error) => failure,
    );

    // Assess: named by the service (or by the request timeout, when the SDK's own retries outlast it)
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^DynamoDB /);
  });

  it('never quotes the token in an error, even when DynamoDB echoes it', async () => {
    // Prepare
    fake.failing.set('DynamoDB_20120810.PutItem', {
      status: 400,
      type: 'ValidationException',
      message: `Item size has exceeded the maximum allowed size: taskToken ${TOKEN}`,
    });

    // Act
    const error = await inEnvironment(() => store().put(WAIT)).then(
      () => new Error('expected a failure'),
      (failure: Error) => failure,
    );

    // Assess
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('Item size has exceeded the maximum allowed size: taskToken <redacted>');
    expect(error.stack).not.toContain(TOKEN);
  });
});
