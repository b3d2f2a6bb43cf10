import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EngineThrottledError } from '../../../functions/api/engine';
import { sfnStarter } from '../../../functions/inventory-starter/sfn-starter';
import {
  deadLetterClient,
  REASON_ATTRIBUTE,
  SOURCE_MESSAGE_ATTRIBUTE,
  sqsDeadLetters,
} from '../../../functions/inventory-starter/sqs-dead-letters';
import { TransientServiceError } from '../../../functions/shared/errors';
import { caught, thrown } from '../../support/thrown';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Edgekeeper-onboard-node';

describe('starting executions on Step Functions', () => {
  it('starts under the name, with the input in canonical JSON', async () => {
    // Prepare
    const sent: unknown[] = [];
    const starter = sfnStarter({ send: async (command) => sent.push(command.input) }, { 'onboard-node': ARN });

    // Act
    const outcome = await starter.start('onboard-node', 'inv-1', { nodeName: 'edge-a', nodeIp: '10.0.0.1' });

    // Assess
    expect(outcome).toEqual({ existed: false, sameInput: true });
    expect(sent).toEqual([{ stateMachineArn: ARN, name: 'inv-1', input: '{"nodeIp":"10.0.0.1","nodeName":"edge-a"}' }]);
  });

  it.each([
    ['{"nodeName":"edge-a"}', true],
    ['{"nodeName":"edge-b"}', false],
  ])('answers an existing name (input %s) by comparing its input: same %s', async (existing, same) => {
    // Prepare
    const starter = sfnStarter(
      {
        send: async (command) => {
          if (command instanceof StartExecutionCommand)
            throw Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' });
          if (command instanceof DescribeExecutionCommand) {
            expect(command.input.executionArn).toBe(`${ARN.replace(':stateMachine:', ':execution:')}:inv-1`);
            return { input: existing };
          }
          throw new Error('unexpected command');
        },
      },
      { 'onboard-node': ARN },
    );

    // Act
    const outcome = await starter.start('onboard-node', 'inv-1', { nodeName: 'edge-a' });

    // Assess
    expect(outcome).toEqual({ existed: true, sameInput: same });
  });

  it('retries an existing name that cannot be described yet, rather than dropping the event', async () => {
    // Prepare
    const starter = sfnStarter(
      {
        send: async (command) => {
          const name = command instanceof StartExecutionCommand ? 'ExecutionAlreadyExists' : 'ExecutionDoesNotExist';
          throw Object.assign(new Error(name), { name });
        },
      },
      { 'onboard-node': ARN },
    );

    // Act
    const error = await caught(starter.start('onboard-node', 'inv-1', {}));

    // Assess
    expect(error).toBeInstanceOf(TransientServiceError);
    expect(error.message).toBe('execution inv-1 exists but cannot be described yet: retry shortly');
  });

  it('refuses a workflow it has no state machine for', async () => {
    // Prepare
    const starter = sfnStarter({ send: async () => ({}) }, { 'onboard-node': ARN });

    // Act
    const error = await caught(starter.start('remove-node', 'inv-1', {}));

    // Assess
    expect(error.message).toBe('the inventory starter has no state machine for remove-node');
  });

  it('turns throttling into EngineThrottledError, which the starter retries', async () => {
    // Prepare
    const starter = sfnStarter(
      { send: async () => Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })) },
      { 'onboard-node': ARN },
    );

    // Act
    const error = await caught(starter.start('onboard-node', 'inv-1', {}));

    // Assess
    expect(error).toBeInstanceOf(EngineThrottledError);
  });
});

/**
 * The dead-letter queue through the real SQS client, against a local HTTP server speaking SQS's JSON protocol (no
 * SDK mocks): what goes on the wire, and what the starter sees when SQS throttles, refuses, fails or hangs.
 */
