import { handleApiRequest } from '../../../functions/api/router';
import { TransientServiceError } from '../../../functions/shared/errors';
import { deps, FakeEngine, fakeCluster, json, node, request, throttled } from './fakes';

const VALID = { nodeName: 'edge-1', nodeIp: '10.20.0.11', instanceId: 'mi-0ed9e000000000001' };
const TOKEN = `${'a'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl`;

function post(body: unknown, headers: Record<string, string> = {}) {
  return request('POST', '/nodes', { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}

describe('POST /nodes', () => {
  it('starts onboard-node with the parsed request and answers 202 with where to follow it', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(post(VALID), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(202);
    const body = json(response);
    expect(body.operationId).toMatch(/^onboard-node:api-[0-9a-f]{40}$/);
    expect(body).toEqual({
      operationId: body.operationId,
      statusUrl: `/operations/${body.operationId}`,
      existed: false,
    });
    expect(response.headers.location).toBe(body.statusUrl);
    expect(engine.started).toEqual([
      {
        workflow: 'onboard-node',
        name: body.operationId.split(':')[1],
        input: { ...VALID, taint: true, dryRun: false },
      },
    ]);
  });

  it('returns the first operation to a retry with the same Idempotency-Key and starts nothing again', async () => {
    // Prepare
    const engine = new FakeEngine();
    const headers = { 'idempotency-key': 'onboard-edge-1-try' };
    const first = await handleApiRequest(post(VALID, headers), deps({ engine }));

    // Act
    const retry = await handleApiRequest(post(VALID, headers), deps({ engine }));

    // Assess
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(200);
    expect(json(retry)).toEqual({ ...json(first), existed: true });
    expect(json(first).operationId).toBe('onboard-node:onboard-edge-1-try');
    expect(engine.started).toHaveLength(1);
  });

  it('answers 409 and says why when the same Idempotency-Key comes with a different body', async () => {
    // Prepare
    const engine = new FakeEngine();
    const headers = { 'idempotency-key': 'k1' };
    await handleApiRequest(post(VALID, headers), deps({ engine }));

    // Act
    const response = await handleApiRequest(post({ ...VALID, nodeIp: '10.20.0.12' }, headers), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(409);
    const body = json(response);
    expect(body.code).toBe('IdempotencyConflictError');
    expect(body.message).toContain('already started operation onboard-node:k1 with a different request');
    expect(body.details).toEqual([
      { field: 'Idempotency-Key', value: 'k1', reason: 'already started onboard-node:k1 with a different request' },
    ]);
    expect(engine.started).toHaveLength(1);
  });

  it('names the execution by a hash of the request without a key: the same request in another key order is a retry', async () => {
    // Prepare
    const engine = new FakeEngine();
    const at = (time: string) => deps({ engine, now: () => new Date(time) });
    const first = await handleApiRequest(post(VALID), at('2026-12-02T07:05:00Z'));
    const reordered = JSON.stringify({ instanceId: VALID.instanceId, nodeIp: VALID.nodeIp, nodeName: VALID.nodeName });

    // Act
    const retry = await handleApiRequest(post(reordered), at('2026-12-02T07:50:00Z'));
    // the defaults it leaves out, spelled out, are the same request too
    const explicit = await handleApiRequest(post({ ...VALID, taint: true, dryRun: false }), at('2026-12-02T07:59:59Z'));
    const other = await handleApiRequest(post({ ...VALID, taint: false }), at('2026-12-02T07:06:00Z'));
    // the same request in a later hour is a new operation (onboard, remove, onboard again), not the first one
    const later = await handleApiRequest(post(VALID), at('2026-12-02T08:00:00Z'));

    // Assess
    expect(retry.statusCode).toBe(200);
    expect(json(retry).operationId).toBe(json(first).operationId);
    expect(json(explicit).operationId).toBe(json(first).operationId);
    expect(other.statusCode).toBe(202);
    expect(json(other).operationId).not.toBe(json(first).operationId);
    expect(later.statusCode).toBe(202);
    expect(json(later).operationId).not.toBe(json(first).operationId);
    expect(engine.started).toHaveLength(3);
  });

  it('lists every bad field at once, each with its value and reason', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(
      post({ ...VALID, nodeName: 'Edge_1', nodeIp: '10.0.0.300' }),
      deps({ engine }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    const body = json(response);
    expect(body.code).toBe('InvalidRequestError');
    expect(body.details).toEqual([
      { field: 'nodeName', value: 'Edge_1', reason: expect.stringContaining('must be a DNS-1123 label') },
      { field: 'nodeIp', value: '10.0.0.300', reason: 'must be an IPv4 address: every part must be 0-255' },
    ]);
    expect(body.message).toContain('nodeName Edge_1 must be a DNS-1123 label');
    expect(body.message).toContain('nodeIp 10.0.0.300 must be an IPv4 address');
    expect(engine.started).toEqual([]);
  });

  it('cuts a long value in the details and gives its length', async () => {
    // Act
    const response = await handleApiRequest(
      post({ ...VALID, nodeName: 'x'.repeat(5000) }),
      deps({ engine: new FakeEngine() }),
    );

    // Assess
    const [detail] = json(response).details;
    expect(detail.value).toBe(`${'x'.repeat(80)}… (5000 characters)`);
    expect(response.body.length).toBeLessThan(1000);
  });

  it.each([
    ['no body', undefined, { field: 'body', value: null, reason: 'is required: a JSON object' }],
    ['a body that is not JSON', '{"nodeName":', { field: 'body', value: '{"nodeName":', reason: 'is not valid JSON' }],
    [
      'an unknown field',
      JSON.stringify({ ...VALID, nodename: 'x' }),
      { field: 'nodename', value: null, reason: 'is not a known field' },
    ],
  ])('refuses %s with 400', async (_case, body, detail) => {
    // Act
    const response = await handleApiRequest(request('POST', '/nodes', { body }), deps({ engine: new FakeEngine() }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([detail]);
  });

  it.each([
    ['characters Step Functions refuses', 'key with spaces', 'must be 1 to 71 characters of letters, digits, - and _'],
    ['a key whose rollback name would pass 80 characters', 'k'.repeat(72), "within Step Functions' 80"],
  ])('refuses an Idempotency-Key with %s, naming the header', async (_case, key, reason) => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(post(VALID, { 'idempotency-key': key }), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([
      { field: 'Idempotency-Key', value: key, reason: expect.stringContaining(reason) },
    ]);
    expect(engine.started).toEqual([]);
  });
});

describe('GET /nodes', () => {
  const cluster = fakeCluster([
    node('edge-1', {
      ip: '10.20.0.11',
      annotations: {
        'edgekeeper.io/instance-id': 'mi-0ed9e000000000001',
        'edgekeeper.io/operation-id': 'first-join',
      },
      labels: { 'edgekeeper.io/managed': 'true' },
    }),
    node('master-1', { edge: false, ip: '10.0.0.1' }),
    node('edge-2', { ip: '10.20.0.12', ready: false, kubeletVersion: 'v1.22.6-kubeedge-v1.13.0' }),
  ]);

  it('lists the edge nodes only, each with what the cluster and edgekeeper know of it', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'remove-node', name: 'r1', input: { mode: 'remove', nodeName: 'edge-2' } });

    // Act
    const response = await handleApiRequest(request('GET', '/nodes'), deps({ engine, cluster }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      items: [
        {
          name: 'edge-1',
          instanceId: 'mi-0ed9e000000000001',
          internalIP: '10.20.0.11',
          ready: true,
          kubeedgeVersion: 'v1.6.1',
          kubeletVersion: 'v1.19.3-kubeedge-v1.6.1',
          managed: true,
          // nothing newer in the engine: the onboarding recorded on the node
          lastOperation: { operationId: 'onboard-node:first-join', status: null, startedAt: null },
        },
        {
          name: 'edge-2',
          instanceId: null,
          internalIP: '10.20.0.12',
          ready: false,
          kubeedgeVersion: 'v1.13.0',
          kubeletVersion: 'v1.22.6-kubeedge-v1.13.0',
          managed: false,
          lastOperation: { operationId: 'remove-node:r1', status: 'RUNNING', startedAt: expect.any(String) },
        },
      ],
      continue: null,
    });
  });

  it('pages with ?limit= and ?continue=', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const first = json(
      await handleApiRequest(request('GET', '/nodes', { query: { limit: '1' } }), deps({ engine, cluster })),
    );
    const second = json(
      await handleApiRequest(
        request('GET', '/nodes', { query: { limit: '1', continue: first.continue } }),
        deps({ engine, cluster }),
      ),
    );

    // Assess
    expect(first.items.map((item: { name: string }) => item.name)).toEqual(['edge-1']);
    expect(first.continue).toEqual(expect.any(String));
    expect(second.items.map((item: { name: string }) => item.name)).toEqual(['edge-2']);
    expect(second.continue).toBeNull();
  });

  it('refuses a bad page size and an unknown parameter in one answer', async () => {
    // Act
    const response = await handleApiRequest(
      request('GET', '/nodes', { query: { limit: '0', lmit: '5' } }),
      deps({ engine: new FakeEngine(), cluster }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([
      { field: 'limit', value: '0', reason: 'must be a whole number from 1 to 500' },
      { field: 'lmit', value: '5', reason: 'is not a query parameter of this route' },
    ]);
  });
});

describe('GET /nodes/{name}', () => {
  it('gives one edge node with its newest operation', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { ...VALID } });
    await engine.start({ workflow: 'remove-node', name: 'r1', input: { mode: 'remove', nodeName: 'edge-1' } });
    engine.finish('remove-node:r1', { status: 'FAILED' });
    const cluster = fakeCluster([node('edge-1', { ip: '10.20.0.11' })]);

    // Act
    const response = await handleApiRequest(request('GET', '/nodes/edge-1'), deps({ engine, cluster }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response).lastOperation).toEqual({
      operationId: 'remove-node:r1',
      status: 'FAILED',
      startedAt: expect.any(String),
    });
  });

  it('describes the onboarding recorded on the node when the engine lists nothing newer', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { nodeName: 'another' } });
    engine.finish('onboard-node:j1', { status: 'SUCCEEDED' });
    const cluster = fakeCluster([node('edge-1', { annotations: { 'edgekeeper.io/operation-id': 'j1' } })]);

    // Act
    const body = json(await handleApiRequest(request('GET', '/nodes/edge-1'), deps({ engine, cluster })));

    // Assess
    expect(body.lastOperation).toEqual({
      operationId: 'onboard-node:j1',
      status: 'SUCCEEDED',
      startedAt: expect.any(String),
    });
  });

  it.each([
    ['no node', 'edge-9'],
    ['a node that is not an edge node', 'master-1'],
  ])('answers 404 for %s', async (_case, name) => {
    // Prepare
    const cluster = fakeCluster([node('master-1', { edge: false })]);

    // Act
    const response = await handleApiRequest(
      request('GET', `/nodes/${name}`),
      deps({ engine: new FakeEngine(), cluster }),
    );

    // Assess
    expect(response.statusCode).toBe(404);
    expect(json(response)).toEqual({ code: 'NotFoundError', message: `no edge node is named ${name}`, details: [] });
  });

  it('answers 400 for a name no node can have', async () => {
    // Act
    const response = await handleApiRequest(request('GET', '/nodes/Not_A_Name'), deps({ engine: new FakeEngine() }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([
      { field: 'name', value: 'Not_A_Name', reason: expect.stringContaining('must be a DNS-1123 subdomain') },
    ]);
  });
});

