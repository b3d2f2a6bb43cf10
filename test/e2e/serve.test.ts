import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operation } from '../../functions/api/engine';
import type { StopCause } from '../../local/cli/io';
import { EXIT, type Io, main } from '../../local/cli/program';
import { type ApiServer, serveCommand, startApiServer } from '../../local/cli/serve';
import { E2E, HOSTS, readyStatus } from './harness';

/**
 * `edgekeeper serve` on the sandbox, started in-process on a free port: the REST API's own router over HTTP, the
 * workflows run by the local runtime in the background. Then `edgekeeper onboard --api-url` against it prints the
 * document `--sandbox` prints (the CLI's main, in-process: the child-process CLI is tested elsewhere). Node names
 * here are this file's own.
 */

let e2e: E2E;
let server: ApiServer;

beforeAll(async () => {
  e2e = await E2E.start({ prefix: 'edgekeeper-e2e-serve-' });
  server = await startApiServer({
    target: { kind: 'sandbox', dir: e2e.dir },
    port: 0,
    env: process.env,
    compressedWaitMs: 50,
  });
});

afterAll(async () => {
  await server?.stop('the test ended');
  await e2e?.stop();
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** GET /operations/{id} until it ends. */
async function operationEnd(operationId: string): Promise<Operation> {
  for (;;) {
    const { status, body } = await call('GET', `/operations/${operationId}`);
    expect(status).toBe(200);
    const operation = body as unknown as Operation;
    if (operation.status !== 'RUNNING') return operation;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs the CLI's main in this process; resolves to its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { ...process.env, EDGEKEEPER_API_URL: '' },
    color: false,
    onStop: () => () => undefined,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

interface LoggedEvent {
  readonly type: string;
  readonly execution: string;
  readonly state?: string;
}

/**
 * The events with a polling loop's repeats as one, its last round (the one that saw the end): how many rounds a
 * wait took is timing. A round is any run of states that comes again at once, the same states in the same order.
 */
function oneRoundPerLoop<T extends LoggedEvent>(events: readonly T[]): T[] {
  const kept = [...events];
  const key = (event: T) => `${event.execution} ${event.type} ${event.state ?? ''}`;
  const same = (a: number, b: number, length: number) =>
    Array.from({ length }, (_, at) => key(kept[a + at]) === key(kept[b + at])).every(Boolean);
  for (let at = 0; at < kept.length; at++) {
    for (let length = 1; length <= 12 && at + 2 * length <= kept.length; length++) {
      if (same(at, at + length, length)) {
        kept.splice(at, length);
        length = 0;
      }
    }
  }
  return kept;
}

/**
 * A `--json` document with what differs between two runs of the same request set aside: the execution's name
 * (wherever it appears: ARN, record path, child names), the times (epoch milliseconds, ISO 8601 strings, waits and
 * durations), how many rounds a polling loop took and its round counter (`attempt`), the sandbox's random SSM
 * command ids, and the resourceVersions of the objects the run wrote (the cluster's counter moves between runs).
 */
function timeless(document: { events: LoggedEvent[] }, name: string): unknown {
  const named = JSON.parse(JSON.stringify(document).replaceAll(name, '<name>'));
  const strip = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item));
    if (typeof value === 'string')
      return ISO_TIME.test(value) || key === 'commandId' || key === 'resourceVersion' ? '<varies>' : value;
    if (typeof value === 'number' && /^(timestamp|attempt)$|(Ms|Seconds|duration)$/i.test(key)) return '<varies>';
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([field, item]) => [field, strip(item, field)]));
  };
  return strip({ ...named, events: oneRoundPerLoop(named.events) });
}

const host = () => e2e.instance(HOSTS.ubuntuAmd64);
const onboarding = () => ({ nodeName: 'edge-serve', nodeIp: host().ipAddress, instanceId: host().instanceId });

