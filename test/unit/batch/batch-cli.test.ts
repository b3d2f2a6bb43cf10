import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeResult } from '../../../functions/shared/batch';
import { batchExitCode, batchProgressPrinter, formatBatchOutput } from '../../../local/cli/batch-view';
import { EXIT, type Io, main } from '../../../local/cli/program';
import type { WorkflowEvent } from '../../../local/runtime';

function capture(env: NodeJS.ProcessEnv = {}): Io & { err: () => string } {
  let err = '';
  return {
    stdout: () => undefined,
    stderr: (text) => {
      err += text;
    },
    env,
    color: false,
    onStop: () => () => undefined,
    err: () => err,
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-batch-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('edgekeeper onboard|remove --batch', () => {
  it('refuses the single-node flags beside --batch, naming each', async () => {
    const io = capture();
    const path = file('ok.json', '[]');
    const code = await main(['onboard', '--local', '--batch', path, '--name', 'edge-1', '--label', 'a=b'], io);
    expect(code).toBe(EXIT.usage);
    expect(io.err()).toContain('--batch takes each request from the file: leave out --name, --label');
    const removal = capture();
    await main(['remove', '--local', '--batch', path, '--drain'], removal);
    expect(removal.err()).toContain('leave out --drain');
  });

  it('still requires --name and --ip without --batch, in commander’s words', async () => {
    const io = capture();
    await expect(main(['onboard', '--local', '--ip', '10.0.0.1'], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain("required option '--name <name>' not specified (or give --batch FILE)");
    const removal = capture();
    await expect(main(['remove', '--local'], removal)).resolves.toBe(EXIT.usage);
    expect(removal.err()).toContain("required option '--name <name>' not specified");
  });

  it('runs a batch through the REST API (POST /batches) and prints the same summary as a local run', async () => {
    const output = {
      workflow: 'remove-node',
      concurrency: 10,
      budget: { toleratedFailurePercent: 10, toleratedFailures: 0, failedChildren: 0, exceeded: false },
      totals: { requested: 1, removed: 1, failed: 0, skipped: 0 },
      results: [{ index: 0, nodeName: 'edge-7', status: 'removed', operationId: 'remove-node:b1-0' }],
    };
    const seen: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push(`${request.method} ${request.url} ${body}`);
        const id = 'batch-remove:b1';
        const answer =
          request.method === 'POST'
            ? { operationId: id, statusUrl: `/operations/${id}`, existed: false }
            : { operationId: id, workflow: 'batch-remove', status: 'SUCCEEDED', node: null, mode: null, steps: [] };
        response.writeHead(request.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ...answer, output, currentStep: null, error: null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      let out = '';
      const io = {
        ...capture(),
        stdout: (text: string) => {
          out += text;
        },
      };
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const path = file('api.json', JSON.stringify([{ nodeName: 'edge-7' }]));
      const argv = ['remove', '--batch', path, '--api-url', url, '--execution-name', 'b1'];
      await expect(main(argv, io)).resolves.toBe(EXIT.ok);
      expect(seen[0]).toBe('POST /batches {"action":"remove","requests":[{"nodeName":"edge-7"}]}');
      expect(out).toBe(formatBatchOutput(output as Parameters<typeof formatBatchOutput>[0]));
    } finally {
      server.close();
    }
  });

  it.each([
    ['missing.json', null, 'cannot be read: ENOENT'],
    ['broken.json', '{"requests": [', 'is not JSON'],
    ['object.json', '{"nodeName": "edge-1"}', 'must hold a JSON list of requests, or {"requests": [...]}'],
  ])('names --batch and the file when %s cannot be a batch', async (name, text, reason) => {
    const path = text === null ? join(dir, name) : file(name, text);
    const io = capture();
    await expect(main(['onboard', '--local', '--batch', path], io)).resolves.toBe(EXIT.usage);
    expect(io.err()).toContain(`--batch "${path}" ${reason}`);
  });
});

const RESULTS: NodeResult[] = [
  { index: 0, id: 'evt-1', nodeName: 'edge-1', status: 'joined', operationId: 'onboard-node:evt-1' },
  {
    index: 1,
    nodeName: 'edge-22',
    status: 'failed',
    operationId: 'onboard-node:b-1',
    error: { name: 'JoinPreflightFailedError', message: 'preflight failed: docker 18.09.9 is older than 19.3.0' },
  },
  {
    index: 2,
    nodeName: 'edge-3',
    status: 'skipped',
    operationId: 'onboard-node:b-2',
    error: { name: 'FailureBudgetExceeded', message: 'not started: …' },
  },
];
const OUTPUT = {
  workflow: 'onboard-node',
  concurrency: 2,
  budget: { toleratedFailurePercent: 0, toleratedFailures: 0, failedChildren: 1, exceeded: true },
  totals: { requested: 3, joined: 1, failed: 1, skipped: 1 },
  results: RESULTS,
};

describe('the batch view', () => {
  it('prints a line per node and the summary line', () => {
    expect(formatBatchOutput(OUTPUT).split('\n')).toEqual([
      'edge-1   joined   onboard-node:evt-1',
      'edge-22  failed   onboard-node:b-1  JoinPreflightFailedError: preflight failed: docker 18.09.9 is older than 19.3.0',
      'edge-3   skipped  onboard-node:b-2  FailureBudgetExceeded: not started: …',
      '3 requested: 1 joined, 1 failed, 1 skipped; failure budget exceeded (1 failed, 0 tolerated): the rest were not started',
      '',
    ]);
  });

  it('exits 1 when a node failed or was skipped, 0 when every node succeeded', () => {
    expect(batchExitCode(OUTPUT)).toBe(EXIT.workflowFailed);
    expect(batchExitCode({ ...OUTPUT, totals: { requested: 1, joined: 1, failed: 0, skipped: 0 } })).toBe(EXIT.ok);
  });

  it('shows each node as it starts, the steps it and its rollback enter, and how it ends', () => {
    const lines: string[] = [];
    const print = batchProgressPrinter((line) => lines.push(line));
    const at = (type: string, extra: Partial<WorkflowEvent>, timestamp = 0): WorkflowEvent => ({
      type,
      workflow: 'batch-onboard',
      execution: 'b',
      timestamp,
      ...extra,
    });
    const plan = {
      workflow: 'onboard-node',
      concurrency: 2,
      toleratedFailurePercent: 0,
      toleratedFailures: 0,
      requested: 3,
    };
    print(at('ExecutionStarted', {}));
    print(at('StateExited', { state: 'Check the batch', stateType: 'Task', output: { plan } }));
    print(
      at('StateExited', {
        state: 'Plan the next wave',
        stateType: 'Task',
        output: {
          plan,
          progress: { results: [] },
          wave: [
            { index: 0, executionName: 'evt-1', input: { nodeName: 'edge-1' } },
            { index: 1, executionName: 'b-1', input: { nodeName: 'edge-22' } },
          ],
        },
      }),
    );
    const child = (execution: string, type: string, extra: Partial<WorkflowEvent> = {}, timestamp = 0) =>
      print({
        type,
        workflow: execution.endsWith('rollback') ? 'remove-node' : 'onboard-node',
        execution,
        timestamp,
        ...extra,
      });
    child('evt-1', 'ExecutionStarted', {}, 1000);
    child('evt-1', 'StateEntered', { state: 'Validate the request', stateType: 'Task' });
    child('evt-1', 'StateEntered', { state: 'Already joined?', stateType: 'Choice' });
    // a polling loop enters its check again and again: shown once
    child('evt-1', 'StateEntered', { state: 'Check the host script', stateType: 'Task' });
    child('evt-1', 'StateEntered', { state: 'Wait for the host script', stateType: 'Wait' });
    child('evt-1', 'StateEntered', { state: 'Check the host script', stateType: 'Task' });
    child('b-1', 'ExecutionStarted');
    child('b-1-rollback', 'ExecutionStarted');
    child('b-1-rollback', 'StateEntered', { state: 'Inspect the node', stateType: 'Task' });
    child('b-1', 'ExecutionFailed', { error: { name: 'JoinPreflightFailedError', message: 'preflight failed\nmore' } });
    child('evt-1', 'ExecutionSucceeded', {}, 3500);
    print(
      at('StateExited', {
        state: 'Plan the next wave',
        stateType: 'Task',
        output: { plan, progress: { results: RESULTS }, wave: [] },
      }),
    );
    expect(lines).toEqual([
      'batch-onboard: 3 request(s), 2 at a time, 0 failure(s) tolerated (0 %)',
      '  ▸ edge-1 started as onboard-node:evt-1',
      '    edge-1 › Validate the request',
      '    edge-1 › Check the host script',
      '  ▸ edge-22 started as onboard-node:b-1',
      '    edge-22 › rollback: Inspect the node',
      '  ✗ edge-22 failed: JoinPreflightFailedError: preflight failed (0 ms)',
      '  ✓ edge-1 joined (2.5 s)',
      '  – edge-3 skipped: FailureBudgetExceeded: not started: …',
    ]);
  });
});
