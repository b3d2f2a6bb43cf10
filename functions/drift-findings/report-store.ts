import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgekeeperError } from '../shared/errors';
import type { Finding } from './findings';

/*
 * Where drift reports live (docs/adr/0011-drift-reports.md). A run writes its findings in parts while it checks
 * (each check step streams pages, so no step holds them all), then the report step joins the parts into one report
 * object `<runId>.json` and copies it to `latest.json`, which the API returns. The port hides the medium: a
 * directory locally (beside the execution records), an S3 bucket when deployed.
 */

/** The report's head: everything but the findings, which follow it in the stored object. */
export interface ReportHead {
  readonly runId: string;
  readonly finishedAt: string;
  readonly remediate: boolean;
  readonly summary: unknown;
}

export interface DriftReportStore {
  /** where the reports are, as a person would look for them (a directory, `s3://bucket/prefix`) */
  readonly location: string;
  /** stores one page of a run's findings under `part` (a check's name and a page number) */
  writePart(runId: string, part: string, findings: readonly Finding[]): Promise<void>;
  /** the pages stored under parts whose name starts with `prefix`, one page at a time */
  readParts(runId: string, prefix: string): AsyncIterable<readonly Finding[]>;
  /**
   * Writes the report (head, then every finding the iterable yields, streamed), makes it the latest, and drops the
   * run's parts. Returns the report's key (its name in the store).
   */
  writeReport(head: ReportHead, findings: AsyncIterable<Finding>): Promise<string>;
  /** the latest report as stored, or null when no run wrote one */
  readLatest(): Promise<unknown>;
}

/** The store cannot be used: no place is configured, or a run id is not a safe name. */
export class DriftReportStoreError extends EdgekeeperError {
  override readonly name = 'DriftReportStoreError';
}

/** Run ids are execution names (Step Functions' rule), which also keeps a name inside the store's directory. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;
export const PART = /^[a-z0-9-]{1,80}$/;

/** Refuses a run id or part name that breaks its rule, naming it. */
export function checkName(kind: 'run id' | 'part', value: string, rule: RegExp): void {
  if (!rule.test(value)) {
    throw new DriftReportStoreError(`${kind} ${JSON.stringify(value.slice(0, 100))} must match ${rule.source}`);
  }
}

/**
 * Reports in a directory: `<dir>/<runId>.json` per run and `<dir>/latest.json`, parts in `<dir>/parts/<runId>/`
 * as JSON lines (one page per file). Every file is written whole (temp file and rename), so a reader never sees a
 * torn one.
 */
export function directoryReportStore(dir: string): DriftReportStore {
  const partsDir = (runId: string) => join(dir, 'parts', runId);
  return {
    location: dir,
    async writePart(runId, part, findings) {
      checkName('run id', runId, RUN_ID);
      checkName('part', part, PART);
      await mkdir(partsDir(runId), { recursive: true });
      const file = join(partsDir(runId), `${part}.jsonl`);
      await writeFile(`${file}.tmp`, findings.map((item) => `${JSON.stringify(item)}\n`).join(''));
      await rename(`${file}.tmp`, file);
    },
    async *readParts(runId, prefix) {
      checkName('run id', runId, RUN_ID);
      let names: string[];
      try {
        names = (await readdir(partsDir(runId))).filter((name) => name.startsWith(prefix) && name.endsWith('.jsonl'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const name of names.sort()) {
        const text = await readFile(join(partsDir(runId), name), 'utf8');
        yield text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Finding);
      }
    },
    async writeReport(head, findings) {
      checkName('run id', head.runId, RUN_ID);
      await mkdir(dir, { recursive: true });
      const key = `${head.runId}.json`;
      const temp = join(dir, `${key}.tmp`);
      const out = createWriteStream(temp);
      const write = (text: string) =>
        new Promise<void>((resolve, reject) => {
          if (out.write(text)) resolve();
          else out.once('drain', resolve).once('error', reject);
        });
      const { summary, ...rest } = head;
      await write(`${JSON.stringify({ ...rest, summary }).slice(0, -1)},"findings":[`);
      let first = true;
      for await (const item of findings) {
        await write(`${first ? '\n' : ',\n'}${JSON.stringify(item)}`);
        first = false;
      }
      await write('\n]}\n');
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      await rename(temp, join(dir, key));
      await copyWhole(join(dir, key), join(dir, 'latest.json'));
      await rm(partsDir(head.runId), { recursive: true, force: true });
      return key;
    },
    async readLatest() {
      try {
        return JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as unknown;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

/** Copies a file to a temp file renamed over the target: `latest.json` is never half-written. */
async function copyWhole(from: string, to: string): Promise<void> {
  await copyFile(from, `${to}.tmp`);
  await rename(`${to}.tmp`, to);
}

/**
 * A store that keeps nothing, for a deployment whose report bucket is not configured yet: the run still checks,
 * remediates, publishes and returns its summary, and says in it that the whole report was not stored, and why.
 */
export function discardingReportStore(reason: string): DriftReportStore {
  return {
    location: `not stored: ${reason}`,
    async writePart() {},
    async *readParts() {},
    async writeReport(_head, findings) {
      for await (const _ of findings) {
        // drained: the report step counts what it streams
      }
      return '';
    },
    async readLatest() {
      return null;
    },
  };
}
