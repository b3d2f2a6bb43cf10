import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type Io, main } from '../../../local/cli/program';
import { type ApiServer, startApiServer } from '../../../local/cli/serve';
import { EXECUTIONS_DIR_ENV } from '../../../local/executions';

/**
 * The HTTP side of `edgekeeper serve`, with no cluster behind it: what reaches the router and what comes back.
 * Answers that need no cluster and no workflow (validation, routing, the OpenAPI document) are enough here; the
 * e2e suite runs the workflows through it on the sandbox.
 */

let dir: string;
let server: ApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgekeeper-serve-unit-'));
  server = await startApiServer({ target: { kind: 'local' }, port: 0, env: { [EXECUTIONS_DIR_ENV]: dir } });
});

afterAll(async () => {
  await server?.stop('the test ended');
  rmSync(dir, { recursive: true, force: true });
});

function capture(): Io & { err: () => string } {
  let err = '';
  return {
    stdout: () => undefined,
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
    err: () => err,
  };
}

describe('edgekeeper serve over HTTP', () => {
  it('listens on the loopback address only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the OpenAPI document at GET /openapi.yaml', async () => {
    const response = await fetch(`${server.url}/openapi.yaml`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/yaml');
    expect(await response.text()).toMatch(/^openapi: 3\./m);
  });

  it('hands method, path, query, headers and body to the router, which answers with every problem', async () => {
    const response = await fetch(`${server.url}/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'bad key!' },
      body: JSON.stringify({ nodeName: 'Edge_1', nodeIp: '10.0.0.1', instanceId: 'mi-0ed9e000000000001' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; details: { field: string }[] };
    expect(body.code).toBe('InvalidRequestError');
    expect(body.details.map((detail) => detail.field).sort()).toEqual(['Idempotency-Key', 'nodeName']);

    const uninstall = await fetch(`${server.url}/kubeedge?force=maybe`, { method: 'DELETE' });
    expect(uninstall.status).toBe(400);
    const refused = (await uninstall.json()) as { details: { field: string; value: string | null }[] };
    expect(refused.details.map((detail) => [detail.field, detail.value])).toEqual([
      ['force', 'maybe'],
      ['confirm', null],
    ]);
  });

  it('answers an unknown route with a JSON 404 and a wrong method with 405', async () => {
    const unknown = await fetch(`${server.url}/clusters`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NotFoundError', details: [] });
    expect((await fetch(`${server.url}/operations`, { method: 'POST' })).status).toBe(405);
  });

  it('says an operation id it does not know is not found', async () => {
    const response = await fetch(`${server.url}/operations/onboard-node:nobody`);
    expect(response.status).toBe(404);
  });
});

describe('edgekeeper serve on the command line', () => {
  it('names what is wrong, with exit code 2: no target, both targets, a bad port', async () => {
    const none = capture();
    expect(await main(['serve'], none)).toBe(EXIT.usage);
    expect(none.err()).toContain('serve: choose where workflows run: --sandbox <dir> or --local');
    const both = capture();
    expect(await main(['serve', '--local', '--sandbox', dir], both)).toBe(EXIT.usage);
    expect(both.err()).toContain('serve: choose one of --sandbox <dir> and --local');
    const port = capture();
    expect(await main(['serve', '--local', '--port', '70000'], port)).toBe(EXIT.usage);
    expect(port.err()).toContain('--port "70000" must be a whole number from 0 to 65535');
    const missing = capture();
    expect(await main(['serve', '--sandbox', join(dir, 'none')], missing)).toBe(EXIT.usage);
    expect(missing.err()).toContain('edgekeeper sandbox start --detach --dir');
  });
});
