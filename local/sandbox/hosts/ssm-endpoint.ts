import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { applyFault, type FaultPlan } from '../faults';
import { type CommandRunner, type Invocation, pluginOutput, type SentCommand } from './commands';
import { ParameterStore, resolveAgentReferences, type StoredParameter, visibleValue } from './parameters';
import { SsmServiceError } from './ssm-errors';
import { resolveTargets } from './targets';
import type { HostSpec } from './traits';

/** The SSM agent version the sandbox's instances report. */
export const SANDBOX_AGENT_VERSION = '3.3.1142.0';

/** A running SSM-compatible endpoint. */
export interface SsmEndpoint {
  /** `http://127.0.0.1:<port>`: give it to `new SSMClient({ endpoint })` */
  readonly url: string;
  stop(): Promise<void>;
}

const TargetInput = z.object({
  Key: z
    .string()
    .min(1)
    .max(163)
    .regex(/^[\p{L}\p{Z}\p{N}_.:/=\-@]*$|resource-groups:ResourceTypeFilters|resource-groups:Name/u),
  Values: z.array(z.string()).min(1).max(50),
});

const SendCommandInput = z.object({
  DocumentName: z.string(),
  InstanceIds: z.array(z.string()).min(1, 'InstanceIds must name at least one instance').max(50).optional(),
  Targets: z.array(TargetInput).min(1).max(5).optional(),
  Parameters: z.record(z.string(), z.array(z.string())).default({}),
  TimeoutSeconds: z.number().int().min(30).max(2_592_000).optional(),
  Comment: z.string().max(100).optional(),
});

const ListCommandsInput = z.object({ CommandId: z.string().optional(), InstanceId: z.string().optional() });
const ListTagsForResourceInput = z.object({ ResourceType: z.string(), ResourceId: z.string() });
const GetCommandInvocationInput = z.object({ CommandId: z.string(), InstanceId: z.string() });
const ListCommandInvocationsInput = z.object({
  CommandId: z.string().optional(),
  InstanceId: z.string().optional(),
  Details: z.boolean().optional(),
});
const PutParameterInput = z.object({
  Name: z.string(),
  Value: z.string(),
  Type: z.enum(['String', 'StringList', 'SecureString']).optional(),
  Overwrite: z.boolean().optional(),
  Tier: z.enum(['Standard', 'Advanced', 'Intelligent-Tiering']).optional(),
  Policies: z.string().optional(),
  Description: z.string().max(1024).optional(),
  KeyId: z.string().optional(),
});
const GetParameterInput = z.object({ Name: z.string(), WithDecryption: z.boolean().optional() });
const GetParametersInput = z.object({
  Names: z.array(z.string()).min(1).max(10),
  WithDecryption: z.boolean().optional(),
});
const DeleteParameterInput = z.object({ Name: z.string() });
const CancelCommandInput = z.object({ CommandId: z.string(), InstanceIds: z.array(z.string()).optional() });
const DescribeInstanceInformationInput = z.object({
  Filters: z.array(z.object({ Key: z.string(), Values: z.array(z.string()) })).optional(),
  InstanceInformationFilterList: z.array(z.object({ key: z.string(), valueSet: z.array(z.string()) })).optional(),
});

/** AWS JSON 1.1 timestamps are epoch seconds. */
function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

/** GetCommandInvocation's ExecutionStartDateTime & co. are ISO strings, empty until known. */
function isoOrEmpty(date: Date | undefined): string {
  return date?.toISOString() ?? '';
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SsmServiceError('ValidationException', z.prettifyError(parsed.error));
  return parsed.data;
}

const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

/**
 * The command's overall status from its invocations (MaxErrors 0): Pending until targets are resolved and some
 * invocation started, Success when every one succeeded (also when the targets matched no instance), otherwise the
 * worst terminal status once all ended.
 */
function commandStatus(command: SentCommand, invocations: readonly Invocation[]): { status: string; details: string } {
  if (command.cancelled) return { status: 'Cancelled', details: 'Cancelled' };
  if (!command.resolved) return { status: 'Pending', details: 'Pending' };
  if (invocations.some((i) => !TERMINAL.includes(i.status))) {
    return invocations.every((i) => i.status === 'Pending')
      ? { status: 'Pending', details: 'Pending' }
      : { status: 'InProgress', details: 'InProgress' };
  }
  for (const status of ['Cancelled', 'Failed', 'TimedOut']) {
    const first = invocations.find((i) => i.status === status);
    if (first) {
      const details = status === 'TimedOut' ? first.statusDetails.replace(/TimedOut$/, ' Timed Out') : status;
      return { status, details };
    }
  }
  return { status: 'Success', details: 'Success' };
}

