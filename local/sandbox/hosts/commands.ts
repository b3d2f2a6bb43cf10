import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { EdgeHost, ScriptExit, ScriptRun } from './host';
import { SsmServiceError } from './ssm-errors';
import { resolveTargets, type Target } from './targets';

/** SSM's command invocation statuses. */
export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling';

/** SSM keeps the first 24,000 characters of stdout and 8,000 of stderr in GetCommandInvocation. */
export const STDOUT_LIMIT = 24_000;
export const STDERR_LIMIT = 8_000;
/** ListCommandInvocations' plugin `Output` holds at most 2,500 characters. */
export const PLUGIN_OUTPUT_LIMIT = 2_500;
/** Exit code the Linux agent reports for a script it killed (timeout or cancel): 128 + SIGKILL. */
export const STOPPED_PREEMPTIVELY_EXIT_CODE = 137;
/** AWS-RunShellScript's default executionTimeout and SendCommand's default delivery timeout, in seconds. */
export const DEFAULT_EXECUTION_TIMEOUT_S = 3600;
export const DEFAULT_DELIVERY_TIMEOUT_S = 3600;

/** One command on one instance. */
export interface Invocation {
  readonly commandId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly documentName: string;
  readonly comment: string;
  readonly requestedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  status: InvocationStatus;
  statusDetails: string;
  /** the script's exit code; -1 until it ends */
  responseCode: number;
  stdout: string;
  stderr: string;
}

/** A command as SendCommand accepted it. */
export interface SentCommand {
  readonly commandId: string;
  readonly documentName: string;
  readonly comment: string;
  readonly parameters: Record<string, string[]>;
  /** the instances named by InstanceIds, or those the targets resolved to (empty until they are resolved) */
  readonly instanceIds: string[];
  /** SendCommand's `Targets` (empty when it named InstanceIds) */
  readonly targets: readonly Target[];
  /** false while the targets are being resolved: the command has no invocations yet, like SSM's first moments */
  resolved: boolean;
  /** cancelled before its targets were resolved */
  cancelled?: boolean;
  readonly requestedAt: Date;
  readonly expiresAfter: Date;
  readonly deliveryTimeoutSeconds: number;
  readonly executionTimeoutSeconds: number;
}

/** What SendCommand asks for, already validated by the endpoint. */
export interface SendRequest {
  documentName: string;
  commands: string[];
  /** exactly one of instanceIds and targets */
  instanceIds?: string[];
  targets?: Target[];
  executionTimeoutSeconds?: number;
  deliveryTimeoutSeconds?: number;
  comment?: string;
  parameters: Record<string, string[]>;
}

/** The instance facts the runner needs (EdgeHost, or anything that looks like one). */
export type RunnableHost = Pick<EdgeHost, 'spec' | 'dir' | 'runScript'>;

interface Running {
  /** an offline host's invocation: nothing runs, `release` ends its wait */
  offline: boolean;
  release?: () => void;
  run?: ScriptRun;
  timer?: NodeJS.Timeout;
  cancelled?: boolean;
  timedOut?: boolean;
  /** its host went offline while it ran: the invocation stops reporting until the host is back */
  disconnected?: boolean;
}

function isTerminal(status: InvocationStatus): boolean {
  return ['Success', 'Cancelled', 'TimedOut', 'Failed'].includes(status);
}

/** Keeps the first `limit` characters of a stream in memory and all of it in `file`. */
function capture(stream: Readable, file: string, limit: number, append: (text: string) => void): Promise<void> {
  const sink = createWriteStream(file);
  let kept = 0;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    sink.write(chunk);
    if (kept < limit) {
      const part = chunk.slice(0, limit - kept);
      kept += part.length;
      append(part);
    }
  });
  return new Promise((resolve) => {
    const finish = () => sink.end(() => resolve());
    stream.once('end', finish);
    stream.once('error', finish);
  });
}

/** The plugin output of ListCommandInvocations: stdout, then stderr after SSM's separator, cut at 2,500 chars. */
export function pluginOutput(stdout: string, stderr: string): string {
  const text = stderr ? `${stdout}\n----------ERROR-------\n${stderr}` : stdout;
  return text.slice(0, PLUGIN_OUTPUT_LIMIT);
}

/**
 * Runs SSM commands on the sandbox's hosts and keeps their invocations, with SSM's status semantics:
 * Pending → InProgress → Success | Failed | TimedOut (ExecutionTimedOut) | Cancelled; an offline host's
 * invocation stays Pending until its delivery timeout, then ends TimedOut (DeliveryTimedOut).
 * Each invocation is also logged to `<host dir>/commands/<commandId>.{out,err,json}`.
 */
