import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openCallbacks } from '../../../local/callbacks';

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
    const lease = await openCallbacks({ url, deliver: (event) => delivered.push(event) });
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
