import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANUAL_JOIN_WAIT_STATES } from '../../../functions/api/manual-join';
import { handleApiRequest } from '../../../functions/api/router';
import { KubeEdgeNotInstalledError, TransientServiceError } from '../../../functions/shared/errors';
import { InvalidJoinTokenError } from '../../../functions/shared/join-script';
import type { Settings } from '../../../functions/shared/settings';
import { deps, FakeEngine, json, request } from './fakes';

const MANUAL = { nodeName: 'edge-9', nodeIp: '10.20.0.91', mode: 'manual' };
const TOKEN = `${'b'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjJ9.c2lnbmF0dXJl`;
const ROTATED = `${'c'.repeat(64)}.eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjN9.c2lnbmF0dXJl`;
/** What the engine shows of a manual join that validated, locked and now waits for the node. */
const WAITING = {
  currentStep: 'Check the manual join',
  steps: [
    {
      step: 'Check the manual join',
      startedAt: '2026-12-02T08:00:05.000Z',
      endedAt: null,
      durationMs: null,
      status: 'RUNNING' as const,
    },
  ],
};

/** A join command source that hands out the given tokens in turn and records what it was asked. */
function commands(...tokens: string[]) {
  const asked: { settings: Settings; request: unknown }[] = [];
  const source = async (settings: Settings, joinRequest: unknown) => {
    asked.push({ settings, request: joinRequest });
    const token = tokens[Math.min(asked.length - 1, tokens.length - 1)];
    return `(\nprintf '%s' '${token}' >"$dir/token"\nkeadm join ...\n)\n`;
  };
  return { source, asked };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  request('POST', '/nodes', { body: JSON.stringify(body), headers });

describe('POST /nodes with mode manual', () => {
  it('answers 202 with the join command, rendered after the start; no operation view holds the token', async () => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    const { source, asked } = commands(TOKEN);
    const api = deps({ engine, joinCommand: source });

    // Act
    const response = await handleApiRequest(post(MANUAL, { 'idempotency-key': 'manual-9' }), api);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({
      operationId: 'onboard-node:manual-9',
      statusUrl: '/operations/onboard-node:manual-9',
      existed: false,
      joinCommand: expect.stringContaining(TOKEN),
    });
    expect(asked).toEqual([{ settings: api.settings, request: { ...MANUAL, taint: true, dryRun: false } }]);
    // the workflow's input never holds it, nor does anything GET /operations answers
    expect(JSON.stringify(engine.started)).not.toContain(TOKEN);
    const one = await handleApiRequest(request('GET', '/operations/onboard-node:manual-9'), api);
    const all = await handleApiRequest(request('GET', '/operations', { query: { node: 'edge-9' } }), api);
    expect(one.statusCode).toBe(200);
    expect(json(all).items).toHaveLength(1);
    for (const answer of [one, all]) expect(answer.body).not.toContain(TOKEN);
  });

  it('gives a retry with the same key the same operation and the command again, with the current token', async () => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    const { source } = commands(TOKEN, ROTATED);
    const api = deps({ engine, joinCommand: source });
    const headers = { 'idempotency-key': 'manual-9' };
    await handleApiRequest(post(MANUAL, headers), api);

    // Act
    const retry = await handleApiRequest(post(MANUAL, headers), api);

    // Assess
    expect(retry.statusCode).toBe(200);
    expect(json(retry)).toMatchObject({ operationId: 'onboard-node:manual-9', existed: true });
    expect(json(retry).joinCommand).toContain(ROTATED);
    expect(engine.started).toHaveLength(1);
  });

  it.each([
    [
      'has ended before it waited (refused, or found the node joined)',
      { status: 'FAILED' as const, currentStep: null },
    ],
    ['is not waiting yet when the answer must go', { currentStep: 'Lock the node' }],
  ])('answers joinCommand null, rendering nothing, when the operation %s', async (_case, startAs) => {
    // Prepare
    const engine = new FakeEngine(startAs);
    const { source, asked } = commands(TOKEN);

    // Act
    const response = await handleApiRequest(
      post(MANUAL),
      deps({ engine, joinCommand: source, manualJoinWait: { timeoutMs: 30, pollMs: 10 } }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response).joinCommand).toBeNull();
    expect(asked).toEqual([]);
  });

  it.each([
    ['an SSM join', { ...MANUAL, mode: undefined, instanceId: 'mi-0ed9e000000000001' }],
    ['a dry run', { ...MANUAL, dryRun: true }],
  ])('renders no command for %s', async (_case, body) => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    const { source, asked } = commands(TOKEN);

    // Act
    const response = await handleApiRequest(post(body), deps({ engine, joinCommand: source }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response)).not.toHaveProperty('joinCommand');
    expect(asked).toEqual([]);
  });

  it('says the operation started and how to get its command when the cluster cannot render it', async () => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    const joinCommand = async () => {
      throw new InvalidJoinTokenError('the join token in Secret kubeedge/tokensecret is not shaped like a token');
    };

    // Act
    const response = await handleApiRequest(
      post(MANUAL, { 'idempotency-key': 'manual-9' }),
      deps({ engine, joinCommand }),
    );

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.headers.location).toBe('/operations/onboard-node:manual-9');
    const body = json(response);
    expect(body.code).toBe('JoinCommandNotRenderedError');
    expect(body.message).toContain('operation onboard-node:manual-9 started and waits for the node');
    expect(body.message).toContain('InvalidJoinTokenError: the join token in Secret kubeedge/tokensecret');
    expect(body.message).toContain('GET /join-command?name=edge-9&ip=10.20.0.91');
    expect(body.message).toContain('times out and releases the node');
  });

  it('answers 503 with Retry-After when the cluster did not answer, and a retry then gets the command', async () => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    let calls = 0;
    const joinCommand = async () => {
      calls += 1;
      if (calls === 1) throw new TransientServiceError('reading Secret kubeedge/tokensecret: HTTP 503');
      return `keadm join --token ${TOKEN}`;
    };
    const api = deps({ engine, joinCommand });
    const headers = { 'idempotency-key': 'manual-9' };

    // Act
    const first = await handleApiRequest(post(MANUAL, headers), api);
    const retry = await handleApiRequest(post(MANUAL, headers), api);

    // Assess
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBe('5');
    expect(json(first).code).toBe('JoinCommandNotRenderedError');
    expect(retry.statusCode).toBe(200);
    expect(json(retry).joinCommand).toContain(TOKEN);
    expect(engine.started).toHaveLength(1);
  });

  it('tells the log, never the caller, what an unnamed failure was', async () => {
    // Prepare
    const engine = new FakeEngine(WAITING);
    const logged: unknown[] = [];
    const joinCommand = async () => {
      throw new Error(`socket hang up near ${TOKEN}`);
    };

    // Act
    const response = await handleApiRequest(
      post(MANUAL),
      deps({ engine, joinCommand, onInternalError: (error) => logged.push(error) }),
    );

    // Assess
    expect(response.statusCode).toBe(500);
    expect(json(response).message).toMatch(
      /^operation onboard-node:api-[0-9a-f]{40} started .* could not be rendered: /,
    );
    expect(response.body).not.toContain('socket hang up');
    expect(logged).toHaveLength(1);
  });

  it('names states the onboard-node workflow has', () => {
    // Prepare
    const asl = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', 'statemachine', 'onboard-node.asl.json'), 'utf8'),
    ) as { States: Record<string, unknown> };

    // Act & Assess
    for (const state of MANUAL_JOIN_WAIT_STATES) expect(Object.keys(asl.States)).toContain(state);
  });
});

