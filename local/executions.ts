import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The local runtime's record of its executions: what Step Functions keeps for a deployed state machine, kept as
 * one JSON file per execution, `<dir>/<executionName>.json`. It serves two purposes:
 *
 * - execution names are unique, as in Step Functions: starting a name that already ran returns that execution's
 *   result and runs nothing;
 * - lock liveness: a Lease held by a local execution is free once that execution has ended, which the lock code
 *   reads here (the directory reaches the handlers as EDGEKEEPER_LOCAL_EXECUTIONS_DIR).
 *
 * Locally, unlike in Step Functions, the process running an execution can die (kill -9, a crash). Its record then
 * says RUNNING with a pid that is gone: the execution has ended for lock purposes, and starting the same name again
 * continues it, in this process, under the same name and ARN, so it finds its own locks again.
 */

/** The variable that tells handlers where the registry is. */
export const EXECUTIONS_DIR_ENV = 'EDGEKEEPER_LOCAL_EXECUTIONS_DIR';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Step Functions' rule for execution names (ASCII subset): 1 to 80 of letters, digits, `-` and `_`. */
export const EXECUTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

const StoredResult = z.object({
  status: z.enum(EXECUTION_STATUSES),
  output: z.unknown(),
  error: z.object({ name: z.string(), message: z.string() }).nullable(),
});

const ExecutionRecord = z.object({
  name: z.string(),
  arn: z.string(),
  workflow: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  /** the process running it now */
  pid: z.number().int(),
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
  /** the input it was started with: the same name with another input is refused, as in Step Functions */
  input: z.unknown().optional(),
  /** how many times a process took over this execution after the previous one died */
  resumed: z.number().int().nonnegative().default(0),
  result: StoredResult.optional(),
});
export type ExecutionRecord = z.output<typeof ExecutionRecord>;
export type StoredResult = z.output<typeof StoredResult>;

/** The same execution name was started with another workflow or input. */
export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

/** An execution name breaks Step Functions' naming rules. */
export class InvalidExecutionNameError extends Error {
  override readonly name = 'InvalidName';
}

/** What starting a name gave: this process runs it now, or it already ended with a result. */
export type Claim =
  | { readonly kind: 'run'; readonly record: ExecutionRecord }
  | { readonly kind: 'ended'; readonly record: ExecutionRecord & { result: StoredResult } };

