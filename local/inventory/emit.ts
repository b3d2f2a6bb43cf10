import { randomUUID } from 'node:crypto';
import { type EventOutcome, startFromInventory } from '../../functions/inventory-starter/core';
import { kubeNodeLookup } from '../../functions/inventory-starter/nodes';
import type { StarterPorts } from '../../functions/inventory-starter/ports';
import { kubeClients } from '../../functions/shared/k8s';
import { logger } from '../../functions/shared/powertools';
import { readSettings, runWithEnvironment } from '../../functions/shared/settings';
import { EXIT, type Io, shown, UsageError } from '../cli/io';
import { defaultLogFile, handlerEnvironment } from '../cli/targets';
import { ExecutionRegistry, executionsDirFor } from '../executions';
import type { WorkflowResult } from '../runtime';
import { readSandboxInfo, SandboxInfoError } from '../sandbox/sandbox';
import { drainQueue } from './consumer';
import { LocalInventoryEngine } from './engine';
import { type DeadLetter, LocalQueue } from './queue';

/*
 * `edgekeeper inventory emit --sandbox DIR --registered ID … | --retired ID …`: what a fleet inventory would
 * publish for the sandbox's hosts, delivered through an in-process queue with SQS semantics to the starter code the
 * stack deploys, and the queue drained: each event's outcome, the executions it started (waited for), and what the
 * dead-letter queue holds.
 */

export interface InventoryEmitFlags {
  readonly sandbox?: string;
  readonly registered: readonly string[];
  readonly retired: readonly string[];
  readonly name?: string;
  readonly ip?: string;
  readonly eventId?: string;
  /** JSON merged over each event's detail: a site's own fields, or a deliberately broken one */
  readonly detail?: string;
  /** every event delivered twice, as SQS may */
  readonly duplicate?: boolean;
  readonly json?: boolean;
}

/** A locally delivered event is invisible this long after a failed start before it comes back. */
const LOCAL_VISIBILITY_TIMEOUT_MS = 2_000;

/** What `emit` reports per delivery. */
export interface EmittedOutcome extends EventOutcome {
  /** how the execution carrying it ended (null: not known to this machine) */
  readonly execution?: { readonly status: string; readonly error: WorkflowResult['error'] } | null;
  /** its result in a batch execution's output (`results[]` entry whose `id` is the item id) */
  readonly item?: unknown;
}

export interface EmitReport {
  readonly events: EmittedOutcome[];
  readonly deadLetters: (DeadLetter & { readonly eventId: string | null })[];
}

/** The command: checks the flags, emits, prints; resolves to the exit code. */
export async function inventoryEmitCommand(flags: InventoryEmitFlags, io: Io): Promise<number> {
  if (!flags.sandbox) throw new UsageError('--sandbox <dir> is required: the events are those of the sandbox’s hosts');
  const count = flags.registered.length + flags.retired.length;
  if (count === 0)
    throw new UsageError('name at least one host: --registered <instance-id> or --retired <instance-id>');
  for (const flag of ['name', 'ip', 'eventId'] as const) {
    if (flags[flag] !== undefined && count > 1) {
      throw new UsageError(`--${flag === 'eventId' ? 'event-id' : flag}: only with a single --registered or --retired`);
    }
  }
  if (flags.ip !== undefined && flags.registered.length === 0) throw new UsageError('--ip: only with --registered');
  let extra: Record<string, unknown> = {};
  if (flags.detail !== undefined) {
    const parsed = parseJson(flags.detail);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`--detail ${shown(flags.detail)} must be a JSON object`);
    }
    extra = parsed as Record<string, unknown>;
  }
  let report: EmitReport;
  try {
    report = await emitInventoryEvents({ ...flags, sandbox: flags.sandbox, extraDetail: extra }, io.env);
  } catch (error) {
    if (error instanceof SandboxInfoError) {
      throw new UsageError(
        `--sandbox ${flags.sandbox}: ${error.message}; start one with: edgekeeper sandbox start --detach --dir ${flags.sandbox}`,
      );
    }
    throw error;
  }
  io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  const failed =
    report.deadLetters.length > 0 ||
    report.events.some(
      (event) =>
        (event.execution && event.execution.status !== 'SUCCEEDED') ||
        (event.item !== undefined && !['joined', 'removed'].includes(statusOfItem(event.item))),
    );
  return failed ? EXIT.workflowFailed : EXIT.ok;
}

