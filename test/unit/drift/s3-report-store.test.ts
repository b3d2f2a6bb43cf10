import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Finding, finding } from '../../../functions/drift-findings/findings';
import type { DriftReportStore } from '../../../functions/drift-findings/report-store';
import { s3ReportStore } from '../../../functions/drift-findings/s3-report-store';

/**
 * The S3 report store against a real local HTTP server speaking the part of S3's REST API it uses (path-style
 * PutObject, GetObject, ListObjectsV2, CopyObject and the multipart upload), no SDK mocks: what a run stores, and
 * what the workflow sees when S3 throttles, fails or stops answering.
 */
type Handler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => boolean;

const SAVED_ENV = { ...process.env };
const BUCKET = 'reports-bucket';
let server: Server;
let url: string;
/** answers a request itself when it returns true; otherwise the fake bucket does */
let intercept: Handler;
const sockets = new Set<Socket>();
const objects = new Map<string, Buffer>();
const uploads = new Map<string, Map<number, Buffer>>();
const calls: string[] = [];

function storeWith(requestTimeoutSeconds: number, uploadPartBytes?: number): DriftReportStore {
  return s3ReportStore({ requestTimeoutSeconds }, { bucket: BUCKET, endpoint: url, uploadPartBytes });
}

function xml(response: ServerResponse, status: number, body: string) {
  response.writeHead(status, { 'Content-Type': 'application/xml' });
  return response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function s3Error(response: ServerResponse, status: number, code: string) {
  return xml(response, status, `<Error><Code>${code}</Code><Message>${code} from the test server</Message></Error>`);
}

/** The fake bucket: keys as they arrive, path-style (`/<bucket>/<key>`). */
function bucket(request: IncomingMessage, response: ServerResponse, body: Buffer) {
  const address = new URL(request.url ?? '/', 'http://s3');
  const [, bucketName, ...rest] = address.pathname.split('/');
  const key = rest.map(decodeURIComponent).join('/');
  const query = address.searchParams;
  if (bucketName !== BUCKET) return s3Error(response, 404, 'NoSuchBucket');
  if (request.method === 'GET' && query.get('list-type') === '2') {
    calls.push(`ListObjectsV2 ${query.get('prefix')}`);
    const keys = [...objects.keys()].filter((name) => name.startsWith(query.get('prefix') ?? '')).sort();
    const contents = keys.map((name) => `<Contents><Key>${name}</Key><Size>1</Size></Contents>`).join('');
    return xml(
      response,
      200,
      `<ListBucketResult><Name>${BUCKET}</Name><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
    );
  }
  if (request.method === 'GET') {
    calls.push(`GetObject ${key}`);
    const object = objects.get(key);
    if (!object) return s3Error(response, 404, 'NoSuchKey');
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': object.length });
    response.end(object);
    return;
  }
  if (request.method === 'POST' && query.has('uploads')) {
    calls.push(`CreateMultipartUpload ${key}`);
    const uploadId = `upload-${uploads.size + 1}`;
    uploads.set(uploadId, new Map());
    return xml(
      response,
      200,
      `<InitiateMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    );
  }
  if (request.method === 'PUT' && query.has('uploadId')) {
    const partNumber = Number(query.get('partNumber'));
    calls.push(`UploadPart ${key} ${partNumber}`);
    uploads.get(query.get('uploadId') ?? '')?.set(partNumber, body);
    response.writeHead(200, { ETag: `"etag-${partNumber}"` });
    response.end();
    return;
  }
  if (request.method === 'POST' && query.has('uploadId')) {
    calls.push(`CompleteMultipartUpload ${key}`);
    const parts = uploads.get(query.get('uploadId') ?? '') ?? new Map<number, Buffer>();
    objects.set(key, Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n) as Buffer)));
    return xml(
      response,
      200,
      `<CompleteMultipartUploadResult><Key>${key}</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>`,
    );
  }
  if (request.method === 'PUT' && request.headers['x-amz-copy-source']) {
    const source = decodeURIComponent(String(request.headers['x-amz-copy-source'])).replace(`${BUCKET}/`, '');
    calls.push(`CopyObject ${source} ${key}`);
    const object = objects.get(source);
    if (!object) return s3Error(response, 404, 'NoSuchKey');
    objects.set(key, object);
    return xml(response, 200, '<CopyObjectResult><ETag>"copy"</ETag></CopyObjectResult>');
  }
  if (request.method === 'PUT') {
    calls.push(`PutObject ${key}`);
    objects.set(key, body);
    response.writeHead(200, { ETag: '"put"' });
    response.end();
    return;
  }
  s3Error(response, 405, 'MethodNotAllowed');
}

const node = (n: number): Finding => finding('node-not-ready', `node/edge-${n}`, 'Ready=False', 'Ready=True');

async function* each(items: readonly Finding[]): AsyncGenerator<Finding> {
  yield* items;
}

async function collect(pages: AsyncIterable<readonly Finding[]>): Promise<Finding[][]> {
  const all: Finding[][] = [];
  for await (const page of pages) all.push([...page]);
  return all;
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret-for-tests',
  });
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!intercept(request, response, body)) bucket(request, response, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  intercept = () => false;
});

afterEach(() => {
  calls.length = 0;
  objects.clear();
  uploads.clear();
  for (const socket of sockets) socket.destroy();
});

afterAll(async () => {
  process.env = SAVED_ENV;
  await new Promise((resolve) => server.close(resolve));
});