describe('DELETE /nodes/{name}', () => {
  it('starts remove-node with drain and force from the query', async () => {
    // Prepare
    const engine = new FakeEngine();
    const cluster = fakeCluster([node('edge-1')]);

    // Act
    const response = await handleApiRequest(
      request('DELETE', '/nodes/edge-1', { query: { drain: 'true' } }),
      deps({ engine, cluster }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response).operationId).toMatch(/^remove-node:api-[0-9a-f]{40}$/);
    expect(engine.started.map((started) => started.input)).toEqual([
      { mode: 'remove', nodeName: 'edge-1', drain: true, force: false },
    ]);
  });

  it('starts a removal of a node that is already gone: its locks, routing and host still need cleaning', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(request('DELETE', '/nodes/edge-gone'), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(202);
  });

  it('refuses with 422 a node that is not an edge node', async () => {
    // Prepare
    const engine = new FakeEngine();
    const cluster = fakeCluster([node('master-1', { edge: false })]);

    // Act
    const response = await handleApiRequest(request('DELETE', '/nodes/master-1'), deps({ engine, cluster }));

    // Assess
    expect(response.statusCode).toBe(422);
    expect(json(response).code).toBe('NotAnEdgeNodeError');
    expect(json(response).details).toEqual([
      { field: 'name', value: 'master-1', reason: expect.stringContaining('is not an edge node') },
    ]);
    expect(engine.started).toEqual([]);
  });

  it('refuses a query flag that is not true or false, and a key reserved for rollbacks, in one answer', async () => {
    // Act
    const response = await handleApiRequest(
      request('DELETE', '/nodes/edge-1', { query: { drain: 'yes' }, headers: { 'idempotency-key': 'x-rollback' } }),
      deps({ engine: new FakeEngine() }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([
      { field: 'drain', value: 'yes', reason: 'must be true or false' },
      { field: 'Idempotency-Key', value: 'x-rollback', reason: expect.stringContaining('must not end in -rollback') },
    ]);
  });

  it('refuses a body: its parameters are in the query string', async () => {
    // Act
    const response = await handleApiRequest(
      request('DELETE', '/nodes/edge-1', { body: '{"drain":true}' }),
      deps({ engine: new FakeEngine() }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details[0]).toEqual({
      field: 'body',
      value: '{"drain":true}',
      reason: 'must be empty: this route takes no body',
    });
  });
});

describe('GET /operations', () => {
  it('describes an operation: status, current step, timings, error; a percent-encoded id works too', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { ...VALID } });
    const steps = [
      {
        step: 'Validate the request',
        startedAt: '2026-12-02T08:00:01.000Z',
        endedAt: '2026-12-02T08:00:02.000Z',
        durationMs: 1000,
        status: 'FAILED' as const,
      },
    ];
    engine.finish('onboard-node:j1', {
      status: 'FAILED',
      currentStep: null,
      steps,
      error: { name: 'InvalidRequestError', message: 'nodeName edge-1 is already the name of a node' },
    });

    // Act
    const plain = await handleApiRequest(request('GET', '/operations/onboard-node:j1'), deps({ engine }));
    const encoded = await handleApiRequest(request('GET', '/operations/onboard-node%3Aj1'), deps({ engine }));

    // Assess
    expect(plain.statusCode).toBe(200);
    expect(json(plain)).toEqual({
      operationId: 'onboard-node:j1',
      workflow: 'onboard-node',
      status: 'FAILED',
      node: 'edge-1',
      mode: null,
      startedAt: expect.any(String),
      stoppedAt: null,
      currentStep: null,
      steps,
      output: null,
      error: { name: 'InvalidRequestError', message: 'nodeName edge-1 is already the name of a node' },
    });
    expect(encoded.body).toBe(plain.body);
  });

  it('redacts anything shaped like a join token in an output or an error', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { ...VALID } });
    engine.finish('onboard-node:j1', {
      status: 'FAILED',
      output: { plan: { lines: [`keadm join --token ${TOKEN}`] } },
      error: { name: 'HostCommandFailedError', message: `keadm said: --token=${TOKEN}` },
    });

    // Act
    const response = await handleApiRequest(request('GET', '/operations/onboard-node:j1'), deps({ engine }));

    // Assess
    expect(response.body).not.toContain(TOKEN);
    expect(response.body).not.toContain('eyJ');
    expect(json(response).output).toEqual({ plan: { lines: ['keadm join --token <redacted>'] } });
  });

  it('gives an operation’s event log, its inputs, outputs and errors redacted, and 404 for an unknown one', async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { ...VALID } });
    const on = { workflow: 'onboard-node', execution: 'j1' };
    const join = { ...on, state: 'Join', stateType: 'Task' };
    engine.log('onboard-node:j1', [
      { type: 'ExecutionStarted', ...on, input: { ...VALID }, timestamp: 1 },
      { type: 'StateEntered', ...join, input: { script: `keadm join --token ${TOKEN}` }, timestamp: 2 },
      {
        type: 'StateFailed',
        ...join,
        error: { name: 'HostCommandFailedError', message: `--token=${TOKEN}` },
        timestamp: 3,
      },
      { type: 'StateExited', ...join, output: [`--token ${TOKEN}`], timestamp: 4 },
    ]);

    // Act
    const response = await handleApiRequest(request('GET', '/operations/onboard-node%3Aj1/events'), deps({ engine }));
    const missing = await handleApiRequest(request('GET', '/operations/onboard-node:j9/events'), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(TOKEN);
    expect(json(response)).toEqual({
      events: [
        { type: 'ExecutionStarted', ...on, input: { ...VALID }, timestamp: 1 },
        { type: 'StateEntered', ...join, input: { script: 'keadm join --token <redacted>' }, timestamp: 2 },
        {
          type: 'StateFailed',
          ...join,
          error: { name: 'HostCommandFailedError', message: '--token=<redacted>' },
          timestamp: 3,
        },
        { type: 'StateExited', ...join, output: ['--token <redacted>'], timestamp: 4 },
      ],
    });
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).toMatchObject({ code: 'NotFoundError' });
  });

  it.each([
    ['an unknown operation', 404, 'onboard-node:nope'],
    ['an id of no workflow', 400, 'sync-node:x'],
  ])('answers %s with %d', async (_case, status, id) => {
    // Act
    const response = await handleApiRequest(request('GET', `/operations/${id}`), deps({ engine: new FakeEngine() }));

    // Assess
    expect(response.statusCode).toBe(status);
  });

  it("lists a node's operations, newest first", async () => {
    // Prepare
    const engine = new FakeEngine();
    await engine.start({ workflow: 'onboard-node', name: 'j1', input: { ...VALID } });
    await engine.start({ workflow: 'onboard-node', name: 'j2', input: { ...VALID, nodeName: 'edge-2' } });
    await engine.start({ workflow: 'remove-node', name: 'r1', input: { mode: 'remove', nodeName: 'edge-1' } });

    // Act
    const response = await handleApiRequest(
      request('GET', '/operations', { query: { node: 'edge-1' } }),
      deps({ engine }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response).items.map((item: { operationId: string }) => item.operationId)).toEqual([
      'remove-node:r1',
      'onboard-node:j1',
    ]);
    expect(json(response).items[0]).toEqual({
      operationId: 'remove-node:r1',
      workflow: 'remove-node',
      status: 'RUNNING',
      node: 'edge-1',
      mode: 'remove',
      startedAt: expect.any(String),
      stoppedAt: null,
    });
  });
});