/** Builds the events, queues them, drains the queue through the starter, and waits for what it started. */
export async function emitInventoryEvents(
  options: Omit<InventoryEmitFlags, 'detail' | 'json' | 'sandbox'> & {
    readonly sandbox: string;
    readonly extraDetail?: Record<string, unknown>;
    /** @default 250, as the CLI shortens the sandbox's pauses */
    readonly compressedWaitMs?: number;
  },
  env: NodeJS.ProcessEnv,
): Promise<EmitReport> {
  const target = { kind: 'sandbox', dir: options.sandbox } as const;
  const info = await readSandboxInfo(options.sandbox);
  const environment = await handlerEnvironment(target, defaultLogFile(target) ?? 'off');
  const handlerEnv = { ...env, ...environment };
  const settings = readSettings(handlerEnv);
  const executionsDir = executionsDirFor(target, env);

  const hostOf = (instanceId: string, flag: string) => {
    const host = info.instances.find((instance) => instance.instanceId === instanceId);
    if (!host && (options.name === undefined || (flag === '--registered' && options.ip === undefined))) {
      throw new UsageError(
        `${flag} ${shown(instanceId)} is no host of this sandbox (${info.instances.map((i) => i.instanceId).join(', ')}); ` +
          'give --name and --ip to emit for it anyway',
      );
    }
    return host;
  };
  const bodies = [
    ...options.registered.map((instanceId) => {
      const host = hostOf(instanceId, '--registered');
      return envelope(options.eventId, 'Device Registered', settings.inventorySource, {
        deviceId: host?.name ?? instanceId,
        instanceId,
        nodeName: options.name ?? host?.name,
        nodeIp: options.ip ?? host?.ipAddress,
        ...options.extraDetail,
      });
    }),
    ...options.retired.map((instanceId) => {
      const host = info.instances.find((instance) => instance.instanceId === instanceId);
      return envelope(options.eventId, 'Device Retired', settings.inventorySource, {
        deviceId: host?.name ?? instanceId,
        instanceId,
        ...(options.name !== undefined && { nodeName: options.name }),
        ...options.extraDetail,
      });
    }),
  ];

  const queue = new LocalQueue({
    visibilityTimeoutMs: LOCAL_VISIBILITY_TIMEOUT_MS,
    maxReceiveCount: settings.inventoryMaxReceiveCount,
    duplicate: () => Boolean(options.duplicate),
  });
  for (const body of bodies) queue.send(body);
  const engine = new LocalInventoryEngine({
    executionsDir,
    environment,
    waits: 'compressed',
    compressedWaitMs: options.compressedWaitMs ?? 250,
  });

  const outcomes = await runWithEnvironment(handlerEnv, async () => {
    const kube = kubeNodeLookup(await kubeClients(settings));
    const ports: StarterPorts = {
      engine,
      nodes: kube,
      deadLetters: { send: async (message, reason) => queue.sendToDeadLetters(message, reason) },
      log: {
        info: (message, attributes) => logger.info(message, attributes),
        warn: (message, attributes) => logger.warn(message, attributes),
      },
    };
    return drainQueue(
      queue,
      (messages) => startFromInventory(messages, ports, { fieldMap: settings.inventoryFieldMap }),
      {
        batchSize: settings.inventoryBatchSize,
      },
    );
  });

  const settled = new Map((await engine.settled()).map(({ run, result }) => [run.operationId, result]));
  const registry = new ExecutionRegistry(executionsDir);
  const events: EmittedOutcome[] = [];
  for (const outcome of outcomes) {
    if (!outcome.operationId) {
      events.push(outcome);
      continue;
    }
    const result = settled.get(outcome.operationId) ?? (await recorded(registry, outcome.operationId));
    const output = result?.status === 'SUCCEEDED' ? (result.output as { results?: { id?: string }[] } | null) : null;
    const item = outcome.itemId ? output?.results?.find((entry) => entry.id === outcome.itemId) : undefined;
    events.push({
      ...outcome,
      execution: result ? { status: result.status, error: result.error } : null,
      ...(item !== undefined && { item }),
    });
  }
  return {
    events,
    deadLetters: queue.deadLetters().map((dead) => ({ ...dead, eventId: eventIdOf(dead.body) })),
  };
}

/** An EventBridge event as the inventory system publishes it and SQS delivers it. */
function envelope(id: string | undefined, detailType: string, source: string, detail: Record<string, unknown>) {
  return JSON.stringify({
    version: '0',
    id: id ?? randomUUID(),
    'detail-type': detailType,
    source,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'local',
    resources: [],
    detail,
  });
}

/** An execution that ran before this command (a redelivered event), from its record. */
async function recorded(registry: ExecutionRegistry, operationId: string): Promise<WorkflowResult | null> {
  const record = await registry.read(operationId.slice(operationId.indexOf(':') + 1));
  if (!record) return null;
  return {
    status: record.result?.status === 'RUNNING' || !record.result ? 'ABORTED' : record.result.status,
    output: record.result?.output ?? null,
    error: record.result?.error ?? null,
    events: [],
  };
}

function statusOfItem(item: unknown): string {
  return String((item as { status?: unknown } | null)?.status ?? '');
}

function eventIdOf(body: string): string | null {
  const id = (parseJson(body) as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** One line per delivery, then the dead-letter queue. */
export function formatReport(report: EmitReport): string {
  const lines = report.events.map((event) => {
    const subject = `event ${event.eventId ?? '(no id)'}${event.nodeName ? ` (node ${event.nodeName})` : ''}`;
    switch (event.result) {
      case 'started':
      case 'already-started': {
        const verb = event.result === 'started' ? 'started' : 'already started';
        const item = event.itemId ? ` item ${event.itemId}${event.item ? `: ${statusOfItem(event.item)}` : ''}` : '';
        const ended = event.execution
          ? ` → ${event.execution.status}${event.execution.error ? ` ${event.execution.error.name}: ${event.execution.error.message}` : ''}`
          : '';
        return `${subject}: ${verb} ${event.operationId}${item}${ended}`;
      }
      case 'no-op':
        return `${subject}: nothing to do: ${event.reason}`;
      case 'dead-letter':
        return `${subject}: sent to the dead-letter queue: ${event.reason}`;
      default:
        return `${subject}: delivered again later: ${event.reason}`;
    }
  });
  const dead =
    report.deadLetters.length === 0
      ? ['dead-letter queue: empty']
      : [
          `dead-letter queue: ${report.deadLetters.length} message${report.deadLetters.length === 1 ? '' : 's'}`,
          ...report.deadLetters.map(
            (entry) =>
              `  ${entry.eventId ?? entry.messageId} (received ${entry.receiveCount}×): ${entry.reason ?? 'redriven after the maximum receive count'}`,
          ),
        ];
  return `${[...lines, ...dead].join('\n')}\n`;
}