export class CommandRunner {
  private readonly commands = new Map<string, SentCommand>();
  private readonly invocations = new Map<string, Invocation>();
  private readonly running = new Map<string, Running>();
  private readonly pending = new Set<Promise<void>>();
  private readonly resolving = new Map<string, NodeJS.Timeout>();
  private readonly offlineDeliveryTimeoutMs: number;
  private readonly targetResolutionDelayMs: number;
  /** hosts taken offline (or brought back) after the sandbox started, overriding their fixture */
  private readonly onlineOverride = new Map<string, boolean>();
  /** called when a host comes back online */
  private readonly reconnected = new Map<string, Set<() => void>>();
  /** called when an invocation reaches a terminal status (SSM's status-change event) */
  private readonly endedListeners = new Set<(invocation: Invocation) => void>();

  /**
   * @param hosts the hosts by instance id
   * @param options.offlineDeliveryTimeoutMs caps how long an offline host's invocation stays Pending (real SSM
   *   waits the whole delivery timeout, an hour by default: too long for a sandbox) @default 5000
   * @param options.targetResolutionDelayMs how long a command sent with `Targets` has no invocations: SSM resolves
   *   targets asynchronously (SendCommand answers TargetCount 0, ListCommandInvocations answers an empty list for a
   *   moment), and a poller that takes "no invocation unfinished" for "done" must fail here too @default 250
   */
  constructor(
    private readonly hosts: ReadonlyMap<string, RunnableHost>,
    options: { offlineDeliveryTimeoutMs?: number; targetResolutionDelayMs?: number } = {},
  ) {
    this.offlineDeliveryTimeoutMs = options.offlineDeliveryTimeoutMs ?? 5_000;
    this.targetResolutionDelayMs = options.targetResolutionDelayMs ?? 250;
  }

  /**
   * Accepts a command and starts it on every instance (asynchronously, like SSM). Named instances must be
   * registered; targets are resolved after `targetResolutionDelayMs` and may match no instance at all.
   */
  send(request: SendRequest): SentCommand {
    const { instanceIds, targets } = request;
    if ((instanceIds === undefined) === (targets === undefined)) {
      throw new SsmServiceError('ValidationException', 'specify either InstanceIds or Targets');
    }
    for (const id of instanceIds ?? []) {
      if (!this.hosts.has(id)) throw new SsmServiceError('InvalidInstanceId', `Instance Id ${id} is not valid`);
    }
    // Fails now, not after the delay, on a target key the sandbox cannot resolve.
    if (targets) resolveTargets(targets, []);
    const requestedAt = new Date();
    const executionTimeoutSeconds = request.executionTimeoutSeconds ?? DEFAULT_EXECUTION_TIMEOUT_S;
    const deliveryTimeoutSeconds = request.deliveryTimeoutSeconds ?? DEFAULT_DELIVERY_TIMEOUT_S;
    const command: SentCommand = {
      commandId: randomUUID(),
      documentName: request.documentName,
      comment: request.comment ?? '',
      parameters: request.parameters,
      instanceIds: [...(instanceIds ?? [])],
      targets: targets ?? [],
      resolved: targets === undefined,
      requestedAt,
      expiresAfter: new Date(requestedAt.getTime() + (deliveryTimeoutSeconds + executionTimeoutSeconds) * 1000),
      deliveryTimeoutSeconds,
      executionTimeoutSeconds,
    };
    this.commands.set(command.commandId, command);
    const script = `${request.commands.join('\n')}\n`;
    if (command.resolved) this.start(command, script);
    else {
      const timer = setTimeout(() => {
        this.resolving.delete(command.commandId);
        const specs = [...this.hosts.values()].map((h) => h.spec);
        command.instanceIds.push(...resolveTargets(command.targets, specs).map((s) => s.instanceId));
        command.resolved = true;
        this.start(command, script);
      }, this.targetResolutionDelayMs);
      this.resolving.set(command.commandId, timer);
    }
    return command;
  }

  /** Creates and starts one invocation per instance of the command. */
  private start(command: SentCommand, script: string): void {
    for (const id of command.instanceIds) {
      const host = this.hosts.get(id) as RunnableHost;
      const invocation: Invocation = {
        commandId: command.commandId,
        instanceId: id,
        instanceName: host.spec.name,
        documentName: command.documentName,
        comment: command.comment,
        requestedAt: command.requestedAt,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
      };
      this.invocations.set(this.key(command.commandId, id), invocation);
      this.track(
        this.isOnline(id)
          ? this.execute(command, host, invocation, script)
          : this.neverDeliver(command, host, invocation),
      );
    }
  }

