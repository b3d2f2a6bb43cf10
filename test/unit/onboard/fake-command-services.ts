import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * One local HTTP server speaking the three JSON protocols event-driven completion uses (no SDK mocks): SSM's
 * GetCommandInvocation, DynamoDB's PutItem / DeleteItem (ReturnValues ALL_OLD) on one table kept in memory, and
 * Step Functions' SendTaskSuccess, recorded. A test sets the invocation's status, what Step Functions answers,
 * and may fail any call by its target.
 */
export interface FakeCommandServices {
  readonly url: string;
  /** the items of the table, by key `id` */
  readonly items: Map<string, Record<string, { S?: string; N?: string }>>;
  /** the task successes Step Functions received, in order */
  readonly successes: { taskToken: string; output: string }[];
  /** every call, as its X-Amz-Target */
  readonly calls: string[];
  /** SSM's status of the invocation; null: SSM has not created it (InvocationDoesNotExist) */
  invocationStatus: string | null;
  /** an error name Step Functions answers SendTaskSuccess with, e.g. TaskTimedOut; null: it accepts */
  taskError: string | null;
  /** targets (e.g. `DynamoDB_20120810.PutItem`) answered with this error instead */
  failing: Map<string, { status: number; type: string; message?: string }>;
  /** runs after a call is answered, before the next is read: the test's hook to act between two calls */
  after: (target: string) => void;
  close(): Promise<void>;
}

export async function startFakeCommandServices(): Promise<FakeCommandServices> {
  const sockets = new Set<Socket>();
  const fake: Omit<FakeCommandServices, 'url' | 'close'> = {
    items: new Map(),
    successes: [],
    calls: [],
    invocationStatus: 'InProgress',
    taskError: null,
    failing: new Map(),
    after: () => undefined,
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const target = String(request.headers['x-amz-target']);
      fake.calls.push(target);
      const input = JSON.parse(body || '{}') as Record<string, never>;
      const answer = (status: number, payload: unknown, type?: string) => {
        response.writeHead(status, {
          'Content-Type': target.startsWith('AmazonSSM') ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
          ...(type ? { 'x-amzn-ErrorType': type } : {}),
        });
        response.end(JSON.stringify(payload));
        fake.after(target);
      };
      const error = (status: number, type: string, message = `${type} from the fake`) =>
        answer(status, { __type: type, message }, type);
      const failure = fake.failing.get(target);
      if (failure) return error(failure.status, failure.type, failure.message);
      switch (target) {
        case 'AmazonSSM.GetCommandInvocation':
          if (fake.invocationStatus === null) return error(400, 'InvocationDoesNotExist');
          return answer(200, { Status: fake.invocationStatus, ResponseCode: 0, StandardOutputContent: '' });
        case 'DynamoDB_20120810.PutItem': {
          const item = input.Item as Record<string, { S?: string }>;
          fake.items.set(item.id?.S ?? '', item);
          return answer(200, {});
        }
        case 'DynamoDB_20120810.DeleteItem': {
          const id = (input.Key as Record<string, { S?: string }>).id?.S ?? '';
          const old = fake.items.get(id);
          fake.items.delete(id);
          return answer(200, old ? { Attributes: old } : {});
        }
        case 'AWSStepFunctions.SendTaskSuccess':
          if (fake.taskError) return error(400, fake.taskError);
          fake.successes.push({ taskToken: input.taskToken, output: input.output });
          return answer(200, {});
        default:
          return error(400, 'UnknownOperationException');
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    url,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

/** The step environment of a local run against the fake: every endpoint on it, dummy region and credentials. */
export function fakeEnvironment(url: string, logFile: string): Record<string, string> {
  return {
    EDGEKEEPER_SSM_ENDPOINT: url,
    EDGEKEEPER_DYNAMODB_ENDPOINT: url,
    EDGEKEEPER_STEP_FUNCTIONS_ENDPOINT: url,
    EDGEKEEPER_COMMAND_WAITS_TABLE: 'edgekeeper-command-waits',
    EDGEKEEPER_REQUEST_TIMEOUT_SECONDS: '5',
    EDGEKEEPER_LOCAL_LOG: logFile,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret-for-tests',
  };
}