/** Whether a process exists; EPERM means it exists under another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throws InvalidExecutionNameError unless the name follows Step Functions' rules. */
export function checkExecutionName(name: string): void {
  if (!EXECUTION_NAME_PATTERN.test(name)) {
    throw new InvalidExecutionNameError(
      `execution name ${JSON.stringify(name.length > 90 ? `${name.slice(0, 80)}…` : name)} (${name.length} characters): ` +
        'must be 1 to 80 letters, digits, - or _',
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ExecutionRegistry {
  constructor(
    readonly dir: string,
    private readonly pollMs = 200,
  ) {}

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The record of an execution name, if it ever started. */
  async read(name: string): Promise<ExecutionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return ExecutionRecord.parse(JSON.parse(text));
    } catch {
      // a record is written whole (temp file and rename): a torn one is from an older, non-atomic writer
      return undefined;
    }
  }

  /** Every execution on record. */
  async list(): Promise<ExecutionRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => this.read(n.slice(0, -'.json'.length))),
    );
    return records.filter((r): r is ExecutionRecord => r !== undefined);
  }

  /**
   * Liveness of a lock holder, by execution ARN or name: `running` while its record says RUNNING and its process
   * lives, `ended` otherwise, `unknown` when no execution of that name is on record.
   */
  async statusOf(holderId: string): Promise<'running' | 'ended' | 'unknown'> {
    const name = holderId.split(':').pop() ?? holderId;
    if (!EXECUTION_NAME_PATTERN.test(name)) return 'unknown';
    const record = await this.read(name);
    if (!record || (holderId.includes(':') && record.arn !== holderId)) return 'unknown';
    return record.status === 'RUNNING' && isProcessAlive(record.pid) ? 'running' : 'ended';
  }

  /**
   * Starts an execution name, once: a new name is claimed for this process (`run`); a name whose execution ended
   * gives its result (`ended`); a name running in a live process is waited for; a name whose process died is taken
   * over (`run` again, same ARN). Another workflow or input under a used name is ExecutionAlreadyExists.
   */
  async start(spec: { name: string; arn: string; workflow: string; input: unknown }): Promise<Claim> {
    checkExecutionName(spec.name);
    await mkdir(this.dir, { recursive: true });
    const fresh: ExecutionRecord = {
      name: spec.name,
      arn: spec.arn,
      workflow: spec.workflow,
      status: 'RUNNING',
      pid: process.pid,
      startedAt: new Date().toISOString(),
      input: spec.input,
      resumed: 0,
    };
    for (;;) {
      if (await this.create(fresh)) return { kind: 'run', record: fresh };
      const existing = await this.read(spec.name);
      if (!existing) {
        // created but not yet readable, or torn: look again shortly
        await sleep(this.pollMs);
        continue;
      }
      if (existing.workflow !== spec.workflow || !sameJson(existing.input, spec.input)) {
        throw new ExecutionAlreadyExistsError(
          `execution ${spec.name} already exists (${existing.workflow}, started ${existing.startedAt}) with ` +
            `${existing.workflow !== spec.workflow ? 'another workflow' : 'another input'}; choose another name`,
        );
      }
      if (existing.status !== 'RUNNING') {
        const result = existing.result ?? { status: existing.status, output: null, error: null };
        return { kind: 'ended', record: { ...existing, result } };
      }
      if (!isProcessAlive(existing.pid)) {
        const taken = await this.takeOver(existing);
        if (taken) return { kind: 'run', record: taken };
        continue;
      }
      await sleep(this.pollMs);
    }
  }

  /** Records how an execution this process runs ended. */
  async finish(name: string, result: StoredResult): Promise<ExecutionRecord> {
    const record = await this.read(name);
    if (!record) throw new Error(`no execution ${name} on record in ${this.dir}`);
    const ended: ExecutionRecord = {
      ...record,
      status: result.status,
      stoppedAt: new Date().toISOString(),
      result: { status: result.status, output: result.output ?? null, error: result.error },
    };
    await this.write(ended);
    return ended;
  }

  private async create(record: ExecutionRecord): Promise<boolean> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.file(record.name), 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    return true;
  }

  /** One process wins the takeover of a dead execution: the one that creates `<name>.takeover`. */
  private async takeOver(dead: ExecutionRecord): Promise<ExecutionRecord | undefined> {
    const marker = join(this.dir, `${dead.name}.takeover`);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(marker, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // a takeover in progress, or one whose process died in between: clear the latter
      const owner = Number(await readFile(marker, 'utf8').catch(() => ''));
      if (Number.isInteger(owner) && owner > 0 && !isProcessAlive(owner)) await rm(marker, { force: true });
      else await sleep(this.pollMs);
      return undefined;
    }
    try {
      await handle.writeFile(String(process.pid));
      await handle.close();
      const current = await this.read(dead.name);
      if (current?.status !== 'RUNNING' || isProcessAlive(current.pid)) return undefined;
      const taken: ExecutionRecord = { ...current, pid: process.pid, resumed: current.resumed + 1 };
      await this.write(taken);
      return taken;
    } finally {
      await rm(marker, { force: true });
    }
  }

  private async write(record: ExecutionRecord): Promise<void> {
    const temp = `${this.file(record.name)}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, this.file(record.name));
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Where the CLI keeps execution records: beside a sandbox's state (`<sandbox>/executions`) for `--sandbox`, and
 * for `--local` in the user's state directory (`$XDG_STATE_HOME/edgekeeper/executions`, by default
 * `~/.local/state/edgekeeper/executions`), so that every run from this account sees the others.
 */
export function executionsDirFor(
  target: { kind: 'local' } | { kind: 'sandbox'; dir: string },
  env: NodeJS.ProcessEnv,
): string {
  if (env[EXECUTIONS_DIR_ENV]) return env[EXECUTIONS_DIR_ENV];
  if (target.kind === 'sandbox') return join(target.dir, 'executions');
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'edgekeeper', 'executions');
}

let scratch: string | undefined;

/** A scratch directory for runs that name no registry (workflow tests), removed when this process exits. */
export function processExecutionsDir(): string {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), 'edgekeeper-executions-'));
    scratch = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}