describe('the SQS dead-letter queue', () => {
  type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
  const SAVED_ENV = { ...process.env };
  const message = { messageId: 'm-1', body: '{"id":"evt-1"}', receiveCount: 1 };
  const requests: { target: string; authorization: string; body: string }[] = [];
  const sockets = new Set<Socket>();
  let server: Server;
  let origin: string;
  let handle: Handler;

  const deadLettersAt = (queueOrigin: string, timeoutSeconds = 5) => {
    const options = { queueUrl: `${queueOrigin}/123456789012/Edgekeeper-DeadLetters`, timeoutSeconds };
    return { queueUrl: options.queueUrl, deadLetters: sqsDeadLetters(deadLetterClient(options), options) };
  };
  const sqsError = (response: ServerResponse, status: number, type: string) => {
    response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-ErrorType': type });
    response.end(JSON.stringify({ __type: type, message: `${type} from the test server` }));
  };
  const accepted: Handler = (_request, response, body) => {
    const md5 = createHash('md5').update(JSON.parse(body).MessageBody).digest('hex');
    response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify({ MessageId: 'dlq-1', MD5OfMessageBody: md5 }));
  };

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
        const header = (name: string) => String(request.headers[name] ?? '');
        requests.push({ target: header('x-amz-target'), authorization: header('authorization'), body });
        handle(request, response, body);
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    requests.length = 0;
    for (const socket of sockets) socket.destroy();
  });

  afterAll(async () => {
    process.env = SAVED_ENV;
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the message body with its reason and source message id as attributes, signed for SQS', async () => {
    // Prepare
    handle = accepted;
    const { queueUrl, deadLetters } = deadLettersAt(origin);

    // Act
    await deadLetters.send(message, 'detail.nodeIp 1.2.3 must be an IPv4 address');

    // Assess
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('AmazonSQS.SendMessage');
    expect(requests[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sqs\/aws4_request/,
    );
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({
      QueueUrl: queueUrl,
      MessageBody: message.body,
      MessageAttributes: {
        [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'detail.nodeIp 1.2.3 must be an IPv4 address' },
        [SOURCE_MESSAGE_ATTRIBUTE]: { DataType: 'String', StringValue: 'm-1' },
      },
    });
  });

  it('cuts the reason to 1,000 characters', async () => {
    // Prepare
    handle = accepted;
    const { deadLetters } = deadLettersAt(origin);

    // Act
    await deadLetters.send(message, 'x'.repeat(5000));

    // Assess
    const sent = JSON.parse(requests[0]?.body ?? '');
    expect(sent.MessageAttributes[REASON_ATTRIBUTE].StringValue).toHaveLength(1000);
  });

  it.each([
    [400, 'RequestThrottled'],
    [400, 'KmsThrottled'],
    [500, 'InternalError'],
    [503, 'ServiceUnavailable'],
  ])('makes HTTP %i %s a TransientServiceError naming it, so the message comes back', async (status, type) => {
    // Prepare
    handle = (_request, response) => sqsError(response, status, type);
    const { deadLetters } = deadLettersAt(origin);

    // Act
    const error = await caught(deadLetters.send(message, 'reason'));

    // Assess
    expect(error).toBeInstanceOf(TransientServiceError);
    expect(error.message).toContain(`SQS ${type} (SendMessage to the dead-letter queue)`);
  });

  it.each([
    ['com.amazon.coral.service#AccessDeniedException', 'AccessDeniedException'],
    ['com.amazonaws.sqs#QueueDoesNotExist', 'QueueDoesNotExist'],
  ])('keeps a refusal (%s) permanent, naming what SQS answered', async (type, name) => {
    // Prepare
    handle = (_request, response) => sqsError(response, 400, type);
    const { deadLetters } = deadLettersAt(origin);

    // Act
    const error = await caught(deadLetters.send(message, 'reason'));

    // Assess
    expect(error).not.toBeInstanceOf(TransientServiceError);
    expect(error.name).toBe(name);
    expect(requests).toHaveLength(1);
  });

  it('fails a send to a frozen SQS as a TransientServiceError within the request timeout', async () => {
    // Prepare: the server reads the request and never answers
    handle = () => undefined;
    const { deadLetters } = deadLettersAt(origin, 0.5);
    const started = Date.now();

    // Act
    const error = await caught(deadLetters.send(message, 'reason'));

    // Assess
    expect(error).toBeInstanceOf(TransientServiceError);
    expect(error.message).toBe('SQS did not answer within 0.5 s (SendMessage to the dead-letter queue)');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('makes a refused connection a TransientServiceError', async () => {
    // Prepare: a port that was just free is very likely still closed
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { deadLetters } = deadLettersAt(`http://127.0.0.1:${port}`);

    // Act
    const error = await caught(deadLetters.send(message, 'reason'));

    // Assess
    expect(error).toBeInstanceOf(TransientServiceError);
    expect(error.message).toMatch(/^SQS could not be reached \(SendMessage to the dead-letter queue\): .*ECONNREFUSED/);
  });

  it('refuses a queue URL that is not a URL, naming the variable and the value', () => {
    // Act
    const error = thrown(() => deadLetterClient({ queueUrl: 'not a url', timeoutSeconds: 5 }));

    // Assess
    expect(error.message).toBe('EDGEKEEPER_INVENTORY_DLQ_URL "not a url" is not a URL');
  });
});
