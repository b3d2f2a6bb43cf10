import http from 'node:http';

/**
 * How long a wait holds off for the stream's answer: the sandbox answers at once, but one that took the connection and
 * never answers must not hold this wait, and every wait queued behind its subscription, forever.
 */
const OPEN_TIMEOUT_MS = 2_000;

/**
 * The local runtime's end of the sandbox's event stream (`GET <url>`: one EventBridge event per line, NDJSON): what
 * the EventBridge rule is when deployed. Connected only while a task waits for an event; a stream that breaks is
 * joined again after a moment, and events sent meanwhile are lost, as the workflow's timeout fallback allows.
 */
export class EventStream {
  private request?: http.ClientRequest;
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly deliver: (event: unknown) => void,
  ) {}

  /**
   * Resolves once the stream is open, or could not be opened, or has not answered within OPEN_TIMEOUT_MS (it goes on
   * opening): the task waits only after this, so only then does its timeout, the fallback, count.
   */
  open(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const late = setTimeout(resolve, OPEN_TIMEOUT_MS);
      late.unref();
      const request = http.get(this.url, { headers: { accept: 'application/x-ndjson' } }, (response) => {
        clearTimeout(late);
        resolve();
        if (response.statusCode !== 200) {
          response.resume();
          this.reopenLater();
          return;
        }
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let newline = buffer.indexOf('\n');
          while (newline >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (line) this.parse(line);
            newline = buffer.indexOf('\n');
          }
        });
        response.on('end', () => this.reopenLater());
        response.on('error', () => this.reopenLater());
      });
      request.on('error', () => {
        clearTimeout(late);
        resolve();
        this.reopenLater();
      });
      this.request = request;
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.request?.destroy();
  }

  private parse(line: string): void {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    this.deliver(event);
  }

  private reopenLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.open();
    }, 200);
    this.retry.unref();
  }
}
