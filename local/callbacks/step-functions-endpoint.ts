import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackError, type TaskTokenRegistry } from './task-tokens';

/**
 * The callback half of Step Functions' API on 127.0.0.1, for the local runtime: SendTaskSuccess, SendTaskFailure and
 * SendTaskHeartbeat in the AWS JSON 1.0 protocol (`X-Amz-Target: AWSStepFunctions.<operation>`), so the handlers'
 * real `@aws-sdk/client-sfn` calls reach the runtime's task tokens. Signatures are not checked: loopback only.
 */
export interface StepFunctionsEndpoint {
  /** `http://127.0.0.1:<port>`: what `new SFNClient({ endpoint })` takes */
  readonly url: string;
  stop(): Promise<void>;
}

type Operation = (body: Record<string, unknown>) => void;

function text(body: Record<string, unknown>, field: string, required: boolean): string {
  const value = body[field];
  if (value === undefined && !required) return '';
  if (typeof value !== 'string' || (required && value.length === 0)) {
    throw new ValidationError(`1 validation error detected: Value at '${field}' failed to satisfy constraint`);
  }
  return value;
}

class ValidationError extends Error {}

/** Listens on `port` (0: any free one). */
export async function startStepFunctionsEndpoint(tokens: TaskTokenRegistry, port = 0): Promise<StepFunctionsEndpoint> {
  const operations: Record<string, Operation> = {
    SendTaskSuccess: (body) => tokens.succeed(text(body, 'taskToken', true), text(body, 'output', true)),
    SendTaskFailure: (body) =>
      tokens.fail(text(body, 'taskToken', true), text(body, 'error', false), text(body, 'cause', false)),
    SendTaskHeartbeat: (body) => tokens.heartbeat(text(body, 'taskToken', true)),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        // no kept-alive sockets: the endpoint stops when idle, and a client's pooled socket to it would then fail
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': randomUUID(),
          connection: 'close',
        });
        res.end(JSON.stringify(payload));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSStepFunctions.')
        ? operations[target.slice('AWSStepFunctions.'.length)]
        : undefined;
      if (req.method !== 'POST' || !operation) {
        reply(400, { __type: 'UnknownOperationException', message: `the local runtime does not serve ${target}` });
        return;
      }
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof parsed !== 'object' || parsed === null) throw new ValidationError('the body is not a JSON object');
        operation(parsed as Record<string, unknown>);
        reply(200, {});
      } catch (error) {
        if (error instanceof CallbackError) reply(400, { __type: error.type, message: error.message });
        else if (error instanceof ValidationError || error instanceof SyntaxError) {
          reply(400, { __type: 'ValidationException', message: error.message });
        } else reply(500, { __type: 'InternalFailure', message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // never what keeps a process alive: the waits that use it hold their own timers
  server.unref();
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