describe('DELETE /kubeedge', () => {
  it('refuses without a confirmation, saying how to give one', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(request('DELETE', '/kubeedge'), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([
      {
        field: 'confirm',
        value: null,
        reason:
          'is required to uninstall KubeEdge from the cluster: add ?confirm=kubeedge or the header ' +
          'x-edgekeeper-confirm: kubeedge',
      },
    ]);
    expect(engine.started).toEqual([]);
  });

  it('refuses a wrong confirmation word', async () => {
    // Act
    const response = await handleApiRequest(
      request('DELETE', '/kubeedge', { query: { confirm: 'yes' } }),
      deps({ engine: new FakeEngine() }),
    );

    // Assess
    expect(json(response).details).toEqual([
      { field: 'confirm', value: 'yes', reason: expect.stringContaining('must be kubeedge') },
    ]);
  });

  it.each([
    ['the query', { query: { confirm: 'kubeedge', force: 'true' } }],
    ['the header', { query: { force: 'true' }, headers: { 'x-edgekeeper-confirm': 'kubeedge' } }],
  ])('starts the uninstall when confirmed in %s', async (_case, extra) => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(request('DELETE', '/kubeedge', extra), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(engine.started.map((started) => started.input)).toEqual([{ mode: 'uninstall', force: true }]);
  });
});