describe('GET /join-command', () => {
  it('renders the command of the query and starts nothing', async () => {
    // Prepare
    const engine = new FakeEngine();
    const { source, asked } = commands(TOKEN);
    const query = { name: 'edge-9', ip: '10.20.0.91', kubeedgeVersion: 'v1.6.1', region: 'en', taint: 'false' };

    // Act
    const response = await handleApiRequest(
      request('GET', '/join-command', { query }),
      deps({ engine, joinCommand: source }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(json(response)).toEqual({ command: expect.stringContaining(TOKEN) });
    expect(asked.map((asking) => asking.request)).toEqual([
      { nodeName: 'edge-9', nodeIp: '10.20.0.91', taint: false, kubeedgeVersion: 'v1.6.1', region: 'en' },
    ]);
    expect(engine.started).toEqual([]);
  });

  it('answers 400 listing every bad parameter with its value and reason, rendering nothing', async () => {
    // Prepare
    const { source, asked } = commands(TOKEN);
    const query = { name: 'Edge_9', ip: '10.20.0.300', region: 'fr', taint: 'no', extra: 'x' };

    // Act
    const response = await handleApiRequest(
      request('GET', '/join-command', { query }),
      deps({ engine: new FakeEngine(), joinCommand: source }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    const details = json(response).details as { field: string; value: string; reason: string }[];
    expect(details.map(({ field, value }) => [field, value])).toEqual(
      expect.arrayContaining([
        ['name', 'Edge_9'],
        ['ip', '10.20.0.300'],
        ['region', 'fr'],
        ['taint', 'no'],
        ['extra', 'x'],
      ]),
    );
    expect(details).toHaveLength(5);
    for (const detail of details) expect(detail.reason).not.toBe('');
    expect(asked).toEqual([]);
  });

  it('requires name and ip', async () => {
    // Act
    const response = await handleApiRequest(
      request('GET', '/join-command'),
      deps({ engine: new FakeEngine(), joinCommand: commands(TOKEN).source }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).details.map((detail: { field: string }) => detail.field)).toEqual(['name', 'ip']);
  });

  it('answers 422 when the cluster has no KubeEdge to join', async () => {
    // Prepare
    const joinCommand = async () => {
      throw new KubeEdgeNotInstalledError([
        { field: 'cluster', value: undefined, reason: 'has no join token (Secret kubeedge/tokensecret)' },
      ]);
    };

    // Act
    const response = await handleApiRequest(
      request('GET', '/join-command', { query: { name: 'edge-9', ip: '10.20.0.91' } }),
      deps({ engine: new FakeEngine(), joinCommand }),
    );

    // Assess
    expect(response.statusCode).toBe(422);
    expect(json(response)).toMatchObject({
      code: 'KubeEdgeNotInstalledError',
      details: [{ field: 'cluster', value: null, reason: 'has no join token (Secret kubeedge/tokensecret)' }],
    });
  });
});