function commandShape(command: SentCommand, runner: CommandRunner) {
  const invocations = runner.list({ commandId: command.commandId });
  const done = invocations.filter((i) => TERMINAL.includes(i.status));
  const { status, details } = commandStatus(command, invocations);
  return {
    CommandId: command.commandId,
    DocumentName: command.documentName,
    DocumentVersion: '$DEFAULT',
    Comment: command.comment,
    ExpiresAfter: epochSeconds(command.expiresAfter),
    Parameters: command.parameters,
    // With Targets, SSM answers InstanceIds [] (and TargetCount 0 until the targets are resolved).
    InstanceIds: command.targets.length ? [] : command.instanceIds,
    Targets: command.targets,
    RequestedDateTime: epochSeconds(command.requestedAt),
    Status: status,
    StatusDetails: details,
    OutputS3Region: '',
    MaxConcurrency: '50',
    MaxErrors: '0',
    TargetCount: command.instanceIds.length,
    CompletedCount: done.length,
    ErrorCount: done.filter((i) => i.status === 'Failed').length,
    DeliveryTimedOutCount: done.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
    TimeoutSeconds: command.deliveryTimeoutSeconds,
  };
}

function elapsed(invocation: Invocation): string {
  if (!invocation.startedAt) return '';
  const ms = (invocation.endedAt ?? new Date()).getTime() - invocation.startedAt.getTime();
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `PT${pad(Math.floor(s / 3600))}H${pad(Math.floor((s % 3600) / 60))}M${pad(s % 60)}.${String(ms % 1000).padStart(3, '0')}S`;
}

function invocationShape(invocation: Invocation, details: boolean) {
  return {
    CommandId: invocation.commandId,
    InstanceId: invocation.instanceId,
    InstanceName: invocation.instanceName,
    Comment: invocation.comment,
    DocumentName: invocation.documentName,
    DocumentVersion: '$DEFAULT',
    RequestedDateTime: epochSeconds(invocation.requestedAt),
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    CommandPlugins: details
      ? [
          {
            Name: 'aws:runShellScript',
            Status: invocation.status,
            StatusDetails: invocation.statusDetails,
            ResponseCode: invocation.responseCode,
            ResponseStartDateTime: epochSeconds(invocation.startedAt),
            ResponseFinishDateTime: epochSeconds(invocation.endedAt),
            Output: pluginOutput(invocation.stdout, invocation.stderr),
            StandardOutputUrl: '',
            StandardErrorUrl: '',
            OutputS3Region: '',
          },
        ]
      : [],
  };
}

/** A parameter as GetParameter(s) answers it: a SecureString's value only when decryption was asked for. */
function parameterShape(parameter: StoredParameter, withDecryption: boolean) {
  return {
    Name: parameter.name,
    Type: parameter.type,
    Value: visibleValue(parameter, withDecryption),
    Version: parameter.version,
    LastModifiedDate: epochSeconds(parameter.lastModified),
    DataType: 'text',
  };
}

/** DescribeInstanceInformation's entry for a host. */
export function instanceInformation(spec: HostSpec, startedAt: Date) {
  return {
    InstanceId: spec.instanceId,
    PingStatus: spec.online ? 'Online' : 'ConnectionLost',
    LastPingDateTime: epochSeconds(spec.online ? new Date() : startedAt),
    AgentVersion: SANDBOX_AGENT_VERSION,
    IsLatestVersion: true,
    PlatformType: 'Linux',
    PlatformName: spec.os === 'ubuntu' ? 'Ubuntu' : 'CentOS Linux',
    PlatformVersion: spec.osVersion,
    ResourceType: 'ManagedInstance',
    Name: spec.name,
    ComputerName: spec.name,
    IPAddress: spec.ipAddress,
    RegistrationDate: epochSeconds(startedAt),
    IamRole: 'edgekeeper-sandbox-ssm',
    ActivationId: '00000000-0000-4000-8000-000000000000',
  };
}

type Handler = (body: unknown) => unknown;

/**
 * Starts an HTTP server on 127.0.0.1 (random port) that speaks SSM's AWS JSON 1.1 protocol for the operations
 * edgekeeper uses. Signatures are not checked: the sandbox trusts loopback callers, as the SDK needs dummy
 * credentials anyway.
 */
