import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HostUnreachableError } from '../../../functions/shared/host-commands';
import { readSettings, type Settings } from '../../../functions/shared/settings';
import { describeInstance, readInvocation, sendShellCommand } from '../../../functions/shared/ssm';

/**
 * The SSM adapter against a real local HTTP server speaking SSM's JSON protocol (no SDK mocks): what the workflow
 * sees when SSM throttles, fails, refuses connections or stops answering.
 */
type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

const SAVED_ENV = { ...process.env };
let server: Server;
let url: string;
let handle: Handler;
const sockets = new Set<Socket>();
const calls: string[] = [];

function settingsFor(endpoint: string, requestTimeoutSeconds: number): Settings {
  return { ...readSettings({ EDGEKEEPER_SSM_ENDPOINT: endpoint }), requestTimeoutSeconds } as Settings;
}

function awsError(response: ServerResponse, status: number, type: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type, ...headers });
  response.end(JSON.stringify({ __type: type, message: `${type} from the test server` }));
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret-for-tests',
  });
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      calls.push(String(request.headers['x-amz-target']));
      handle(request, response, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  calls.length = 0;
  for (const socket of sockets) socket.destroy();
});

afterAll(async () => {
  process.env = SAVED_ENV;
  await new Promise((resolve) => server.close(resolve));
});

describe('the SSM adapter', () => {
  it('answers what SSM says when it works', async () => {
    // Prepare
    handle = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ InstanceInformationList: [{ PingStatus: 'Online', PlatformType: 'Linux' }] }));
    };

    // Act
    const instance = await describeInstance(settingsFor(url, 5), 'mi-0123456789abcdef0');

    // Assess
    expect(instance).toEqual({ pingStatus: 'Online', platformType: 'Linux' });
    expect(calls).toEqual(['AmazonSSM.DescribeInstanceInformation']);
  });

  it('fails a call to a frozen SSM as a TransientServiceError within the request timeout', async () => {
    // Prepare: the server reads the request and never answers
    handle = () => undefined;

    // Act
    const error = await failureOf(describeInstance(settingsFor(url, 0.5), 'mi-0123456789abcdef0'));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toBe('SSM did not answer within 0.5 s (mi-0123456789abcdef0)');
  });

  it('makes a refused connection a TransientServiceError', async () => {
    // Prepare: a port that was just free is very likely still closed
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    // Act
    const error = await failureOf(describeInstance(settingsFor(`http://127.0.0.1:${port}`, 5), 'mi-0123456789abcdef0'));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^SSM could not be reached \(mi-0123456789abcdef0\): .*ECONNREFUSED/);
  });

  it('makes a connection reset mid-request a TransientServiceError', async () => {
    // Prepare
    handle = (request) => request.socket.destroy();

    // Act
    const error = await failureOf(describeInstance(settingsFor(url, 5), 'mi-0123456789abcdef0'));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^SSM could not be reached/);
  });

  it.each([
    [400, 'ThrottlingException'],
    [500, 'InternalServerError'],
    [503, 'ServiceUnavailable'],
  ])('makes HTTP %i %s a TransientServiceError naming it', async (status, type) => {
    // Prepare
    handle = (_request, response) => awsError(response, status, type);

    // Act
    const error = await failureOf(describeInstance(settingsFor(url, 5), 'mi-0123456789abcdef0'));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toContain(`SSM ${type} (mi-0123456789abcdef0)`);
  });

  it("makes HTTP 429 a TransientServiceError carrying the server's Retry-After", async () => {
    // Prepare
    handle = (_request, response) => awsError(response, 429, 'ThrottlingException', { 'Retry-After': '1' });

    // Act
    const error = await failureOf(describeInstance(settingsFor(url, 5), 'mi-0123456789abcdef0'));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/; the server asks to retry after 1 s$/);
  });

  it('keeps a host SSM does not know permanent: HostUnreachableError', async () => {
    // Prepare
    handle = (_request, response) => awsError(response, 400, 'InvalidInstanceId');

    // Act
    const error = await failureOf(
      sendShellCommand(settingsFor(url, 5), { instanceId: 'mi-0123456789abcdef0', commands: ['true'], comment: 'x' }),
    );

    // Assess
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect(error.message).toMatch(/^instanceId mi-0123456789abcdef0 cannot receive commands/);
  });

  it('reads an invocation SSM has not created yet as null', async () => {
    // Prepare
    handle = (_request, response) => awsError(response, 400, 'InvocationDoesNotExist');

    // Act
    const invocation = await readInvocation(settingsFor(url, 5), 'command-1', 'mi-0123456789abcdef0');

    // Assess
    expect(invocation).toBeNull();
  });
});
