import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Operation } from '../../../functions/api/engine';
import { runApiJoinCommand, runApiWorkflowCommand } from '../../../local/cli/api-client';
import { BATCH_VIEW, formatBatchOutput } from '../../../local/cli/batch-view';
import { formatDriftSummary } from '../../../local/cli/drift-view';
import { EXIT, type Io, main } from '../../../local/cli/program';
import type { WorkflowEvent } from '../../../local/runtime';

const REPO = join(__dirname, '..', '..', '..');

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * A fake API: records each request and answers from a script of responses, in order; GET /operations/{id}/events
 * answers `events` (counted in `eventReads`, not in `sent`, since how often the client reads it is its own affair).
 */
function fakeApi(answers: { status: number; body: unknown }[], events: WorkflowEvent[] = []) {
  const sent: Sent[] = [];
  let eventReads = 0;
  const fetch = (async (input: URL | string, init: RequestInit = {}) => {
    if (init.method === 'GET' && String(input).endsWith('/events')) {
      eventReads += 1;
      return new Response(JSON.stringify({ events }), { status: 200 });
    }
    sent.push({
      method: String(init.method),
      url: String(input),
      headers: init.headers as Record<string, string>,
      ...(typeof init.body === 'string' && { body: init.body }),
    });
    const answer = answers.shift();
    if (!answer) throw new Error(`no answer left for ${init.method} ${input}`);
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as typeof globalThis.fetch;
  return { fetch, sent, eventReads: () => eventReads };
}

function capture(env: NodeJS.ProcessEnv = {}): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env,
    color: false,
    onStop: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}

const ONBOARD = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0ed9e000000000001', taint: true };
const STARTED = '2026-12-02T07:00:00.000Z';

function operation(status: Operation['status'], steps: Operation['steps'], extra: Partial<Operation> = {}): Operation {
  return {
    operationId: 'onboard-node:run-1',
    workflow: 'onboard-node',
    status,
    node: 'edge-1',
    mode: null,
    startedAt: STARTED,
    stoppedAt: status === 'RUNNING' ? null : '2026-12-02T07:00:09.000Z',
    currentStep: status === 'RUNNING' ? (steps.at(-1)?.step ?? null) : null,
    steps,
    output: null,
    error: null,
    ...extra,
  };
}

const step = (name: string, start: number, end: number | null, status: 'RUNNING' | 'SUCCEEDED' | 'FAILED') => ({
  step: name,
  startedAt: new Date(Date.parse(STARTED) + start).toISOString(),
  endedAt: end === null ? null : new Date(Date.parse(STARTED) + end).toISOString(),
  durationMs: end === null ? null : end - start,
  status,
});

const ACCEPTED = { operationId: 'onboard-node:run-1', statusUrl: '/operations/onboard-node:run-1', existed: false };

describe('the CLI against the REST API', () => {
  it('starts an onboarding with the execution name as Idempotency-Key, follows it, and prints the result document', async () => {
    const output = { nodeName: 'edge-1', nodeIp: '10.20.0.11', alreadyJoined: false };
    const at = Date.parse(STARTED);
    const on = { workflow: 'onboard-node', execution: 'run-1' };
    const log: WorkflowEvent[] = [
      { type: 'ExecutionStarted', ...on, input: ONBOARD, timestamp: at },
      { type: 'StateEntered', ...on, state: 'Validate the request', stateType: 'Task', input: ONBOARD, timestamp: at },
      { type: 'StateExited', ...on, state: 'Validate the request', stateType: 'Task', output, timestamp: at + 1 },
      { type: 'StateEntered', ...on, state: 'Joined?', stateType: 'Choice', input: output, timestamp: at + 2 },
      { type: 'StateExited', ...on, state: 'Joined?', stateType: 'Choice', output, timestamp: at + 2 },
      { type: 'ExecutionSucceeded', ...on, output, timestamp: at + 3 },
    ];
    const described = {
      arn: 'arn:aws:states:local:000000000000:execution:edgekeeper-onboard-node:run-1',
      resumed: 0,
      record: '/var/lib/edgekeeper/executions/run-1.json',
    };
    const api = fakeApi(
      [
        { status: 202, body: ACCEPTED },
        { status: 200, body: operation('RUNNING', [step('Validate the request', 0, null, 'RUNNING')]) },
        {
          status: 200,
          body: operation(
            'SUCCEEDED',
            [step('Validate the request', 0, 1200, 'SUCCEEDED'), step('Lock the node', 1300, 1400, 'SUCCEEDED')],
            { output, ...described },
          ),
        },
      ],
      log,
    );
    const io = capture();
    const code = await runApiWorkflowCommand(
      'onboard-node',
      ONBOARD,
      { url: 'http://127.0.0.1:8080', json: true, executionName: 'run-1' },
      io,
      { fetch: api.fetch, pollMs: 1 },
    );
    expect(code).toBe(EXIT.ok);
    expect(api.sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST http://127.0.0.1:8080/nodes',
      'GET http://127.0.0.1:8080/operations/onboard-node:run-1',
      'GET http://127.0.0.1:8080/operations/onboard-node:run-1',
    ]);
    expect(JSON.parse(api.sent[0].body ?? '')).toEqual(ONBOARD);
    expect(api.sent[0].headers).toMatchObject({ 'idempotency-key': 'run-1', 'content-type': 'application/json' });
    // serve has no IAM: a loopback URL goes unsigned
    expect(api.sent[0].headers).not.toHaveProperty('authorization');
    // --json reads the event log once, at the end: the document is the local one, events and execution alike
    expect(api.eventReads()).toBe(1);
    expect(JSON.parse(io.out())).toEqual({
      status: 'SUCCEEDED',
      output,
      error: null,
      events: log,
      execution: { name: 'run-1', replayed: false, ...described },
    });
  });

  it('shows the progress view from the event log of the API, and the error of a failed operation', async () => {
    const error = { name: 'InvalidRequestError', message: 'nodeIp 10.20.0.11 is already used by node edge-0' };
    const at = Date.parse(STARTED);
    const on = { workflow: 'onboard-node', execution: 'run-1' };
    const validate = { ...on, state: 'Validate the request', stateType: 'Task' };
    const api = fakeApi(
      [
        { status: 202, body: ACCEPTED },
        { status: 200, body: operation('FAILED', [step('Validate the request', 0, 250, 'FAILED')], { error }) },
      ],
      [
        { type: 'ExecutionStarted', ...on, input: ONBOARD, timestamp: at },
        { type: 'StateEntered', ...validate, input: ONBOARD, timestamp: at },
        { type: 'StateFailed', ...validate, error, timestamp: at + 250 },
        { type: 'ExecutionFailed', ...on, error, timestamp: at + 251 },
      ],
    );
    const io = capture();
    const code = await runApiWorkflowCommand('onboard-node', ONBOARD, { url: 'http://localhost:8080/' }, io, {
      fetch: api.fetch,
      pollMs: 1,
    });
    expect(code).toBe(EXIT.workflowFailed);
    // without --execution-name, a new execution each time, as a local run
    expect(api.sent[0].headers['idempotency-key']).toMatch(/^cli-[0-9a-f-]{36}$/);
    expect(io.err()).toBe(
      'onboard-node\n' +
        '  ✗ Validate the request: InvalidRequestError: nodeIp 10.20.0.11 is already used by node edge-0\n',
    );
    expect(io.out()).toBe('FAILED InvalidRequestError: nodeIp 10.20.0.11 is already used by node edge-0\n');
  });

  it('signs requests to a deployed API with SigV4 for execute-api in the region of its host name', async () => {
    const api = fakeApi([{ status: 202, body: ACCEPTED }]);
    const io = capture();
    const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1';
    const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok' });
    const code = await runApiWorkflowCommand('onboard-node', ONBOARD, { url, wait: false }, io, {
      fetch: api.fetch,
      credentials,
    });
    expect(code).toBe(EXIT.ok);
    expect(io.out()).toBe('onboard-node:run-1\n');
    expect(api.sent[0].url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/nodes');
    expect(api.sent[0].headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;content-type;host;idempotency-key;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(api.sent[0].headers['x-amz-security-token']).toBe('tok');
  });

  it('tries a throttled or unavailable call again, with the same Idempotency-Key, and stops after four tries', async () => {
    const busy = { status: 503, body: { code: 'ServiceUnavailableError', message: 'retry shortly', details: [] } };
    const api = fakeApi([busy, { status: 429, body: {} }, { status: 202, body: ACCEPTED }]);
    const io = capture();
    const flags = { url: 'http://127.0.0.1:8080', wait: false, executionName: 'run-1' };
    expect(await runApiWorkflowCommand('onboard-node', ONBOARD, flags, io, { fetch: api.fetch, retryMs: 1 })).toBe(
      EXIT.ok,
    );
    expect(api.sent.map((request) => request.headers['idempotency-key'])).toEqual(['run-1', 'run-1', 'run-1']);
    expect(io.out()).toBe('onboard-node:run-1\n');

    const down = fakeApi([busy, busy, busy, busy]);
    const failed = capture();
    expect(await runApiWorkflowCommand('onboard-node', ONBOARD, flags, failed, { fetch: down.fetch, retryMs: 1 })).toBe(
      EXIT.workflowFailed,
    );
    expect(down.sent).toHaveLength(4);
    expect(failed.out()).toBe('FAILED ServiceUnavailableError: retry shortly\n');
  });

  it('names the missing credentials instead of sending an unsigned request to a deployed API', async () => {
    const api = fakeApi([]);
    const failing = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    await expect(
      runApiWorkflowCommand(
        'onboard-node',
        ONBOARD,
        { url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1' },
        capture(),
        { fetch: api.fetch, credentials: failing },
      ),
    ).rejects.toThrow(
      /the AWS credential chain found no credentials \(Could not load credentials from any providers\)/,
    );
    expect(api.sent).toEqual([]);
  });

  it('maps remove and uninstall to DELETE routes, with the uninstall confirmed', async () => {
    const removal = fakeApi([{ status: 202, body: { ...ACCEPTED, operationId: 'remove-node:r' } }]);
    await runApiWorkflowCommand(
      'remove-node',
      { mode: 'remove', nodeName: 'edge-1', drain: true, force: false },
      { url: 'http://127.0.0.1:9/', wait: false },
      capture(),
      { fetch: removal.fetch },
    );
    expect(removal.sent[0]).toMatchObject({ method: 'DELETE', url: 'http://127.0.0.1:9/nodes/edge-1?drain=true' });
    const uninstall = fakeApi([{ status: 202, body: { ...ACCEPTED, operationId: 'remove-node:u' } }]);
    await runApiWorkflowCommand(
      'remove-node',
      { mode: 'uninstall', force: true },
      { url: 'http://127.0.0.1:9', wait: false },
      capture(),
      { fetch: uninstall.fetch },
    );
    expect(uninstall.sent[0]).toMatchObject({
      method: 'DELETE',
      url: 'http://127.0.0.1:9/kubeedge?confirm=kubeedge&force=true',
    });
  });

  it('prints a refusal with its details, under --json as the error of the document, exit 2 for a 400', async () => {
    const refusal = {
      code: 'InvalidRequestError',
      message: 'nodeName Edge_1 must be a DNS-1123 label',
      details: [{ field: 'nodeName', value: 'Edge_1', reason: 'must be a DNS-1123 label' }],
    };
    const api = fakeApi([{ status: 400, body: refusal }]);
    const io = capture();
    const code = await runApiWorkflowCommand('onboard-node', ONBOARD, { url: 'http://[::1]:8080', json: true }, io, {
      fetch: api.fetch,
    });
    expect(code).toBe(EXIT.usage);
    expect(JSON.parse(io.out())).toEqual({
      status: 'FAILED',
      output: null,
      error: { name: refusal.code, message: refusal.message, details: refusal.details },
      events: [],
    });
  });

  it("reports API Gateway's own refusal of a signature by its status and message", async () => {
    const api = fakeApi([{ status: 403, body: { message: 'The security token included in the request is invalid' } }]);
    const io = capture();
    const code = await runApiWorkflowCommand(
      'onboard-node',
      ONBOARD,
      { url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1' },
      io,
      { fetch: api.fetch, credentials: async () => ({ accessKeyId: 'A', secretAccessKey: 'B' }) },
    );
    expect(code).toBe(EXIT.workflowFailed);
    expect(io.out()).toBe(
      'FAILED AccessDeniedError: HTTP 403: "The security token included in the request is invalid"\n',
    );
  });

  it('refuses, before any request, what the API does not take: --instance on remove, plain http, --no-wait locally', async () => {
    const io = capture();
    expect(
      await main(
        ['remove', '--api-url', 'http://127.0.0.1:9', '--name', 'edge-1', '--instance', 'mi-0ed9e000000000001'],
        io,
      ),
    ).toBe(EXIT.usage);
    expect(io.err()).toContain(
      'error: --instance "mi-0ed9e000000000001": the REST API does not take it; run with --local or --sandbox',
    );
    const http = capture();
    expect(await main(['uninstall', '--api-url', 'http://api.example.com'], http)).toBe(EXIT.usage);
    expect(http.err()).toContain('--api-url "http://api.example.com" must be https');
    const local = capture();
    expect(await main(['uninstall', '--sandbox', '/nonexistent', '--no-wait'], local)).toBe(EXIT.usage);
    expect(local.err()).toContain('--no-wait: only with --api-url');
  });
});

describe('batches and drift checks through the REST API', () => {
  const BATCH_OUTPUT = {
    workflow: 'onboard-node',
    concurrency: 10,
    budget: { toleratedFailurePercent: 10, toleratedFailures: 0, failedChildren: 1, exceeded: true },
    totals: { requested: 2, joined: 1, failed: 1, skipped: 0 },
    results: [
      { index: 0, nodeName: 'edge-7', status: 'joined', operationId: 'onboard-node:b1-0' },
      {
        index: 1,
        nodeName: 'edge-8',
        status: 'failed',
        operationId: 'onboard-node:b1-1',
        error: { name: 'JoinPreflightFailedError', message: 'docker is too old' },
      },
    ],
  };

  it('posts a batch to /batches, follows it, prints the batch summary and exits 1 for a failed node', async () => {
    // Prepare
    const requests = [ONBOARD, { ...ONBOARD, nodeName: 'edge-8', nodeIp: '10.20.0.18' }];
    const accepted = { operationId: 'batch-onboard:b1', statusUrl: '/operations/batch-onboard:b1', existed: false };
    const done = operation('SUCCEEDED', [], {
      operationId: 'batch-onboard:b1',
      workflow: 'batch-onboard',
      node: null,
      output: BATCH_OUTPUT,
    });
    const api = fakeApi([
      { status: 202, body: accepted },
      { status: 200, body: done },
    ]);
    const io = capture();

    // Act
    const code = await runApiWorkflowCommand(
      'batch-onboard',
      { requests },
      { url: 'http://127.0.0.1:8080', executionName: 'b1' },
      io,
      { fetch: api.fetch, pollMs: 1 },
      BATCH_VIEW,
    );

    // Assess
    expect(code).toBe(EXIT.workflowFailed);
    expect(api.sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST http://127.0.0.1:8080/batches',
      'GET http://127.0.0.1:8080/operations/batch-onboard:b1',
    ]);
    expect(JSON.parse(api.sent[0].body ?? '')).toEqual({ action: 'onboard', requests });
    expect(api.sent[0].headers).toMatchObject({ 'idempotency-key': 'b1' });
    expect(io.out()).toBe(formatBatchOutput(BATCH_OUTPUT as Parameters<typeof formatBatchOutput>[0]));
    expect(io.out()).toContain('2 requested: 1 joined, 1 failed, 0 skipped');
  });

  it('posts a drift check to /drift-checks and prints its summary with the drift view', async () => {
    // Prepare
    const summary = {
      runId: 'd1',
      finishedAt: '2026-12-02T07:00:09.000Z',
      remediate: true,
      total: 0,
      fixed: 0,
      open: 0,
      byType: {},
      bySeverity: { high: 0, medium: 0, low: 0 },
      findings: [],
      truncated: false,
      notes: [],
      report: { stored: true, location: 'drift-reports', key: 'd1.json' },
    };
    const accepted = { operationId: 'drift-check:d1', statusUrl: '/operations/drift-check:d1', existed: false };
    const done = operation('SUCCEEDED', [], {
      operationId: 'drift-check:d1',
      workflow: 'drift-check',
      output: summary,
    });
    const api = fakeApi([
      { status: 202, body: accepted },
      { status: 200, body: done },
    ]);
    const io = capture();
    const view = (output: unknown) => formatDriftSummary(output as Parameters<typeof formatDriftSummary>[0]);

    // Act
    const code = await runApiWorkflowCommand(
      'drift-check',
      { remediate: true },
      { url: 'http://127.0.0.1:8080', executionName: 'd1' },
      io,
      { fetch: api.fetch, pollMs: 1 },
      { view },
    );

    // Assess
    expect(code).toBe(EXIT.ok);
    expect(`${api.sent[0].method} ${api.sent[0].url}`).toBe('POST http://127.0.0.1:8080/drift-checks');
    expect(JSON.parse(api.sent[0].body ?? '')).toEqual({ remediate: true });
    expect(io.out()).toContain('No drift found (with remediation, run d1).');
  });
});

describe('a manual join through the REST API', () => {
  const MANUAL = { nodeName: 'edge-9', nodeIp: '10.20.0.91', taint: false, labels: {}, dryRun: false };
  const COMMAND = "(\nprintf '%s' 'the-join-token' >\"$dir/token\"\nkeadm join ...\n)\n";
  const waiting = (extra: Partial<Operation> = {}) =>
    operation(
      'RUNNING',
      [step('Lock the node', 0, 100, 'SUCCEEDED'), step('Check the manual join', 200, null, 'RUNNING')],
      extra,
    );
  const joined = operation('SUCCEEDED', [step('Check the manual join', 200, 900, 'SUCCEEDED')], { output: {} });

  it('prints the command the API answered once, on stdout, then follows the operation', async () => {
    const api = fakeApi([
      { status: 202, body: { ...ACCEPTED, joinCommand: COMMAND } },
      { status: 200, body: waiting() },
      { status: 200, body: waiting() },
      { status: 200, body: joined },
    ]);
    const io = capture();
    const code = await runApiWorkflowCommand('onboard-node', MANUAL, { url: 'http://127.0.0.1:8080' }, io, {
      fetch: api.fetch,
      pollMs: 1,
    });
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(api.sent[0].body ?? '')).toEqual(MANUAL);
    expect(io.out().split(COMMAND)).toHaveLength(2);
    expect(io.out().startsWith(`\n${COMMAND}`)).toBe(true);
    expect(io.err()).toContain('Run this command once, as root, on the device');
    expect(io.err()).not.toContain('the-join-token');
  });

  it('with --json, puts the command on stderr only: the document never holds it', async () => {
    const api = fakeApi([
      { status: 202, body: { ...ACCEPTED, joinCommand: COMMAND } },
      { status: 200, body: joined },
    ]);
    const io = capture();
    const flags = { url: 'http://127.0.0.1:8080', json: true };
    expect(await runApiWorkflowCommand('onboard-node', MANUAL, flags, io, { fetch: api.fetch, pollMs: 1 })).toBe(
      EXIT.ok,
    );
    expect(io.out()).not.toContain('the-join-token');
    expect(JSON.parse(io.out())).toMatchObject({ status: 'SUCCEEDED' });
    expect(io.err()).toContain(COMMAND);
  });

  it('renders the command with GET /join-command once the operation waits, when the API answered before it did', async () => {
    const api = fakeApi([
      { status: 202, body: { ...ACCEPTED, joinCommand: null } },
      { status: 200, body: operation('RUNNING', [step('Validate the request', 0, null, 'RUNNING')]) },
      { status: 200, body: waiting() },
      { status: 200, body: { command: COMMAND } },
      { status: 200, body: waiting() },
      { status: 200, body: joined },
    ]);
    const io = capture();
    const flags = { url: 'http://127.0.0.1:8080', json: true };
    expect(await runApiWorkflowCommand('onboard-node', MANUAL, flags, io, { fetch: api.fetch, pollMs: 1 })).toBe(
      EXIT.ok,
    );
    expect(api.sent.map((request) => `${request.method} ${request.url}`)).toContain(
      'GET http://127.0.0.1:8080/join-command?name=edge-9&ip=10.20.0.91&taint=false',
    );
    expect(io.err().split(COMMAND)).toHaveLength(2);
    expect(io.out()).not.toContain('the-join-token');
  });

  it('with --no-wait, prints the operation id on stdout and the command on stderr', async () => {
    const api = fakeApi([{ status: 202, body: { ...ACCEPTED, joinCommand: COMMAND } }]);
    const io = capture();
    const flags = { url: 'http://127.0.0.1:8080', json: true, wait: false };
    expect(await runApiWorkflowCommand('onboard-node', MANUAL, flags, io, { fetch: api.fetch })).toBe(EXIT.ok);
    expect(JSON.parse(io.out())).toEqual(ACCEPTED);
    expect(io.err()).toContain(COMMAND);
  });

  it('runs join-command --api-url as GET /join-command, and names a bad parameter from the answer', async () => {
    const answers: { status: number; body: unknown }[] = [
      { status: 200, body: { command: COMMAND } },
      {
        status: 400,
        body: {
          code: 'InvalidRequestError',
          message: 'name Edge_9 must be a DNS-1123 label',
          details: [{ field: 'name', value: 'Edge_9', reason: 'must be a DNS-1123 label' }],
        },
      },
    ];
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      const answer = answers.shift() ?? { status: 500, body: {} };
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const io = capture();
      const args = ['join-command', '--api-url', url, '--name', 'edge-9', '--ip', '10.20.0.91', '--region', 'en'];
      expect(await main(args, io)).toBe(EXIT.ok);
      expect(io.out()).toBe(COMMAND);
      expect(seen).toEqual(['GET /join-command?name=edge-9&ip=10.20.0.91&region=en']);

      const refused = capture();
      const code = await runApiJoinCommand({ nodeName: 'Edge_9', nodeIp: '10.20.0.91' }, { url }, refused);
      expect(code).toBe(EXIT.usage);
      expect(refused.err()).toBe(
        'error: InvalidRequestError: name Edge_9 must be a DNS-1123 label\n  name Edge_9: must be a DNS-1123 label\n',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the module graph of the --api-url path', () => {
  it('loads neither the local runtime nor the sandbox nor the workflow engine', async () => {
    const result = await build({
      entryPoints: [join(REPO, 'local/cli/api-client.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      packages: 'external',
      absWorkingDir: REPO,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const packages = Object.values(result.metafile.inputs).flatMap((input) =>
      input.imports.filter((entry) => entry.external).map((entry) => entry.path),
    );
    // the graph is real: it holds the client's own modules
    expect(inputs).toEqual(expect.arrayContaining(['local/cli/api-client.ts', 'local/cli/api-signing.ts']));
    expect(
      inputs.filter((path) => /^local\/(runtime|executions|api-engine)\.ts$|^local\/sandbox\//.test(path)),
    ).toEqual([]);
    expect(packages.filter((name) => /aws-local-stepfunctions|@kubernetes\/client-node|client-ssm/.test(name))).toEqual(
      [],
    );
  });
});
