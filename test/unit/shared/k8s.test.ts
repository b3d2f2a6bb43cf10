import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ClusterAccessDeniedError, TransientServiceError } from '../../../functions/shared/errors';
import {
  isConflict,
  isNotFound,
  kubeClients,
  makeClients,
  mergePatch,
  statusMessage,
  statusOf,
  translateKubeError,
} from '../../../functions/shared/k8s';
import { completeSettings, readSettings, runWithEnvironment } from '../../../functions/shared/settings';
import { makeTlsMaterial, type TlsMaterial } from '../../../local/sandbox/cluster/tls';

const HEADERS = { 'audit-id': 'aa1b2c3d', 'x-kubernetes-pf-flowschema-uid': 'f00d', 'set-cookie': 'session=abc' };

function status(code: number, message: string, reason: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code };
}

function apiException(code: number, body: unknown): ApiException<unknown> {
  return new ApiException(code, 'request failed', body, HEADERS);
}

function networkError(code: string, viaCause: boolean): Error {
  const error = new Error(`request to https://10.0.0.1:6443/api/v1/nodes failed, reason: connect ${code}`);
  if (viaCause) return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(error, { code }) });
  return Object.assign(error, { name: 'FetchError', code, errno: code, type: 'system' });
}

describe('translateKubeError', () => {
  it.each([
    [429, 'TooManyRequests', 'the server has received too many requests'],
    [500, 'InternalError', 'etcdserver: request timed out'],
    [503, 'ServiceUnavailable', 'the server is currently unable to handle the request'],
  ])('makes HTTP %i a TransientServiceError saying what was done and what the API said', (code, reason, message) => {
    // Prepare
    const error = apiException(code, status(code, message, reason));

    // Act
    const translated = translateKubeError(error, 'reading node edge-1');

    // Assess
    expect(translated).toBeInstanceOf(TransientServiceError);
    expect(translated.name).toBe('TransientServiceError');
    expect((translated as TransientServiceError).transient).toBe(true);
    expect(translated.message).toBe(`reading node edge-1: HTTP ${code}: ${message}`);
  });

  it('makes HTTP 401 a permanent ClusterAccessDeniedError that says the credentials were refused', () => {
    // Act
    const translated = translateKubeError(
      apiException(401, status(401, 'Unauthorized', 'Unauthorized')),
      'reading node edge-1',
    );

    // Assess
    expect(translated).toBeInstanceOf(ClusterAccessDeniedError);
    expect(translated.message).toBe(
      "reading node edge-1: HTTP 401: Unauthorized; the cluster did not accept the steps' credentials: with cluster " +
        "auth eks the step's role needs its EKS access entry, with a kubeconfig its token may have expired " +
        '(`edgekeeper credentials create` makes a new one)',
    );
  });

  it('makes HTTP 403 a permanent ClusterAccessDeniedError that quotes the API and points to the manifest', () => {
    const message = 'nodes "edge-1" is forbidden: User "system:serviceaccount:kube-system:edgekeeper" cannot get';
    const translated = translateKubeError(apiException(403, status(403, message, 'Forbidden')), 'reading node edge-1');
    expect(translated).toBeInstanceOf(ClusterAccessDeniedError);
    expect((translated as ClusterAccessDeniedError).transient).toBe(false);
    expect(translated.message).toBe(
      `reading node edge-1: HTTP 403: ${message}; the cluster identity needs the permissions in deploy/rbac.yaml`,
    );
  });

  it.each([
    [404, 'NotFound'],
    [409, 'Conflict'],
    [422, 'Invalid'],
  ])('returns HTTP %i (%s) as it is, for the caller to decide', (code, reason) => {
    // Prepare
    const error = apiException(code, status(code, 'nodes "edge-1" ...', reason));

    // Act
    const translated = translateKubeError(error, 'reading node edge-1');

    // Assess
    expect(translated).toBe(error);
  });

  it.each([
    ['ECONNREFUSED', false],
    ['ECONNRESET', false],
    ['ETIMEDOUT', false],
    ['EAI_AGAIN', false],
    ['ENOTFOUND', false],
    ['ECONNREFUSED', true],
    ['UND_ERR_SOCKET', true],
    ['UND_ERR_CONNECT_TIMEOUT', true],
  ])('makes the network failure %s (in the cause: %s) a TransientServiceError', (code, viaCause) => {
    // Act
    const translated = translateKubeError(networkError(code, viaCause), 'listing nodes');

    // Assess
    expect(translated.name).toBe('TransientServiceError');
    expect(translated.message).toMatch(/^listing nodes: /);
  });

  it('returns a programming error as it is', () => {
    // Prepare
    const error = new TypeError("Cannot read properties of undefined (reading 'metadata')");

    // Act
    const translated = translateKubeError(error, 'reading node edge-1');

    // Assess
    expect(translated).toBe(error);
  });

  it('wraps a thrown non-Error in an Error carrying its text', () => {
    // Act
    const translated = translateKubeError('socket hang up', 'reading node edge-1');

    // Assess
    expect(translated).toBeInstanceOf(Error);
    expect(translated.message).toBe('socket hang up');
  });
});

