import type * as S3Sdk from '@aws-sdk/client-s3';
import { translateAwsError } from '../shared/aws-errors';
import { TransientServiceError } from '../shared/errors';
import { sdkClient } from '../shared/sdk-clients';
import type { Settings } from '../shared/settings';
import type { Finding } from './findings';
import { checkName, type DriftReportStore, PART, RUN_ID } from './report-store';

/*
 * The deployed drift-report store (docs/adr/0011-drift-reports.md): objects in the stack's bucket, under one prefix
 * the steps' grant is bounded to. A run's parts are `drift-reports/<run>/parts/<part>.jsonl`, its report
 * `drift-reports/<run>/report.json`, and the latest report is copied to `drift-reports/latest.json`. The parts are
 * not deleted: the grant holds no s3:DeleteObject, and the bucket's lifecycle rule expires them with the report.
 * The bucket encrypts every object (S3-managed keys) and refuses plain HTTP.
 */

/** The one prefix of the bucket the steps may read and write (lib/constructs/step-lambda.ts grants only it). */
export const DRIFT_REPORT_PREFIX = 'drift-reports/';

/**
 * A report is uploaded in parts of this size once it outgrows one: memory stays bounded whatever the number of
 * findings. S3 takes parts of 5 MiB or more (the last aside).
 */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

export interface S3ReportStoreOptions {
  readonly bucket: string;
  /** an S3-compatible endpoint (path-style), for tests; absent: AWS's, from the SDK's configuration chain */
  readonly endpoint?: string;
  /** @default UPLOAD_PART_BYTES */
  readonly uploadPartBytes?: number;
}

/**
 * The S3 SDK, loaded by the first call rather than with the step (ADR 0016): it is the largest part of a drift
 * step's cold start. `require`, not `import()`: the bundle is CommonJS, and the SDK the Lambda runtime provides is
 * found through NODE_PATH, which only `require` consults.
 */
const sdk = () => require('@aws-sdk/client-s3') as typeof S3Sdk;

/** The S3 client, with a path-style endpoint when a local run gives one. */
function s3Client(timeoutMs: number, endpoint: string | undefined): S3Sdk.S3Client {
  return sdkClient('s3', endpoint, timeoutMs, (requestHandler) => {
    return new (sdk().S3Client)({ ...(endpoint ? { endpoint, forcePathStyle: true } : {}), requestHandler });
  });
}

