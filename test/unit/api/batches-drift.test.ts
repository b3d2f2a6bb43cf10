import { handleApiRequest } from '../../../functions/api/router';
import { DriftSummary } from '../../../functions/api/routes';
import { deps, FakeEngine, json, request } from './fakes';

/*
 * POST /batches, POST /drift-checks and GET /drift-checks/latest, against a fake engine and a fake report store:
 * the batch and drift-check workflows themselves have their own tests.
 */

const ONBOARD = [
  { id: 'evt-1', nodeName: 'edge-7', nodeIp: '10.20.0.17', instanceId: 'mi-0ed9e000000000007' },
  { nodeName: 'edge-8', nodeIp: '10.20.0.18', instanceId: 'mi-0ed9e000000000008' },
];
const TOKEN = `${'c'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl`;

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return request('POST', path, { body: JSON.stringify(body), headers });
}

const SUMMARY = {
  runId: 'drift-1',
  finishedAt: '2026-12-02T08:30:00.000Z',
  remediate: false,
  total: 1,
  fixed: 0,
  open: 1,
  byType: { StaleLock: { severity: 'low', fix: 'automatic', count: 1, fixed: 0 } },
  bySeverity: { high: 0, medium: 0, low: 1 },
  findings: [{ type: 'StaleLock', object: 'lease/edge-7', seen: `holder ran keadm --token=${TOKEN}` }],
  truncated: false,
  notes: [],
  report: { stored: true, location: 'drift-reports', key: 'drift-1.json' },
};