describe('statusMessage', () => {
  it('gives the HTTP status and the Status message, and never the headers', () => {
    // Prepare
    const error = apiException(503, status(503, 'the server is currently unable to handle the request', 'Unavailable'));

    // Act
    const message = statusMessage(error);

    // Assess
    expect(message).toBe('HTTP 503: the server is currently unable to handle the request');
    for (const value of Object.values(HEADERS)) expect(message).not.toContain(value);
    expect(error.message).toContain('aa1b2c3d'); // the exception itself would have leaked them
  });

  it('reads a Status body that arrives as JSON text', () => {
    // Act
    const message = statusMessage(
      apiException(409, JSON.stringify(status(409, 'the object has been modified', 'Conflict'))),
    );

    // Assess
    expect(message).toBe('HTTP 409: the object has been modified');
  });

  it.each([
    ['no body', undefined],
    ['a body that is not JSON', '<html>502 Bad Gateway</html>'],
    ['a body without a message', { kind: 'Status', code: 502 }],
  ])('gives only the HTTP status for %s', (_case, body) => {
    // Act
    const message = statusMessage(apiException(502, body));

    // Assess
    expect(message).toBe('HTTP 502');
  });

  it('gives the message of any other error', () => {
    // Act
    const message = statusMessage(networkError('ECONNREFUSED', false));

    // Assess
    expect(message).toBe('request to https://10.0.0.1:6443/api/v1/nodes failed, reason: connect ECONNREFUSED');
  });
});

describe('statusOf, isNotFound, isConflict', () => {
  it('read the HTTP status of an ApiException and nothing else', () => {
    // Prepare
    const notFound = apiException(404, status(404, 'not found', 'NotFound'));
    const conflict = apiException(409, status(409, 'conflict', 'Conflict'));

    // Act & Assess
    expect([statusOf(notFound), isNotFound(notFound), isConflict(notFound)]).toEqual([404, true, false]);
    expect([statusOf(conflict), isNotFound(conflict), isConflict(conflict)]).toEqual([409, false, true]);
    expect(statusOf(Object.assign(new Error('x'), { code: 404 }))).toBeUndefined();
  });
});

