import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { COMMAND_EVENT } from '../../../functions/resume-on-command-event/core';
import { isEventFor, openCallbacks } from '../../../local/callbacks';

/** The local runtime's subscription to a sandbox's command events, against an event stream that does not answer. */
describe('a callback subscription to an event stream that takes the connection and does not answer', () => {
  let stream: http.Server;
  let url: string;
  const pending: http.ServerResponse[] = [];
  beforeEach(async () => {
    stream = http.createServer((_req, res) => {
      pending.push(res);
    });
    await new Promise<void>((resolve) => stream.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stream.address() as AddressInfo).port}/command-events`;
  });
  afterEach(async () => {
    stream.closeAllConnections();
    await new Promise((resolve) => stream.close(resolve));
    pending.length = 0;
  });

  it('still lets the task wait (its timeout is the fallback), and delivers what the stream sends once it answers', async () => {
    const delivered: unknown[] = [];
    const lease = await openCallbacks({ url, wants: () => true, deliver: (event) => delivered.push(event) });
    try {
      // a second wait is not held behind the first one's subscription either
      const second = await openCallbacks();
      await second.release();

      expect(pending).toHaveLength(1);
      pending[0].writeHead(200, { 'content-type': 'application/x-ndjson' });
      pending[0].write('{"source":"aws.ssm"}\n');
      while (delivered.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(delivered).toEqual([{ source: 'aws.ssm' }]);
    } finally {
      await lease.release();
    }
  });
});

describe('the waits of one process subscribed to one event stream', () => {
  let stream: http.Server;
  let url: string;
  const subscribers: http.ServerResponse[] = [];
  beforeEach(async () => {
    stream = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.flushHeaders();
      subscribers.push(res);
    });
    await new Promise<void>((resolve) => stream.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stream.address() as AddressInfo).port}/command-events`;
  });
  afterEach(async () => {
    stream.closeAllConnections();
    await new Promise((resolve) => stream.close(resolve));
    subscribers.length = 0;
  });

  // SSM's status change, as the sandbox streams it (only the fields the delivery reads)
  const event = (commandId: string, instanceId: string) => ({
    source: COMMAND_EVENT.source,
    'detail-type': COMMAND_EVENT.detailType,
    detail: { 'command-id': commandId, 'instance-id': instanceId, status: 'Success' },
  });

  it('get only the events for their command and host, each once, by the newest of them', async () => {
    const delivered: string[] = [];
    const subscribe = (name: string, commandId: string, instanceId: string) =>
      openCallbacks({
        url,
        wants: (candidate) => isEventFor({ commandId, instanceId }, candidate),
        deliver: (candidate) =>
          delivered.push(`${name} ${(candidate as ReturnType<typeof event>).detail['command-id']}`),
      });
    const older = await subscribe('older', 'c-1', 'mi-1');
    const newer = await subscribe('newer', 'c-2', 'mi-2');
    const newest = await subscribe('newest', 'c-2', 'mi-2');
    try {
      // one subscription, one stream, for the process
      expect(subscribers).toHaveLength(1);
      for (const sent of [event('c-1', 'mi-1'), event('c-1', 'mi-2'), event('c-3', 'mi-3'), event('c-2', 'mi-2')]) {
        subscribers[0].write(`${JSON.stringify(sent)}\n`);
      }
      // the stream is read in order: a wrong delivery of the events before c-2's would already be here
      while (delivered.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(delivered).toEqual(['older c-1', 'newest c-2']);
    } finally {
      await newest.release();
      await newer.release();
      await older.release();
    }
  });
});
