import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultPlan } from '../faults';
import { CommandEventStream } from './command-events';
import { DynamoDbError, DynamoDbTables } from './dynamodb';

/**
 * The sandbox's other AWS stand-ins on one HTTP server on 127.0.0.1: DynamoDB (AWS JSON 1.0,
 * `X-Amz-Target: DynamoDB_20120810.<operation>`) and the stream of SSM's command events (`GET /command-events`),
 * which EventBridge carries when deployed. Signatures are not checked: loopback callers only.
 */
export interface AwsEndpoint {
  /** `http://127.0.0.1:<port>`: what `new DynamoDBClient({ endpoint })` takes */
  readonly url: string;
  /** the event stream's URL */
  readonly commandEventsUrl: string;
  readonly tables: DynamoDbTables;
  readonly commandEvents: CommandEventStream;
  stop(): Promise<void>;
}

const DYNAMODB_TARGET = 'DynamoDB_20120810.';

export async function startAwsEndpoint(options: { region: string; faults?: FaultPlan }): Promise<AwsEndpoint> {
  const tables = new DynamoDbTables();
  const commandEvents = new CommandEventStream(options.region, options.faults);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/command-events') {
      commandEvents.subscribe(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.startsWith(DYNAMODB_TARGET)
          ? tables.operations[target.slice(DYNAMODB_TARGET.length)]
          : undefined;
        if (req.method !== 'POST' || !operation) {
          throw new DynamoDbError(
            'UnknownOperationException',
            `the sandbox does not implement ${target || req.method}`,
          );
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          throw new DynamoDbError('SerializationException', 'the request body is not JSON');
        }
        if (!body || typeof body !== 'object') throw new DynamoDbError('SerializationException', 'not a JSON object');
        reply(200, operation(body as Record<string, unknown>));
      } catch (error) {
        if (error instanceof DynamoDbError) {
          reply(400, { __type: `com.amazonaws.dynamodb.v20120810#${error.type}`, message: error.message });
        } else reply(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    commandEventsUrl: `${url}/command-events`,
    tables,
    commandEvents,
    stop: () =>
      new Promise<void>((resolve) => {
        commandEvents.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