describe('POST /batches', () => {
  it('starts batch-onboard with the requests under the Idempotency-Key and answers 202', async () => {
    // Prepare
    const engine = new FakeEngine();
    const headers = { 'idempotency-key': 'burst-1' };

    // Act
    const response = await handleApiRequest(post('/batches', { action: 'onboard', requests: ONBOARD }, headers), {
      ...deps({ engine }),
    });

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({
      operationId: 'batch-onboard:burst-1',
      statusUrl: '/operations/batch-onboard:burst-1',
      existed: false,
    });
    expect(engine.started).toEqual([{ workflow: 'batch-onboard', name: 'burst-1', input: { requests: ONBOARD } }]);
  });

  it('returns the first operation to a retry and answers 409 to the same key on another batch', async () => {
    // Prepare
    const engine = new FakeEngine();
    const body = { action: 'remove', requests: [{ nodeName: 'edge-7', drain: true }] };
    const first = await handleApiRequest(post('/batches', body), deps({ engine }));

    // Act
    const retry = await handleApiRequest(post('/batches', body), deps({ engine }));
    const key = json(first).operationId.split(':')[1];
    const other = { action: 'remove', requests: [{ nodeName: 'edge-8' }] };
    const conflict = await handleApiRequest(post('/batches', other, { 'idempotency-key': key }), deps({ engine }));

    // Assess
    expect(json(first).operationId).toMatch(/^batch-remove:api-[0-9a-f]{40}$/);
    expect([first.statusCode, retry.statusCode, conflict.statusCode]).toEqual([202, 200, 409]);
    expect(json(retry).operationId).toBe(json(first).operationId);
    expect(json(conflict).code).toBe('IdempotencyConflictError');
    expect(engine.started).toHaveLength(1);
  });

  it('refuses requests that collide, naming each shared value and the requests, and starts nothing', async () => {
    // Prepare
    const engine = new FakeEngine();
    const requests = [ONBOARD[0], { ...ONBOARD[1], nodeName: 'edge-7' }];

    // Act
    const response = await handleApiRequest(post('/batches', { action: 'onboard', requests }), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(400);
    const body = json(response);
    expect(body.code).toBe('BatchCollisionError');
    expect(body.details).toEqual([expect.objectContaining({ field: 'nodeName', value: 'edge-7' })]);
    expect(body.details[0].reason).toMatch(/0 and 1/);
    expect(engine.started).toEqual([]);
  });

  it('names the action, an empty list and an unknown field at once', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(
      post('/batches', { action: 'join', requests: [], extra: 1 }),
      deps({ engine }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual(
      expect.arrayContaining([
        { field: 'action', value: 'join', reason: 'must be onboard or remove' },
        expect.objectContaining({ field: 'requests', reason: 'must hold at least one request' }),
        expect.objectContaining({ field: 'extra' }),
      ]),
    );
    expect(engine.started).toEqual([]);
  });

  it('shows a batch’s per-node results and totals at GET /operations/{id}', async () => {
    // Prepare
    const engine = new FakeEngine();
    const headers = { 'idempotency-key': 'burst-2' };
    await handleApiRequest(post('/batches', { action: 'onboard', requests: ONBOARD }, headers), deps({ engine }));
    const output = {
      workflow: 'onboard-node',
      totals: { requested: 2, joined: 1, failed: 1, skipped: 0 },
      results: [
        { index: 0, id: 'evt-1', nodeName: 'edge-7', status: 'joined', operationId: 'onboard-node:evt-1' },
        { index: 1, nodeName: 'edge-8', status: 'failed', operationId: 'onboard-node:burst-2-1' },
      ],
    };
    engine.finish('batch-onboard:burst-2', { status: 'SUCCEEDED', output, currentStep: null });

    // Act
    const response = await handleApiRequest(request('GET', '/operations/batch-onboard:burst-2'), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ workflow: 'batch-onboard', status: 'SUCCEEDED', node: null, output });
  });
});

describe('POST /drift-checks', () => {
  it('starts drift-check, report only unless remediate is true', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const plain = await handleApiRequest(post('/drift-checks', {}, { 'idempotency-key': 'd1' }), deps({ engine }));
    const fixing = await handleApiRequest(
      post('/drift-checks', { remediate: true }, { 'idempotency-key': 'd2' }),
      deps({ engine }),
    );

    // Assess
    expect([plain.statusCode, fixing.statusCode]).toEqual([202, 202]);
    expect(json(fixing).statusUrl).toBe('/operations/drift-check:d2');
    expect(engine.started).toEqual([
      { workflow: 'drift-check', name: 'd1', input: { remediate: false } },
      { workflow: 'drift-check', name: 'd2', input: { remediate: true } },
    ]);
  });

  it('refuses a remediate that is not a boolean, naming it', async () => {
    // Prepare
    const engine = new FakeEngine();

    // Act
    const response = await handleApiRequest(post('/drift-checks', { remediate: 'yes' }), deps({ engine }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details).toEqual([{ field: 'remediate', value: 'yes', reason: 'must be true or false' }]);
    expect(engine.started).toEqual([]);
  });
});

describe('GET /drift-checks/latest', () => {
  it('answers the latest stored report’s summary, never its findings list, secrets redacted', async () => {
    // Prepare
    const stored = { runId: 'drift-1', finishedAt: SUMMARY.finishedAt, remediate: false, summary: SUMMARY };
    const driftReports = { readLatest: async () => ({ ...stored, findings: [{ type: 'StaleLock' }] }) };

    // Act
    const response = await handleApiRequest(
      request('GET', '/drift-checks/latest'),
      deps({ engine: new FakeEngine(), driftReports }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toEqual({
      ...SUMMARY,
      findings: [{ ...SUMMARY.findings[0], seen: 'holder ran keadm --token=<redacted>' }],
    });
    expect(DriftSummary.safeParse(body).success).toBe(true);
  });

  it('answers 404 when no drift check has stored a report', async () => {
    // Act
    const response = await handleApiRequest(
      request('GET', '/drift-checks/latest'),
      deps({ engine: new FakeEngine(), driftReports: { readLatest: async () => null } }),
    );

    // Assess
    expect(response.statusCode).toBe(404);
    expect(json(response).code).toBe('NotFoundError');
  });

  it('answers 500 without detail when the stored report has no summary', async () => {
    // Prepare
    const seen: unknown[] = [];

    // Act
    const response = await handleApiRequest(
      request('GET', '/drift-checks/latest'),
      deps({
        engine: new FakeEngine(),
        driftReports: { readLatest: async () => ({ runId: 'x' }) },
        onInternalError: (error) => seen.push(error),
      }),
    );

    // Assess
    expect(response.statusCode).toBe(500);
    expect(seen).toHaveLength(1);
  });
});