describe('the S3 drift-report store', () => {
  it('stores parts under the run, reads back those of a prefix in order, and names the bucket as its location', async () => {
    // Prepare
    const store = storeWith(5);

    // Act
    await store.writePart('run-1', 'cluster-00002', [node(2)]);
    await store.writePart('run-1', 'cluster-00001', [node(1), node(3)]);
    await store.writePart('run-1', 'fixes-00001', [node(9)]);
    const pages = await collect(store.readParts('run-1', 'cluster-'));

    // Assess
    expect(store.location).toBe(`s3://${BUCKET}/drift-reports/`);
    expect([...objects.keys()].sort()).toEqual([
      'drift-reports/run-1/parts/cluster-00001.jsonl',
      'drift-reports/run-1/parts/cluster-00002.jsonl',
      'drift-reports/run-1/parts/fixes-00001.jsonl',
    ]);
    expect(pages).toEqual([[node(1), node(3)], [node(2)]]);
    expect(calls).toContain('ListObjectsV2 drift-reports/run-1/parts/cluster-');
  });

  it('writes a small report with one PutObject and copies it to latest.json, which readLatest returns', async () => {
    // Prepare
    const store = storeWith(5);
    const head = { runId: 'run-2', finishedAt: '2026-01-01T00:00:00.000Z', remediate: false, summary: { total: 2 } };

    // Act
    const key = await store.writeReport(head, each([node(1), node(2)]));
    const latest = await store.readLatest();

    // Assess
    expect(key).toBe('drift-reports/run-2/report.json');
    expect(JSON.parse(String(objects.get(key)))).toEqual({ ...head, findings: [node(1), node(2)] });
    expect(latest).toEqual({ ...head, findings: [node(1), node(2)] });
    expect(calls.filter((call) => !call.startsWith('GetObject'))).toEqual([
      'PutObject drift-reports/run-2/report.json',
      'CopyObject drift-reports/run-2/report.json drift-reports/latest.json',
    ]);
  });

  it('streams a report larger than a part as a multipart upload, holding one part at a time', async () => {
    // Prepare: parts of 1 KiB (S3's own minimum is 5 MiB; the fake server takes any size)
    const store = storeWith(5, 1024);
    const findings = Array.from({ length: 40 }, (_, index) => node(index));
    const head = { runId: 'run-3', finishedAt: '2026-01-01T00:00:00.000Z', remediate: true, summary: {} };

    // Act
    await store.writeReport(head, each(findings));

    // Assess
    const parts = calls.filter((call) => call.startsWith('UploadPart'));
    expect(parts.length).toBeGreaterThan(2);
    expect(calls[0]).toBe('CreateMultipartUpload drift-reports/run-3/report.json');
    expect(calls).toContain('CompleteMultipartUpload drift-reports/run-3/report.json');
    expect(calls).not.toContain('PutObject drift-reports/run-3/report.json');
    expect(JSON.parse(String(objects.get('drift-reports/latest.json')))).toEqual({ ...head, findings });
  });

  it('reads no latest report as null when no run wrote one', async () => {
    // Act
    const latest = await storeWith(5).readLatest();

    // Assess
    expect(latest).toBeNull();
    expect(calls).toEqual(['GetObject drift-reports/latest.json']);
  });

  it('refuses a run id that is not an execution name before calling S3', async () => {
    // Act
    const error = await failureOf(storeWith(5).writePart('../other', 'cluster-00001', [node(1)]));

    // Assess
    expect(error.name).toBe('DriftReportStoreError');
    expect(error.message).toBe('run id "../other" must match ^[A-Za-z0-9_-]{1,80}$');
    expect(calls).toEqual([]);
  });

  it('fails a call to a frozen S3 as a TransientServiceError within the request timeout', async () => {
    // Prepare: the server reads the request and never answers
    intercept = () => true;

    // Act
    const error = await failureOf(storeWith(0.5).writePart('run-4', 'cluster-00001', [node(1)]));

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toBe(
      `S3 did not answer within 0.5 s (s3://${BUCKET}/drift-reports/run-4/parts/cluster-00001.jsonl)`,
    );
  });

  it('makes a connection reset mid-request a TransientServiceError', async () => {
    // Prepare
    intercept = (request) => {
      request.socket.destroy();
      return true;
    };

    // Act
    const error = await failureOf(storeWith(5).readLatest());

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toMatch(/^S3 could not be reached \(s3:\/\/reports-bucket\/drift-reports\/latest\.json\)/);
  });

  it.each([
    [503, 'SlowDown'],
    [500, 'InternalError'],
  ])('makes HTTP %i %s a TransientServiceError naming it', async (status, code) => {
    // Prepare
    intercept = (_request, response) => {
      s3Error(response, status, code);
      return true;
    };

    // Act
    const error = await failureOf(storeWith(5).readLatest());

    // Assess
    expect(error.name).toBe('TransientServiceError');
    expect(error.message).toContain(`S3 ${code} (s3://${BUCKET}/drift-reports/latest.json)`);
  });

  it('leaves AccessDenied as it is: a missing grant is no reason to retry', async () => {
    // Prepare
    intercept = (_request, response) => {
      s3Error(response, 403, 'AccessDenied');
      return true;
    };

    // Act
    const error = await failureOf(storeWith(5).writePart('run-5', 'cluster-00001', [node(1)]));

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect((error as { transient?: boolean }).transient).toBeUndefined();
  });
});
