import http from 'node:http';

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

  /** Resolves once the stream is open (or could not be opened: the timeout fallback covers that). */
  open(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const request = http.get(this.url, { headers: { accept: 'application/x-ndjson' } }, (response) => {
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