describe('edgekeeper serve on the sandbox', () => {
  it('onboards through POST /nodes: 202, the same operation for a retry, SUCCEEDED, and the node Ready', async () => {
    const headers = { 'idempotency-key': 'serve-e2e-join' };
    const started = await call('POST', '/nodes', { body: onboarding(), headers });
    expect(started).toEqual({
      status: 202,
      body: {
        operationId: 'onboard-node:serve-e2e-join',
        statusUrl: '/operations/onboard-node:serve-e2e-join',
        existed: false,
      },
    });
    const retried = await call('POST', '/nodes', { body: onboarding(), headers });
    expect(retried).toEqual({ status: 200, body: { ...started.body, existed: true } });

    const operation = await operationEnd('onboard-node:serve-e2e-join');
    expect(operation).toMatchObject({ status: 'SUCCEEDED', error: null, currentStep: null, node: 'edge-serve' });
    expect(operation.output).toMatchObject({ nodeName: 'edge-serve', alreadyJoined: false });
    expect(operation.steps.length).toBeGreaterThan(3);
    for (const step of operation.steps) expect(step).toMatchObject({ status: 'SUCCEEDED' });

    const node = await call('GET', '/nodes/edge-serve');
    expect(node).toMatchObject({
      status: 200,
      body: {
        name: 'edge-serve',
        ready: true,
        internalIP: host().ipAddress,
        instanceId: host().instanceId,
        managed: true,
        lastOperation: { operationId: 'onboard-node:serve-e2e-join', status: 'SUCCEEDED' },
      },
    });
    expect(readyStatus(await e2e.node('edge-serve'))).toBe('True');
  });

  it('answers 400 for a bad name and a bad IP, listing each with its value and reason', async () => {
    const { status, body } = await call('POST', '/nodes', {
      body: { nodeName: 'Edge_Bad', nodeIp: '10.20.0.300', instanceId: host().instanceId },
    });
    expect(status).toBe(400);
    expect(body.code).toBe('InvalidRequestError');
    const details = body.details as { field: string; value: string; reason: string }[];
    expect(details.map((detail) => [detail.field, detail.value])).toEqual([
      ['nodeName', 'Edge_Bad'],
      ['nodeIp', '10.20.0.300'],
    ]);
    for (const detail of details) expect(detail.reason).not.toBe('');
  });

  it('refuses DELETE /kubeedge without its confirmation, saying how to give it', async () => {
    const { status, body } = await call('DELETE', '/kubeedge');
    expect(status).toBe(400);
    expect(body.details).toEqual([
      { field: 'confirm', value: null, reason: expect.stringContaining('?confirm=kubeedge') },
    ]);
  });

  it('removes the node through DELETE /nodes/{name}', async () => {
    const started = await call('DELETE', '/nodes/edge-serve', { headers: { 'idempotency-key': 'serve-e2e-remove' } });
    expect(started).toMatchObject({ status: 202, body: { operationId: 'remove-node:serve-e2e-remove' } });
    const operation = await operationEnd('remove-node:serve-e2e-remove');
    expect(operation).toMatchObject({ status: 'SUCCEEDED', error: null, node: 'edge-serve', mode: 'remove' });
    expect(await call('GET', '/nodes/edge-serve')).toMatchObject({ status: 404, body: { code: 'NotFoundError' } });
    expect(await e2e.node('edge-serve')).toBeUndefined();
  });

  it('prints the same onboard --json document with --api-url against serve as with --sandbox, but for timings', async () => {
    const args = ['onboard', '--name', 'edge-serve', '--ip', host().ipAddress, '--instance', host().instanceId];
    const viaApi = await cli([...args, '--api-url', server.url, '--json', '--execution-name', 'serve-e2e-cli']);
    expect(viaApi).toMatchObject({ code: 0 });
    const removed = await call('DELETE', '/nodes/edge-serve');
    expect((await operationEnd(removed.body.operationId as string)).status).toBe('SUCCEEDED');
    const local = await cli([...args, '--sandbox', e2e.dir, '--json', '--execution-name', 'serve-e2e-local']);
    expect(local).toMatchObject({ code: 0 });

    const api = JSON.parse(viaApi.stdout);
    const sandbox = JSON.parse(local.stdout);
    expect(api.status).toBe('SUCCEEDED');
    expect(api.execution).toMatchObject({ name: 'serve-e2e-cli', replayed: false, resumed: 0 });
    expect(api.events.length).toBeGreaterThan(10);
    // the whole document, events with their inputs and outputs, once the names and the times are set aside
    expect(timeless(api, 'serve-e2e-cli')).toEqual(timeless(sandbox, 'serve-e2e-local'));
  });

  it('answers a manual POST /nodes with the join command, which no operation view holds, and waits for the device', async () => {
    const request = { nodeName: 'edge-serve-manual', nodeIp: '10.20.0.81', mode: 'manual' };
    const headers = { 'idempotency-key': 'serve-e2e-manual' };
    const started = await call('POST', '/nodes', { body: request, headers });
    expect(started).toMatchObject({ status: 202, body: { operationId: 'onboard-node:serve-e2e-manual' } });
    const command = started.body.joinCommand as string;
    expect(command).toContain('keadm join');
    // the command writes the token with `printf '%s' TOKEN >"$edgekeeper_dir/token"` (quoted when it must be)
    const token = /printf '%s' '?([^'\s]+)'? >/.exec(command)?.[1] ?? '';
    expect(token.length).toBeGreaterThan(20);

    const operation = await call('GET', '/operations/onboard-node:serve-e2e-manual');
    expect(operation.body).toMatchObject({ status: 'RUNNING', currentStep: expect.stringMatching(/manual join/) });
    // the test plays the person: runs the command on a device, as root
    const device = HOSTS.ubuntuArm64Containerd;
    const pasted = join(e2e.dir, 'hosts', device, 'root', 'root', 'edgekeeper-paste.sh');
    await mkdir(join(pasted, '..'), { recursive: true });
    await writeFile(pasted, command, { mode: 0o600 });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: expanded by the host's shell (set only on portable hosts)
    const ran = await e2e.hostRun(device, 'bash "${SANDBOX_HOST_ROOT:-}/root/edgekeeper-paste.sh"');
    await rm(pasted);
    expect(ran).toMatchObject({ code: 0 });
    expect(await operationEnd('onboard-node:serve-e2e-manual')).toMatchObject({ status: 'SUCCEEDED', error: null });

    const views = await Promise.all(
      [
        '/operations/onboard-node:serve-e2e-manual',
        '/operations/onboard-node:serve-e2e-manual/events',
        '/operations?node=edge-serve-manual',
        '/nodes',
      ].map((path) => fetch(`${server.url}${path}`).then((response) => response.text())),
    );
    for (const view of views) expect(view).not.toContain(token);
    // the node joined by hand records no instance: no host edgekeeper could reset, so the removal is forced
    const removed = await call('DELETE', '/nodes/edge-serve-manual?force=true');
    expect(await operationEnd(removed.body.operationId as string)).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(await e2e.node('edge-serve-manual')).toBeUndefined();
    expect(await e2e.lease('edge-serve-manual')).toBeUndefined();
  });

  it('stops on SIGTERM: the running onboarding rolls back and releases its lock, and serve says how it ended', async () => {
    const listeners = new Set<(cause: StopCause) => void>();
    let stderr = '';
    const io: Io = {
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
      env: process.env,
      color: false,
      onStop: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const serving = serveCommand({ sandbox: e2e.dir, port: '0' }, io);
    let url: string | undefined;
    while (!url) {
      url = /REST API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stderr).toContain('No IAM here');
    const other = e2e.instance(HOSTS.centosArmv7);
    const started = await fetch(`${url}/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'serve-e2e-stop' },
      body: JSON.stringify({ nodeName: 'edge-serve-stop', nodeIp: other.ipAddress, instanceId: other.instanceId }),
    });
    expect(started.status).toBe(202);
    // stop once the join is under way: there is something to roll back
    for (;;) {
      const operation = (await (await fetch(`${url}/operations/onboard-node:serve-e2e-stop`)).json()) as Operation;
      if (operation.steps.some((step) => step.step === 'Send the join script to the host')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const listener of [...listeners]) listener('SIGTERM');

    expect(await serving).toBe(EXIT.terminated);
    expect(stderr).toContain('SIGTERM: no new requests; stopping 1 running operation(s) at their next step');
    expect(stderr).toMatch(
      / {2}onboard-node:serve-e2e-stop: ABORTED: stopped before "[^"]+"; its failure path ran \(\d+ steps\): rolled back and released its lock\n/,
    );
    expect(stderr).toContain('edgekeeper serve: stopped.');
    await expect(fetch(`${url}/nodes`)).rejects.toThrow();
    expect(await e2e.node('edge-serve-stop')).toBeUndefined();
    expect(await e2e.lease('edge-serve-stop')).toBeUndefined();
  });
});