/** Drift reports in an S3 bucket; every call is bounded by `requestTimeoutSeconds` and classified once. */
export function s3ReportStore(
  settings: Pick<Settings, 'requestTimeoutSeconds'>,
  options: S3ReportStoreOptions,
): DriftReportStore {
  const { bucket } = options;
  const seconds = settings.requestTimeoutSeconds;
  const partBytes = options.uploadPartBytes ?? UPLOAD_PART_BYTES;
  const call = async <Output>(
    key: string,
    send: (client: S3Sdk.S3Client, abortSignal: AbortSignal) => Promise<Output>,
  ): Promise<Output> => {
    try {
      return await send(s3Client(seconds * 1000, options.endpoint), AbortSignal.timeout(seconds * 1000));
    } catch (error) {
      throw translateS3Error(error, `s3://${bucket}/${key}`, seconds);
    }
  };
  const put = (key: string, body: string) =>
    call(key, (client, abortSignal) =>
      client.send(
        new (sdk().PutObjectCommand)({
          Bucket: bucket,
          Key: key,
          Body: Buffer.from(body),
          ContentType: contentType(key),
        }),
        { abortSignal },
      ),
    );
  const get = (key: string) =>
    call(key, async (client, abortSignal) => {
      const { Body } = await client.send(new (sdk().GetObjectCommand)({ Bucket: bucket, Key: key }), { abortSignal });
      return Body ? Body.transformToString('utf8') : '';
    });
  const partsPrefix = (runId: string) => `${DRIFT_REPORT_PREFIX}${runId}/parts/`;
  const latestKey = `${DRIFT_REPORT_PREFIX}latest.json`;

  return {
    location: `s3://${bucket}/${DRIFT_REPORT_PREFIX}`,
    async writePart(runId, part, findings) {
      checkName('run id', runId, RUN_ID);
      checkName('part', part, PART);
      await put(`${partsPrefix(runId)}${part}.jsonl`, findings.map((item) => `${JSON.stringify(item)}\n`).join(''));
    },
    async *readParts(runId, prefix) {
      checkName('run id', runId, RUN_ID);
      const listed = `${partsPrefix(runId)}${prefix}`;
      let token: string | undefined;
      do {
        const page = await call(listed, (client, abortSignal) =>
          client.send(new (sdk().ListObjectsV2Command)({ Bucket: bucket, Prefix: listed, ContinuationToken: token }), {
            abortSignal,
          }),
        );
        // S3 lists keys in UTF-8 binary order: the zero-padded page numbers come back in the order they were written
        for (const { Key } of page.Contents ?? []) {
          if (!Key?.endsWith('.jsonl')) continue;
          yield (await get(Key))
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Finding);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async writeReport(head, findings) {
      checkName('run id', head.runId, RUN_ID);
      const key = `${DRIFT_REPORT_PREFIX}${head.runId}/report.json`;
      const upload = streamingUpload(partBytes, {
        put: (body) => put(key, body.toString('utf8')),
        create: () =>
          call(key, async (client, abortSignal) => {
            const { UploadId } = await client.send(
              new (sdk().CreateMultipartUploadCommand)({ Bucket: bucket, Key: key, ContentType: contentType(key) }),
              { abortSignal },
            );
            if (!UploadId) throw new TransientServiceError(`S3 gave no upload id (s3://${bucket}/${key})`);
            return UploadId;
          }),
        uploadPart: (uploadId, partNumber, body) =>
          call(key, async (client, abortSignal) => {
            const { ETag } = await client.send(
              new (sdk().UploadPartCommand)({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: partNumber,
                Body: body,
              }),
              { abortSignal },
            );
            return ETag ?? '';
          }),
        complete: (uploadId, parts) =>
          call(key, (client, abortSignal) =>
            client.send(
              new (sdk().CompleteMultipartUploadCommand)({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                MultipartUpload: { Parts: parts.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
              }),
              { abortSignal },
            ),
          ),
      });
      const { summary, ...rest } = head;
      await upload.write(`${JSON.stringify({ ...rest, summary }).slice(0, -1)},"findings":[`);
      let first = true;
      for await (const item of findings) {
        await upload.write(`${first ? '\n' : ',\n'}${JSON.stringify(item)}`);
        first = false;
      }
      await upload.write('\n]}\n');
      await upload.end();
      // a copy inside S3: the report is never read back through the Lambda
      await call(latestKey, (client, abortSignal) =>
        client.send(
          new (sdk().CopyObjectCommand)({
            Bucket: bucket,
            Key: latestKey,
            CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          }),
          { abortSignal },
        ),
      );
      return key;
    },
    async readLatest() {
      try {
        return JSON.parse(await get(latestKey)) as unknown;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
  };
}

function contentType(key: string): string {
  return key.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/json';
}

interface UploadCalls {
  put(body: Buffer): Promise<unknown>;
  create(): Promise<string>;
  uploadPart(uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  complete(uploadId: string, etags: readonly string[]): Promise<unknown>;
}

/**
 * Writes an object of unknown length holding at most one part in memory: a small report is one PutObject; a
 * larger one becomes a multipart upload as soon as a part fills. An upload left incomplete by a failed run is
 * aborted by the bucket's lifecycle rule, so the steps need no s3:AbortMultipartUpload.
 */
function streamingUpload(partBytes: number, calls: UploadCalls) {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let uploadId: string | undefined;
  const etags: string[] = [];
  const sendPart = async () => {
    const body = Buffer.concat(chunks);
    chunks = [];
    buffered = 0;
    uploadId ??= await calls.create();
    etags.push(await calls.uploadPart(uploadId, etags.length + 1, body));
  };
  return {
    async write(text: string) {
      const chunk = Buffer.from(text, 'utf8');
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered >= partBytes) await sendPart();
    },
    async end() {
      if (uploadId === undefined) {
        await calls.put(Buffer.concat(chunks));
        return;
      }
      if (buffered > 0) await sendPart();
      await calls.complete(uploadId, etags);
    },
  };
}

/** Classifies a failed S3 call once (see translateAwsError): SlowDown is S3's throttling. */
export function translateS3Error(error: unknown, target: string, timeoutSeconds: number): Error {
  return translateAwsError(error, {
    service: 'S3',
    target,
    timeoutSeconds,
    transientNames: /SlowDown|Throttl|ServiceUnavailable|InternalError|RequestTimeout/,
  });
}