describe('against a real HTTP server', () => {
  let server: Server;
  let core: CoreV1Api;
  let answer: { code: number; body: unknown };

  function clientFor(url: string): CoreV1Api {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
      users: [{ name: 'test', token: 'test-bearer-token' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    return config.makeApiClient(CoreV1Api);
  }

  async function failureOf(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(answer.code, { 'Content-Type': 'application/json', ...HEADERS });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    core = clientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('turns a throttled call into a TransientServiceError without headers', async () => {
    // Prepare
    answer = { code: 429, body: status(429, 'too many requests, please try again later', 'TooManyRequests') };

    // Act
    const error = translateKubeError(await failureOf(core.readNode({ name: 'edge-1' })), 'reading node edge-1');

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toBe('reading node edge-1: HTTP 429: too many requests, please try again later');
  });

  it('leaves a missing node to the caller', async () => {
    // Prepare
    answer = { code: 404, body: status(404, 'nodes "edge-1" not found', 'NotFound') };

    // Act
    const failure = await failureOf(core.readNode({ name: 'edge-1' }));

    // Assess
    expect(isNotFound(failure)).toBe(true);
    expect(translateKubeError(failure, 'reading node edge-1')).toBe(failure);
    expect(statusMessage(failure)).toBe('HTTP 404: nodes "edge-1" not found');
  });

  it('turns a refused connection into a TransientServiceError', async () => {
    // Prepare: a port that was just free is very likely still closed
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    // Act
    const error = translateKubeError(
      await failureOf(clientFor(`http://127.0.0.1:${port}`).readNode({ name: 'edge-1' })),
      'reading node edge-1',
    );

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^reading node edge-1: .*ECONNREFUSED/);
  });
});

describe('the clients kubeClients builds, against a real HTTP server', () => {
  let server: Server;
  let url: string;
  let handle: (request: IncomingMessage, response: ServerResponse) => void;
  const sockets = new Set<Socket>();

  function clientsFor(server: string, timeoutSeconds: number) {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server, skipTLSVerify: true }],
      users: [{ name: 'test', token: 'test-bearer-token' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace: 'kubeedge' }],
      currentContext: 'test',
    });
    return makeClients(config, timeoutSeconds);
  }

  async function failureOf(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return translateKubeError(error, 'reading node edge-1');
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    server = createServer((request, response) => handle(request, response));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const socket of sockets) socket.destroy();
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('send the bearer token and read the answer', async () => {
    // Prepare
    let authorization: string | undefined;
    handle = (request, response) => {
      authorization = request.headers.authorization;
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } }));
    };

    // Act
    const node = await clientsFor(url, 5).core.readNode({ name: 'edge-1' });

    // Assess
    expect(node.metadata?.name).toBe('edge-1');
    expect(authorization).toBe('Bearer test-bearer-token');
  });

  it('fail a call to a frozen API server as a TransientServiceError once the request timeout passes', async () => {
    // Prepare: the server accepts the request and never answers
    handle = () => undefined;

    // Act
    const error = await failureOf(clientsFor(url, 0.3).core.readNode({ name: 'edge-1' }));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toBe('reading node edge-1: the Kubernetes API did not answer within the request timeout');
  });

  it('bound a patch (per-call options) by the same timeout', async () => {
    // Prepare
    handle = () => undefined;

    // Act
    const error = await failureOf(
      clientsFor(url, 0.3).core.patchNode({ name: 'edge-1', body: { spec: { unschedulable: true } } }, mergePatch),
    );

    // Assess
    expect(error.name).toBe('TransientServiceError');
  });

  it('make a connection reset a TransientServiceError', async () => {
    // Prepare
    handle = (request) => request.socket.destroy();

    // Act
    const error = await failureOf(clientsFor(url, 5).core.readNode({ name: 'edge-1' }));

    // Assess
    expect(error.name).toBe('TransientServiceError');
  });

  it("make HTTP 429 a TransientServiceError carrying the server's Retry-After", async () => {
    // Prepare
    handle = (_request, response) => {
      response.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
      response.end(JSON.stringify(status(429, 'too many requests, please try again later', 'TooManyRequests')));
    };

    // Act
    const error = await failureOf(clientsFor(url, 5).core.readNode({ name: 'edge-1' }));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toBe(
      'reading node edge-1: HTTP 429: too many requests, please try again later; the server asks to retry after 3 s',
    );
  });

  it('make a DNS failure a TransientServiceError', async () => {
    // Act: .invalid never resolves (RFC 6761)
    const error = await failureOf(
      clientsFor('http://api.edgekeeper.invalid:6443', 5).core.readNode({ name: 'edge-1' }),
    );

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });
});

