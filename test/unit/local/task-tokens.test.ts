import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { openCallbacks, TaskTokenRegistry, taskTokens } from '../../../local/callbacks';
import {
  type StepFunctionsEndpoint,
  startStepFunctionsEndpoint,
} from '../../../local/callbacks/step-functions-endpoint';

function sfn(endpoint: string): SFNClient {
  return new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** The local runtime's task tokens, reached as the handlers reach them: the real Step Functions SDK client. */
describe('the local runtime’s task tokens and Step Functions callback endpoint', () => {
  let tokens: TaskTokenRegistry;
  let endpoint: StepFunctionsEndpoint;
  let client: SFNClient;
  beforeEach(async () => {
    tokens = new TaskTokenRegistry();
    endpoint = await startStepFunctionsEndpoint(tokens);
    client = sfn(endpoint.url);
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.stop();
  });

  const succeed = (taskToken: string, output = '{"status":"Success"}') =>
    client.send(new SendTaskSuccessCommand({ taskToken, output }));

  it('gives every task a fresh token and ends the task with SendTaskSuccess’s output', async () => {
    const first = tokens.issue();
    const second = tokens.issue();
    expect(first.token).not.toBe(second.token);
    expect(tokens.open).toBe(2);

    await succeed(first.token);

    await expect(first.result).resolves.toEqual({ status: 'Success' });
    expect(tokens.open).toBe(1);
    second.close();
    expect(tokens.open).toBe(0);
  });

  it('fails the task with SendTaskFailure’s error and cause', async () => {
    const wait = tokens.issue();
    await client.send(new SendTaskFailureCommand({ taskToken: wait.token, error: 'HostGone', cause: 'no agent' }));
    await expect(wait.result).rejects.toMatchObject({ name: 'HostGone', message: 'no agent' });
  });

  it('answers a second callback, or one after the wait ended, with TaskTimedOut, as Step Functions does', async () => {
    const answered = tokens.issue();
    await succeed(answered.token);
    await expect(succeed(answered.token)).rejects.toMatchObject({ name: 'TaskTimedOut' });

    const timedOut = tokens.issue();
    timedOut.close();
    await expect(succeed(timedOut.token)).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: timedOut.token }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it('tells a malformed token from one it never issued, and refuses output that is not JSON', async () => {
    await expect(succeed('not-a-token')).rejects.toMatchObject({ name: 'InvalidToken' });
    const foreign = `edgekeeper-local-${'A'.repeat(43)}`;
    await expect(succeed(foreign)).rejects.toMatchObject({ name: 'TaskDoesNotExist' });

    const wait = tokens.issue();
    await expect(succeed(wait.token, '{not json')).rejects.toMatchObject({ name: 'InvalidOutput' });
    // the task still waits: a heartbeat is accepted and a valid output still ends it
    await client.send(new SendTaskHeartbeatCommand({ taskToken: wait.token }));
    await succeed(wait.token, '{}');
    await expect(wait.result).resolves.toEqual({});
  });
});

describe('the shared callback endpoint of the process', () => {
  it('runs only while a task waits, and comes back on the same port for the next one', async () => {
    const lease = await openCallbacks();
    const wait = taskTokens.issue();
    const client = sfn(lease.endpoint);
    try {
      await client.send(new SendTaskSuccessCommand({ taskToken: wait.token, output: '{"status":"Failed"}' }));
      await expect(wait.result).resolves.toEqual({ status: 'Failed' });
    } finally {
      await lease.release();
    }
    // idle: nothing listens, so a process with nothing else to do can exit
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: wait.token }))).rejects.toThrow(/ECONNREFUSED/);

    const next = await openCallbacks();
    try {
      expect(next.endpoint).toBe(lease.endpoint);
      // the same client, as a handler's cached one: it reaches the endpoint again
      await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: wait.token }))).rejects.toMatchObject({
        name: 'TaskTimedOut',
      });
    } finally {
      client.destroy();
      await next.release();
    }
  });
});