describe('answers to what goes wrong', () => {
  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    // Act
    const unknown = await handleApiRequest(request('GET', '/clusters'), deps({ engine: new FakeEngine() }));
    const wrongMethod = await handleApiRequest(request('PUT', '/nodes'), deps({ engine: new FakeEngine() }));

    // Assess
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).code).toBe('NotFoundError');
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST, GET');
    expect(json(wrongMethod).code).toBe('MethodNotAllowedError');
  });

  it('answers 429 with Retry-After when the engine throttles', async () => {
    // Prepare
    const engine = new FakeEngine();
    engine.failWith(throttled());

    // Act
    const response = await handleApiRequest(post(VALID), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('2');
    expect(json(response).code).toBe('TooManyRequestsError');
  });

  it.each([
    [
      'the engine is unavailable',
      new TransientServiceError('Step Functions did not answer listing executions: ECONNRESET'),
      '/operations',
    ],
    ['the cluster does not answer', new TransientServiceError('listing the edge nodes: HTTP 503'), '/nodes'],
  ])('answers 503 with Retry-After when %s', async (_case, error, path) => {
    // Prepare
    const engine = new FakeEngine();
    if (path === '/operations') engine.failWith(error);
    const cluster = fakeCluster([], path === '/nodes' ? error : undefined);

    // Act
    const response = await handleApiRequest(request('GET', path), deps({ engine, cluster }));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(json(response).code).toBe('ServiceUnavailableError');
    expect(response.body).not.toContain(error.message);
  });

  it('keeps a workflow error name in code: a node another operation holds is a 409 NodeLockedError', async () => {
    // Prepare
    const engine = new FakeEngine();
    const holder = 'arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-remove-node:remove-7';
    const asked: string[] = [];
    const lockHolders = async (name: string) => {
      asked.push(name);
      return [holder];
    };

    // Act
    const response = await handleApiRequest(post(VALID), deps({ engine, lockHolders }));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(json(response)).toEqual({
      code: 'NodeLockedError',
      message:
        `node edge-1 is locked by ${holder}, which is still running: follow it with ` +
        'GET /operations?node=edge-1 and retry once it has ended',
      details: [],
    });
    expect(asked).toEqual(['edge-1']);
    expect(engine.started).toEqual([]);
  });

  it.each([
    ['its own first execution', 'k1'],
    ['the rollback child of its own first execution', 'k1-rollback'],
  ])('lets a retry through while the lock holder is %s', async (_case, holderName) => {
    // Prepare
    const engine = new FakeEngine();
    const headers = { 'idempotency-key': 'k1' };
    await handleApiRequest(post(VALID, headers), deps({ engine }));
    const lockHolders = async () => [
      `arn:aws:states:eu-west-1:123456789012:execution:edgekeeper-onboard-node:${holderName}`,
    ];

    // Act
    const retry = await handleApiRequest(post(VALID, headers), deps({ engine, lockHolders }));

    // Assess
    expect(retry.statusCode).toBe(200);
    expect(json(retry).operationId).toBe('onboard-node:k1');
  });

  it('answers 500 with a generic message and tells the log, never the caller, what happened', async () => {
    // Prepare
    const engine = new FakeEngine();
    const internal = new Error(`AccessDenied for arn:aws:iam::123456789012:role/x; token ${TOKEN}`);
    engine.failWith(internal);
    const logged: unknown[] = [];

    // Act
    const response = await handleApiRequest(
      post(VALID),
      deps({ engine, onInternalError: (error) => logged.push(error) }),
    );

    // Assess
    expect(response.statusCode).toBe(500);
    expect(json(response)).toEqual({
      code: 'InternalError',
      message: 'an internal error stopped this request; the API’s logs have the details',
      details: [],
    });
    expect(logged).toEqual([internal]);
  });
});