describe('kubeClients with cluster auth eks, against a real HTTPS API server', () => {
  const CLUSTER = 'edge-prod';
  const START = new Date('2026-12-02T07:00:00.000Z');
  const CREDENTIALS = {
    accessKeyId: 'ASIAEDGEKEEPEREXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token==',
  };
  let tls: TlsMaterial;
  let server: HttpsServer;
  let endpoint: string;
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    tls = makeTlsMaterial();
    server = createHttpsServer({ key: tls.serverKey, cert: tls.serverCert }, (request, response) => {
      authorizations.push(request.headers.authorization);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    authorizations.length = 0;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  function eksSettings(caCert = tls.caCert) {
    return readSettings({
      EDGEKEEPER_CLUSTER_AUTH: 'eks',
      EDGEKEEPER_EKS_CLUSTER_NAME: CLUSTER,
      EDGEKEEPER_CLUSTER_ENDPOINT: endpoint,
      EDGEKEEPER_CLUSTER_CA: Buffer.from(caCert).toString('base64'),
    });
  }

  /** A clock the test moves, and credentials that count how often they are asked for. */
  function signing(credentials: () => Promise<typeof CREDENTIALS> = async () => CREDENTIALS) {
    let now = START.getTime();
    const counted = Object.assign(
      async () => {
        counted.calls += 1;
        return credentials();
      },
      { calls: 0 },
    );
    return { credentials: counted, now: () => new Date(now), advance: (ms: number) => (now += ms) };
  }

  const inRegion = <T>(fn: () => T) => runWithEnvironment({ AWS_REGION: 'eu-west-1' }, fn);
  const signedAt = (authorization: string | undefined) => {
    const token = (authorization ?? '').replace(/^Bearer k8s-aws-v1\./, '');
    return new URL(Buffer.from(token, 'base64url').toString('utf8')).searchParams.get('X-Amz-Date');
  };

  it('sends an EKS token for the cluster, trusting the configured certificate authority', async () => {
    // Prepare
    const fake = signing();
    const { core } = await inRegion(() => kubeClients(eksSettings(), fake));

    // Act
    const node = await core.readNode({ name: 'edge-1' });

    // Assess
    expect(node.metadata?.name).toBe('edge-1');
    expect(authorizations).toHaveLength(1);
    expect(authorizations[0]).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(
      Buffer.from((authorizations[0] ?? '').slice('Bearer k8s-aws-v1.'.length), 'base64url').toString(),
    );
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('reuses the token before it is due and sends a new one after, on the same clients', async () => {
    // Prepare
    const fake = signing();
    const { core } = await inRegion(() => kubeClients(eksSettings(), fake));

    // Act
    await core.readNode({ name: 'edge-1' });
    fake.advance(9 * 60_000);
    await core.readNode({ name: 'edge-1' });
    fake.advance(2 * 60_000);
    await core.readNode({ name: 'edge-1' });

    // Assess
    expect(authorizations[1]).toBe(authorizations[0]);
    expect(authorizations[2]).not.toBe(authorizations[0]);
    expect(authorizations.map(signedAt)).toEqual(['20261202T070000Z', '20261202T070000Z', '20261202T071100Z']);
    expect(fake.credentials.calls).toBe(2);
  });

  it('refuses an API server whose certificate another authority signed', async () => {
    // Prepare: the settings pin a CA that did not sign the server's certificate
    const { core } = await inRegion(() => kubeClients(eksSettings(makeTlsMaterial().caCert), signing()));

    // Act
    const error = await core.readNode({ name: 'edge-1' }).then(
      () => undefined,
      (failure: Error) => failure,
    );

    // Assess
    expect(String(error)).toMatch(/unable to verify the first certificate/);
    expect(authorizations).toHaveLength(0);
  });

  it('fails the call naming the cluster and the reason when the credentials cannot be loaded, without a token', async () => {
    // Prepare
    const fake = signing(async () => {
      throw new Error('Could not load credentials from any providers');
    });
    const { core } = await inRegion(() => kubeClients(eksSettings(), fake));

    // Act
    const error = translateKubeError(
      await core.readNode({ name: 'edge-1' }).then(
        () => undefined,
        (failure: unknown) => failure,
      ),
      'reading node edge-1',
    );

    // Assess
    expect(error.name).toBe('EksTokenError');
    expect(error.message).toBe(
      'signing the EKS token for cluster edge-prod: the AWS credentials could not be loaded: ' +
        'Could not load credentials from any providers',
    );
    expect(authorizations).toHaveLength(0);
  });

  it('keeps one set of clients per cluster for the container', async () => {
    // Act: no request is made, so the default credential chain is never asked
    const [first, second] = inRegion(() => [kubeClients(eksSettings()), kubeClients(eksSettings())]);

    // Assess
    expect(second).toBe(first);
    await expect(first).resolves.toBeDefined();
  });

  it('refuses to build EKS clients without AWS_REGION, naming it', async () => {
    // Act
    const error = await runWithEnvironment({}, () => kubeClients(eksSettings(), signing())).then(
      () => undefined,
      (failure: Error) => failure,
    );

    // Assess
    expect(error?.name).toBe('SettingsError');
    expect(error?.message).toBe('cluster auth eks needs AWS_REGION: the EKS token is signed for its STS endpoint');
  });

  it('refuses settings that leave out what EKS needs, naming each', async () => {
    // Prepare: settings a caller completed without readSettings' cross-check
    const settings = completeSettings({ clusterAuth: 'eks', eksClusterName: CLUSTER });

    // Act
    const error = await inRegion(() => kubeClients(settings, signing())).then(
      () => undefined,
      (failure: Error) => failure,
    );

    // Assess
    expect(error?.name).toBe('SettingsError');
    expect(error?.message).toBe('cluster auth eks needs clusterEndpoint, clusterCertificateAuthority, which are unset');
  });
});

describe('kubeClients with a kubeconfig, when the API server refuses its credentials', () => {
  let server: Server;
  let url: string;
  let dir: string;
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      const accepted = request.headers.authorization === 'Bearer rotated-token';
      response.writeHead(accepted ? 200 : 401, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify(
          accepted
            ? { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } }
            : status(401, 'Unauthorized', 'Unauthorized'),
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'edgekeeper-k8s-test-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((resolve) => server.close(resolve));
  });

  function writeKubeconfig(path: string, token: string) {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
      users: [{ name: 'test', token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    writeFileSync(path, config.exportConfig());
  }

  it('keeps its clients while the credentials work, and reads the kubeconfig again after a 401', async () => {
    // Prepare: a kubeconfig whose token has expired
    const path = join(dir, 'kubeconfig');
    writeKubeconfig(path, 'expired-token');
    const settings = readSettings({ KUBECONFIG: path });
    const first = kubeClients(settings);
    const sameContainer = kubeClients(settings);
    const refused = await (await first).core.readNode({ name: 'edge-1' }).then(
      () => undefined,
      (failure: unknown) => translateKubeError(failure, 'reading node edge-1'),
    );

    // Act: the operator stores a new token; the next invocation of the warm container asks again
    writeKubeconfig(path, 'rotated-token');
    const next = kubeClients(settings);
    const node = await (await next).core.readNode({ name: 'edge-1' });

    // Assess
    expect(sameContainer).toBe(first);
    expect(refused?.name).toBe('ClusterAccessDeniedError');
    expect(next).not.toBe(first);
    expect(node.metadata?.name).toBe('edge-1');
    expect(authorizations).toEqual(['Bearer expired-token', 'Bearer rotated-token']);
  });
});