export async function startSsmEndpoint(options: {
  runner: CommandRunner;
  instances: readonly HostSpec[];
  /** faults to inject into requests (fault-injection tests) */
  faults?: FaultPlan;
  /** Parameter Store (shared with whatever reads it besides the endpoint); default: an empty one */
  parameters?: ParameterStore;
}): Promise<SsmEndpoint> {
  const { runner } = options;
  const parameters = options.parameters ?? new ParameterStore();
  const startedAt = new Date();
  const specs = new Map(options.instances.map((s) => [s.instanceId, s]));

  const operations: Record<string, Handler> = {
    SendCommand(body) {
      const input = parse(SendCommandInput, body);
      if (input.DocumentName !== 'AWS-RunShellScript') {
        throw new SsmServiceError('InvalidDocument', `Document ${input.DocumentName} does not exist in the sandbox`);
      }
      const commands = input.Parameters.commands;
      if (!commands?.length) throw new SsmServiceError('InvalidParameters', 'Parameters.commands is required');
      const timeout = input.Parameters.executionTimeout?.[0];
      const executionTimeoutSeconds = timeout === undefined ? undefined : Number(timeout);
      if (
        executionTimeoutSeconds !== undefined &&
        !(
          Number.isInteger(executionTimeoutSeconds) &&
          executionTimeoutSeconds >= 1 &&
          executionTimeoutSeconds <= 172_800
        )
      ) {
        throw new SsmServiceError('InvalidParameters', `executionTimeout must be 1-172800 seconds, got ${timeout}`);
      }
      // A lone `InstanceIds` target is SendCommand's InstanceIds (SSM answers with InstanceIds filled, Targets []).
      const [only, ...others] = input.Targets ?? [];
      const idsTarget = only?.Key.toLowerCase() === 'instanceids' && others.length === 0 && !input.InstanceIds;
      const instanceIds = idsTarget ? only.Values : input.InstanceIds;
      const targets = idsTarget ? undefined : input.Targets;
      const command = runner.send({
        documentName: input.DocumentName,
        // what the agent runs; the command keeps the references as sent (ListCommands shows those)
        commands: resolveAgentReferences(commands, parameters),
        ...(instanceIds === undefined ? {} : { instanceIds }),
        ...(targets === undefined ? {} : { targets }),
        parameters: input.Parameters,
        ...(executionTimeoutSeconds === undefined ? {} : { executionTimeoutSeconds }),
        ...(input.TimeoutSeconds === undefined ? {} : { deliveryTimeoutSeconds: input.TimeoutSeconds }),
        ...(input.Comment === undefined ? {} : { comment: input.Comment }),
      });
      return { Command: commandShape(command, runner) };
    },
    GetCommandInvocation(body) {
      const input = parse(GetCommandInvocationInput, body);
      if (!specs.has(input.InstanceId)) {
        throw new SsmServiceError('InvalidInstanceId', `Instance Id ${input.InstanceId} is not valid`);
      }
      const invocation = runner.invocation(input.CommandId, input.InstanceId);
      if (!invocation) throw new SsmServiceError('InvocationDoesNotExist', 'The command invocation does not exist');
      return {
        CommandId: invocation.commandId,
        InstanceId: invocation.instanceId,
        Comment: invocation.comment,
        DocumentName: invocation.documentName,
        DocumentVersion: '$DEFAULT',
        PluginName: 'aws:runShellScript',
        ResponseCode: invocation.responseCode,
        ExecutionStartDateTime: isoOrEmpty(invocation.startedAt),
        ExecutionElapsedTime: elapsed(invocation),
        ExecutionEndDateTime: isoOrEmpty(invocation.endedAt),
        Status: invocation.status,
        StatusDetails: invocation.statusDetails,
        StandardOutputContent: invocation.stdout,
        StandardOutputUrl: '',
        StandardErrorContent: invocation.stderr,
        StandardErrorUrl: '',
        CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      };
    },
    ListCommandInvocations(body) {
      const input = parse(ListCommandInvocationsInput, body);
      if (input.CommandId !== undefined && !runner.command(input.CommandId)) {
        throw new SsmServiceError('InvalidCommandId', `Command ${input.CommandId} was not found`);
      }
      const filter = {
        ...(input.CommandId === undefined ? {} : { commandId: input.CommandId }),
        ...(input.InstanceId === undefined ? {} : { instanceId: input.InstanceId }),
      };
      return { CommandInvocations: runner.list(filter).map((i) => invocationShape(i, input.Details ?? false)) };
    },
    ListCommands(body) {
      const input = parse(ListCommandsInput, body);
      if (input.CommandId !== undefined && !runner.command(input.CommandId)) {
        throw new SsmServiceError('InvalidCommandId', `Command ${input.CommandId} was not found`);
      }
      const commands = runner
        .listCommands()
        .filter((c) => input.CommandId === undefined || c.commandId === input.CommandId)
        .filter((c) => input.InstanceId === undefined || c.instanceIds.includes(input.InstanceId));
      return { Commands: commands.map((c) => commandShape(c, runner)) };
    },
    ListTagsForResource(body) {
      const input = parse(ListTagsForResourceInput, body);
      const spec = specs.get(input.ResourceId);
      if (input.ResourceType !== 'ManagedInstance' || !spec) {
        throw new SsmServiceError('InvalidResourceId', `${input.ResourceType} ${input.ResourceId} was not found`);
      }
      return { TagList: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })) };
    },
    PutParameter(body) {
      const input = parse(PutParameterInput, body);
      const stored = parameters.put({
        name: input.Name,
        value: input.Value,
        ...(input.Type ? { type: input.Type } : {}),
        ...(input.Overwrite === undefined ? {} : { overwrite: input.Overwrite }),
        // policies need Advanced; Intelligent-Tiering picks the tier by what the parameter needs, as SSM does
        ...(input.Tier
          ? {
              tier:
                input.Tier === 'Intelligent-Tiering'
                  ? input.Tier
                  : input.Tier === 'Standard' && !input.Policies
                    ? 'Standard'
                    : 'Advanced',
            }
          : {}),
        ...(input.Policies === undefined ? {} : { policies: input.Policies }),
      });
      return { Version: stored.version, Tier: stored.tier };
    },
    GetParameter(body) {
      const input = parse(GetParameterInput, body);
      const parameter = parameters.get(input.Name);
      if (!parameter) throw new SsmServiceError('ParameterNotFound', `Parameter ${input.Name} not found.`);
      return { Parameter: parameterShape(parameter, input.WithDecryption ?? false) };
    },
    GetParameters(body) {
      const input = parse(GetParametersInput, body);
      const found = input.Names.flatMap((name) => parameters.get(name) ?? []);
      return {
        Parameters: found.map((p) => parameterShape(p, input.WithDecryption ?? false)),
        InvalidParameters: input.Names.filter((name) => !parameters.get(name)),
      };
    },
    DeleteParameter(body) {
      parameters.delete(parse(DeleteParameterInput, body).Name);
      return {};
    },
    CancelCommand(body) {
      const input = parse(CancelCommandInput, body);
      runner.cancel(input.CommandId, input.InstanceIds);
      return {};
    },
    DescribeInstanceInformation(body) {
      const input = parse(DescribeInstanceInformationInput, body);
      const wanted = (key: string): string[] | undefined => {
        const values = [
          ...(input.Filters ?? []).filter((f) => f.Key === key).flatMap((f) => f.Values),
          ...(input.InstanceInformationFilterList ?? []).filter((f) => f.key === key).flatMap((f) => f.valueSet),
        ];
        return values.length ? values : undefined;
      };
      const ids = wanted('InstanceIds');
      const pingStatus = wanted('PingStatus');
      // `tag:<key>` and `tag-key` filters select like SendCommand's Targets (Filters only, as in SSM).
      const tagTargets = (input.Filters ?? [])
        .filter((f) => f.Key.startsWith('tag:') || f.Key === 'tag-key')
        .map((f) => ({ Key: f.Key, Values: f.Values }));
      const tagged = new Set(resolveTargets(tagTargets, [...specs.values()]).map((s) => s.instanceId));
      const list = [...specs.values()]
        .filter((s) => !ids || ids.includes(s.instanceId))
        .filter((s) => tagged.has(s.instanceId))
        .map((s) => instanceInformation({ ...s, online: runner.isOnline(s.instanceId) }, startedAt))
        .filter((i) => !pingStatus || pingStatus.includes(i.PingStatus));
      return { InstanceInformationList: list };
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestId = randomUUID();
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
        res.end(JSON.stringify(payload));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const serve = () => {
        try {
          const operation = target.startsWith('AmazonSSM.') ? operations[target.slice('AmazonSSM.'.length)] : undefined;
          if (req.method !== 'POST' || !operation) {
            throw new SsmServiceError(
              'UnknownOperationException',
              `the sandbox does not implement ${target || req.method}`,
            );
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : {};
          } catch {
            throw new SsmServiceError('SerializationException', 'request body is not JSON');
          }
          reply(200, operation(body));
        } catch (err) {
          if (err instanceof SsmServiceError) reply(err.statusCode, { __type: err.type, message: err.message });
          else reply(500, { __type: 'InternalServerError', message: (err as Error).message });
        }
      };
      const fault = options.faults?.take('ssm', {
        method: req.method ?? 'POST',
        path: req.url ?? '/',
        operation: target.replace(/^AmazonSSM\./, ''),
      });
      if (!fault) return serve();
      void applyFault(fault, req, (status, retryAfterSeconds, message) => {
        if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
        // 400 is how SSM throttles (ThrottlingException); 5xx are its internal errors
        const type =
          status === 400 ? 'ThrottlingException' : status >= 500 ? 'InternalServerError' : 'ServiceUnavailable';
        reply(status, { __type: type, message });
      }).then((handled) => {
        if (!handled) serve();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  options.faults?.attachRefuser('ssm', async (ms) => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, ms));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