  /** Whether the host's agent is connected now: its fixture, unless a fault hook changed it. */
  isOnline(instanceId: string): boolean {
    return this.onlineOverride.get(instanceId) ?? this.hosts.get(instanceId)?.spec.online ?? false;
  }

  /**
   * A fault hook: the host's agent loses its connection (`online: false`) or gets it back. Its running commands
   * stop reporting: they stay InProgress until the host is back (then report how they ended) or until the offline
   * cap passes (then TimedOut). With `kill`, the host lost power: its running scripts die too.
   */
  setOnline(instanceId: string, online: boolean, options: { kill: boolean }): void {
    if (!this.hosts.has(instanceId))
      throw new SsmServiceError('InvalidInstanceId', `Instance Id ${instanceId} is not valid`);
    this.onlineOverride.set(instanceId, online);
    if (online) {
      for (const wake of this.reconnected.get(instanceId) ?? []) wake();
      this.reconnected.delete(instanceId);
      return;
    }
    for (const [key, running] of this.running) {
      if (!key.endsWith(`/${instanceId}`) || running.offline) continue;
      running.disconnected = true;
      if (options.kill) running.run?.kill();
    }
  }

  /** Resolves true when the host comes back within `ms`, false otherwise. */
  private waitForReconnect(instanceId: string, ms: number): Promise<boolean> {
    if (this.isOnline(instanceId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.reconnected.get(instanceId)?.delete(wake);
        resolve(false);
      }, ms);
      const waiting = this.reconnected.get(instanceId) ?? new Set();
      waiting.add(wake);
      this.reconnected.set(instanceId, waiting);
    });
  }

  /** Calls `listener` with each invocation that reaches a terminal status; returns a function that stops it. */
  onEnded(listener: (invocation: Invocation) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** The command SendCommand returned, if any. */
  command(commandId: string): SentCommand | undefined {
    return this.commands.get(commandId);
  }

  /** Every command SendCommand returned, newest first. */
  listCommands(): SentCommand[] {
    return [...this.commands.values()].sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime());
  }

  /** One invocation, or undefined before it exists. */
  invocation(commandId: string, instanceId: string): Invocation | undefined {
    return this.invocations.get(this.key(commandId, instanceId));
  }

  /** Invocations, newest first, optionally of one command and/or one instance. */
  list(filter: { commandId?: string; instanceId?: string } = {}): Invocation[] {
    return [...this.invocations.values()]
      .filter(
        (i) =>
          (filter.commandId === undefined || i.commandId === filter.commandId) &&
          (filter.instanceId === undefined || i.instanceId === filter.instanceId),
      )
      .sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime());
  }

  /** Cancels a command's unfinished invocations (all, or those of `instanceIds`). */
  cancel(commandId: string, instanceIds?: string[]): void {
    const command = this.commands.get(commandId);
    if (!command) throw new SsmServiceError('InvalidCommandId', `Command ${commandId} was not found`);
    const timer = this.resolving.get(commandId);
    if (timer) {
      // Cancelled before its targets were resolved: it never reaches an instance.
      clearTimeout(timer);
      this.resolving.delete(commandId);
      command.resolved = true;
      command.cancelled = true;
      return;
    }
    for (const id of instanceIds?.length ? instanceIds : command.instanceIds) {
      const invocation = this.invocation(commandId, id);
      if (!invocation) throw new SsmServiceError('InvalidInstanceId', `Instance Id ${id} is not valid`);
      if (isTerminal(invocation.status)) continue;
      const running = this.running.get(this.key(commandId, id));
      if (running && !running.offline) {
        running.cancelled = true;
        invocation.status = 'Cancelling';
        invocation.statusDetails = 'Cancelling';
        running.run?.kill();
      } else {
        this.finish(invocation, 'Cancelled', 'Cancelled', -1);
        running?.release?.();
      }
    }
  }

  /** Kills every running script and waits for their invocations to settle. */
  async stop(): Promise<void> {
    for (const [commandId, timer] of this.resolving) {
      clearTimeout(timer);
      const command = this.commands.get(commandId);
      if (command) {
        command.resolved = true;
        command.cancelled = true;
      }
    }
    this.resolving.clear();
    for (const [key, running] of [...this.running]) {
      const invocation = this.invocations.get(key);
      if (running.offline) {
        if (invocation && !isTerminal(invocation.status)) this.finish(invocation, 'Cancelled', 'Cancelled', -1);
        running.release?.();
      } else {
        running.cancelled = true;
        running.run?.kill();
      }
    }
    await Promise.all([...this.pending]);
  }

  private key(commandId: string, instanceId: string): string {
    return `${commandId}/${instanceId}`;
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private logFile(invocation: Invocation, ext: 'out' | 'err' | 'json'): string {
    const host = this.hosts.get(invocation.instanceId) as RunnableHost;
    return path.join(host.dir, 'commands', `${invocation.commandId}.${ext}`);
  }

  private writeRecord(invocation: Invocation): Promise<void> {
    const { stdout: _stdout, stderr: _stderr, ...record } = invocation;
    return writeFile(this.logFile(invocation, 'json'), `${JSON.stringify(record, null, 2)}\n`).catch(() => undefined);
  }

  private finish(invocation: Invocation, status: InvocationStatus, details: string, code: number): void {
    invocation.status = status;
    invocation.statusDetails = details;
    invocation.responseCode = code;
    invocation.endedAt = new Date();
    this.running.delete(this.key(invocation.commandId, invocation.instanceId));
    void this.writeRecord(invocation);
    for (const listener of this.endedListeners) listener(invocation);
  }

  private async neverDeliver(command: SentCommand, _host: RunnableHost, invocation: Invocation): Promise<void> {
    const running: Running = { offline: true };
    this.running.set(this.key(command.commandId, invocation.instanceId), running);
    await this.writeRecord(invocation);
    const totalMs = (command.deliveryTimeoutSeconds + command.executionTimeoutSeconds) * 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          if (!isTerminal(invocation.status)) this.finish(invocation, 'TimedOut', 'DeliveryTimedOut', -1);
          resolve();
        },
        Math.min(totalMs, this.offlineDeliveryTimeoutMs),
      );
      running.release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async execute(
    command: SentCommand,
    host: RunnableHost,
    invocation: Invocation,
    script: string,
  ): Promise<void> {
    const running: Running = { offline: false };
    this.running.set(this.key(command.commandId, invocation.instanceId), running);
    let exit: ScriptExit;
    try {
      const run = await host.runScript(command.commandId, script);
      running.run = run;
      invocation.status = 'InProgress';
      invocation.statusDetails = 'InProgress';
      invocation.startedAt = new Date();
      void this.writeRecord(invocation);
      if (running.cancelled) run.kill();
      running.timer = setTimeout(() => {
        running.timedOut = true;
        run.kill();
      }, command.executionTimeoutSeconds * 1000);
      const outputs = Promise.all([
        // a disconnected host's output reaches only its own log files
        capture(run.stdout, this.logFile(invocation, 'out'), STDOUT_LIMIT, (t) => {
          if (!running.disconnected) invocation.stdout += t;
        }),
        capture(run.stderr, this.logFile(invocation, 'err'), STDERR_LIMIT, (t) => {
          if (!running.disconnected) invocation.stderr += t;
        }),
      ]);
      exit = await run.exit;
      clearTimeout(running.timer);
      // Output after a killed script's exit may never end (a grandchild holding the pipe): don't wait for it then.
      if (!running.timedOut && !running.cancelled && !running.disconnected) await outputs;
      if (
        running.disconnected &&
        !(await this.waitForReconnect(invocation.instanceId, this.offlineDeliveryTimeoutMs))
      ) {
        this.finish(invocation, 'TimedOut', 'ExecutionTimedOut', -1);
        return;
      }
    } catch (err) {
      invocation.stderr += `failed to run the script: ${(err as Error).message}`.slice(0, STDERR_LIMIT);
      this.finish(invocation, 'Failed', 'Failed', 1);
      return;
    }
    if (running.cancelled) this.finish(invocation, 'Cancelled', 'Cancelled', STOPPED_PREEMPTIVELY_EXIT_CODE);
    else if (running.timedOut) this.finish(invocation, 'TimedOut', 'ExecutionTimedOut', STOPPED_PREEMPTIVELY_EXIT_CODE);
    else {
      const code = exit.code ?? 128 + (exit.signal ? constants.signals[exit.signal] : 9);
      this.finish(invocation, code === 0 ? 'Success' : 'Failed', code === 0 ? 'Success' : 'Failed', code);
    }
  }
}
