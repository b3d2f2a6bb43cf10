import http from 'node:http';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { COMMAND_WAITS_TABLE } from '../../../local/sandbox/aws/dynamodb';
import { type AwsEndpoint, startAwsEndpoint } from '../../../local/sandbox/aws/endpoint';
import { FaultPlan } from '../../../local/sandbox/faults';

const TABLE = COMMAND_WAITS_TABLE.name;
const REQUESTED = new Date('2026-12-02T10:00:00.123Z');

let faults: FaultPlan;
let endpoint: AwsEndpoint;
let dynamodb: DynamoDBClient;
beforeEach(async () => {
  faults = new FaultPlan();
  endpoint = await startAwsEndpoint({ region: 'us-east-1', faults });
  dynamodb = new DynamoDBClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    maxAttempts: 1,
  });
});
afterEach(async () => {
  dynamodb.destroy();
  await endpoint.stop();
});

/** The real DynamoDB SDK client against the sandbox's stand-in. */
describe('the sandbox’s DynamoDB stand-in', () => {
  const wait = (token: string) => ({
    id: { S: 'c-1/mi-1' },
    taskToken: { S: token },
    expiresAt: { N: '1796220000' },
  });
  const key = { id: { S: 'c-1/mi-1' } };

  it('stores, reads and overwrites an item by its key', async () => {
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: wait('t-1') }));
    expect((await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key }))).Item).toEqual(wait('t-1'));

    const replaced = await dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: wait('t-2'), ReturnValues: 'ALL_OLD' }),
    );
    expect(replaced.Attributes).toEqual(wait('t-1'));
    expect((await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key }))).Item).toEqual(wait('t-2'));
    expect(
      await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'other' } } })),
    ).not.toHaveProperty('Item');
  });

  it('hands a deleted item to the first of two deletes only (ReturnValues ALL_OLD)', async () => {
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: wait('t-1') }));
    const take = () => dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: key, ReturnValues: 'ALL_OLD' }));

    const [first, second] = await Promise.all([take(), take()]);

    const attributes = [first.Attributes, second.Attributes].filter(Boolean);
    expect(attributes).toEqual([wait('t-1')]);
    expect(endpoint.tables.items(TABLE)).toEqual([]);
  });

  it('answers as DynamoDB does for a table it does not have and for a key that is not the table’s', async () => {
    await expect(dynamodb.send(new GetItemCommand({ TableName: 'no-such-table', Key: key }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { taskToken: { S: 't' } } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: { ...key, taskToken: { S: 't' } } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

/** Reads the event stream as the local runtime does: one JSON event per line. */
function subscribe(url: string): Promise<{ events: unknown[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const events: unknown[] = [];
    const request = http.get(url, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line) events.push(JSON.parse(line));
      });
      resolve({ events, close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
};

describe('the sandbox’s SSM command events', () => {
  const ended = (commandId: string, status = 'Success') => ({
    commandId,
    instanceId: 'mi-0ed9e000000000001',
    documentName: 'AWS-RunShellScript',
    requestedAt: REQUESTED,
    status,
  });

  it('sends EC2 Command Invocation Status-change Notification, in AWS’s shape, to every subscriber', async () => {
    const first = await subscribe(endpoint.commandEventsUrl);
    const second = await subscribe(endpoint.commandEventsUrl);

    endpoint.commandEvents.invocationEnded(ended('c-1', 'Failed'));
    await until(() => first.events.length > 0 && second.events.length > 0);
    first.close();
    second.close();

    expect(second.events).toEqual(first.events);
    expect(first.events).toEqual([
      {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        source: 'aws.ssm',
        account: '000000000000',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: 'us-east-1',
        resources: ['arn:aws:ssm:us-east-1:000000000000:managed-instance/mi-0ed9e000000000001'],
        detail: {
          'command-id': 'c-1',
          'document-name': 'AWS-RunShellScript',
          'instance-id': 'mi-0ed9e000000000001',
          'requested-date-time': '2026-12-02T10:00:00.123Z',
          status: 'Failed',
        },
      },
    ]);
  });

  it('drops or duplicates events when a fault hook says so, and records what it did', async () => {
    const stream = await subscribe(endpoint.commandEventsUrl);
    faults.interceptCommandEvents({ action: 'drop' });
    faults.interceptCommandEvents({ action: 'duplicate', commandId: 'c-3' });

    endpoint.commandEvents.invocationEnded(ended('c-1'));
    endpoint.commandEvents.invocationEnded(ended('c-2'));
    endpoint.commandEvents.invocationEnded(ended('c-3'));
    endpoint.commandEvents.invocationEnded(ended('c-4'));
    await until(() => stream.events.length >= 4);
    stream.close();

    const sent = stream.events as { id: string; detail: { 'command-id': string } }[];
    expect(sent.map((e) => e.detail['command-id'])).toEqual(['c-2', 'c-3', 'c-3', 'c-4']);
    // a duplicate is the same event, as EventBridge redelivers it
    expect(sent[1].id).toBe(sent[2].id);
    expect(faults.interceptedCommandEvents().map((e) => [e.action, e.commandId])).toEqual([
      ['drop', 'c-1'],
      ['duplicate', 'c-3'],
    ]);
  });
});
