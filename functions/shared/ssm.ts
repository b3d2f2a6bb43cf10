import type * as SsmSdk from '@aws-sdk/client-ssm';
import { translateAwsError } from './aws-errors';
import { TransientServiceError } from './errors';
import { HostUnreachableError, type Invocation, type ShellCommand } from './host-commands';
import { endpointOverride } from './local-endpoint';
import { redactSecrets } from './redact';
import { sdkClient } from './sdk-clients';
import { type Settings, SettingsError } from './settings';

/**
 * The one SSM adapter: every call edgekeeper makes to SSM (Run Command, the managed-instance inventory, Parameter
 * Store) is here, bounded by the client-side request timeout and classified once (throttling, 5xx, network and
 * timeouts are TransientServiceError, which the workflows retry). Nothing else imports the SSM SDK.
 */

/**
 * The SSM SDK, loaded by the first call rather than with the step (ADR 0016): a step that calls SSM on none of its
 * invocations (a Kubernetes step with cluster auth eks) never loads it. `require`, not `import()`: the bundle is
 * CommonJS, and the SDK the Lambda runtime provides is found through NODE_PATH, which only `require` consults.
 */
let sdk: typeof SsmSdk;

/**
 * The SSM client of a Lambda (or of a local run). The sandbox overrides the endpoint; region, credentials and the
 * SDK's own retries come from the standard AWS SDK configuration chain.
 */
function ssmClient(settings: Settings): SsmSdk.SSMClient {
  const endpoint = settings.ssmEndpoint;
  return sdkClient('ssm', endpoint, settings.requestTimeoutSeconds * 1000, (requestHandler) => {
    return new sdk.SSMClient({ ...endpointOverride(endpoint), requestHandler });
  });
}

/** Sends one SSM command, giving up after the request timeout; failures are translated for `target`. */
async function call<Output>(
  settings: Settings,
  target: string,
  send: (client: SsmSdk.SSMClient, abortSignal: AbortSignal) => Promise<Output>,
): Promise<Output> {
  const seconds = settings.requestTimeoutSeconds;
  sdk ??= require('@aws-sdk/client-ssm') as typeof SsmSdk;
  try {
    return await send(ssmClient(settings), AbortSignal.timeout(seconds * 1000));
  } catch (error) {
    throw translateSsmError(error, target, seconds);
  }
}

/** Classifies a failed SSM call once (see translateAwsError). */
export function translateSsmError(error: unknown, target: string, timeoutSeconds: number): Error {
  return translateAwsError(error, {
    service: 'SSM',
    target,
    timeoutSeconds,
    transientNames: /Throttl|TooManyUpdates|RequestLimitExceeded|ServiceUnavailable|InternalServerError/,
  });
}

function unreachable(instanceId: string): HostUnreachableError {
  return new HostUnreachableError(
    `instanceId ${instanceId} cannot receive commands: not a managed instance, offline, or its SSM agent is stopped`,
  );
}

/**
 * A SecureString parameter's value (the kubeconfig, when deployed). It holds credentials: never log or return it.
 * @throws SettingsError when the parameter holds nothing
 */
export async function readSecureParameter(settings: Settings, name: string): Promise<string> {
  const { Parameter } = await call(settings, `parameter ${name}`, (client, abortSignal) =>
    client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal }),
  );
  if (!Parameter?.Value) throw new SettingsError(`SSM parameter ${name} holds no value`);
  return Parameter.Value;
}

/**
 * Stores a secret for one execution as a SecureString parameter (AWS-managed key unless `kmsKeyId`), overwriting an
 * earlier attempt's. It expires by itself at `expiresAt` (an Advanced-tier Expiration policy), a backstop for a run
 * that dies before it deletes it. The value never appears in what this returns, throws or logs.
 */
export async function putSecureParameter(
  settings: Settings,
  parameter: { readonly name: string; readonly value: string; readonly expiresAt: Date; readonly description: string },
): Promise<void> {
  await call(settings, `parameter ${parameter.name}`, (client, abortSignal) =>
    client.send(
      new sdk.PutParameterCommand({
        Name: parameter.name,
        Value: parameter.value,
        Type: 'SecureString',
        Overwrite: true,
        Tier: 'Advanced',
        Description: parameter.description.slice(0, 1024),
        Policies: JSON.stringify([
          { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: parameter.expiresAt.toISOString() } },
        ]),
      }),
      { abortSignal },
    ),
  );
}

/**
 * Writes a long-lived secret (the steps' kubeconfig) as a SecureString under the AWS-managed key, replacing the
 * value before it; the steps' roles may decrypt that key's parameters without a KMS grant. Intelligent-Tiering keeps
 * it in the free Standard tier unless the value needs Advanced (over 4 KB: a long CA bundle). Returns the new
 * version; the value never appears in what this returns, throws or logs.
 */
export async function writeSecureParameter(
  settings: Settings,
  parameter: { readonly name: string; readonly value: string; readonly description: string },
): Promise<{ version: number; tier: string }> {
  const answer = await call(settings, `parameter ${parameter.name}`, (client, abortSignal) =>
    client.send(
      new sdk.PutParameterCommand({
        Name: parameter.name,
        Value: parameter.value,
        Type: 'SecureString',
        Overwrite: true,
        Tier: 'Intelligent-Tiering',
        Description: parameter.description.slice(0, 1024),
      }),
      { abortSignal },
    ),
  );
  return { version: answer.Version ?? 0, tier: answer.Tier ?? 'Standard' };
}

/** Deletes a parameter; one that is already gone is not an error (every cleanup path may run it). */
export async function deleteParameter(settings: Settings, name: string): Promise<void> {
  try {
    await call(settings, `parameter ${name}`, (client, abortSignal) =>
      client.send(new sdk.DeleteParameterCommand({ Name: name }), { abortSignal }),
    );
  } catch (error) {
    if (error instanceof sdk.ParameterNotFound) return;
    throw error;
  }
}

/** How SSM sees a managed instance, or null when it is not registered. */
export async function describeInstance(
  settings: Settings,
  instanceId: string,
): Promise<{ pingStatus: string; platformType: string; ipAddress?: string } | null> {
  const { InstanceInformationList } = await call(settings, instanceId, (client, abortSignal) =>
    client.send(
      new sdk.DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
      {
        abortSignal,
      },
    ),
  );
  const instance = InstanceInformationList?.[0];
  return instance
    ? {
        pingStatus: instance.PingStatus ?? 'Unknown',
        platformType: instance.PlatformType ?? 'Unknown',
        // the address the agent reports: validation refuses a host whose address another node already has
        ...(instance.IPAddress ? { ipAddress: instance.IPAddress } : {}),
      }
    : null;
}

/** The most instance ids one DescribeInstanceInformation filter takes. */
const INSTANCE_IDS_PER_CALL = 50;

/**
 * The PingStatus of several managed instances, by id, in calls of at most 50 ids; an id SSM does not know is left
 * out of the answer (deregistered).
 */
export async function describeInstances(
  settings: Settings,
  instanceIds: readonly string[],
): Promise<Map<string, { pingStatus: string }>> {
  const found = new Map<string, { pingStatus: string }>();
  for (let at = 0; at < instanceIds.length; at += INSTANCE_IDS_PER_CALL) {
    const batch = instanceIds.slice(at, at + INSTANCE_IDS_PER_CALL);
    let nextToken: string | undefined;
    do {
      const answer = await call(settings, `${batch.length} instances`, (client, abortSignal) =>
        client.send(
          new sdk.DescribeInstanceInformationCommand({
            Filters: [{ Key: 'InstanceIds', Values: [...batch] }],
            MaxResults: INSTANCE_IDS_PER_CALL,
            NextToken: nextToken,
          }),
          { abortSignal },
        ),
      );
      for (const instance of answer.InstanceInformationList ?? []) {
        if (instance.InstanceId) found.set(instance.InstanceId, { pingStatus: instance.PingStatus ?? 'Unknown' });
      }
      nextToken = answer.NextToken;
    } while (nextToken);
  }
  return found;
}

/** One page (at most 50) of the managed instances carrying the tag `key=value`, and the token of the next. */
export async function listTaggedInstances(
  settings: Settings,
  tag: string,
  nextToken?: string,
): Promise<{ instanceIds: string[]; nextToken?: string }> {
  const [key, value] = tag.split('=');
  const answer = await call(settings, `instances tagged ${tag}`, (client, abortSignal) =>
    client.send(
      new sdk.DescribeInstanceInformationCommand({
        Filters: [{ Key: `tag:${key}`, Values: [value] }],
        MaxResults: INSTANCE_IDS_PER_CALL,
        NextToken: nextToken,
      }),
      { abortSignal },
    ),
  );
  return {
    instanceIds: (answer.InstanceInformationList ?? []).flatMap((instance) =>
      instance.InstanceId ? [instance.InstanceId] : [],
    ),
    ...(answer.NextToken ? { nextToken: answer.NextToken } : {}),
  };
}

/**
 * Runs a script on a host with SSM Run Command (`AWS-RunShellScript`), bounded by the configured execution
 * timeout. Returns only the command id: SSM's answer echoes the commands, which may carry a secret.
 */
export async function sendShellCommand(settings: Settings, command: ShellCommand): Promise<string> {
  try {
    const { Command } = await call(settings, command.instanceId, (client, abortSignal) =>
      client.send(
        new sdk.SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [command.instanceId],
          Parameters: {
            commands: [...command.commands],
            executionTimeout: [String(settings.hostCommandTimeoutSeconds)],
          },
          Comment: command.comment.slice(0, 100),
        }),
        { abortSignal },
      ),
    );
    if (!Command?.CommandId) throw new TransientServiceError('SSM accepted the command but returned no command id');
    return Command.CommandId;
  } catch (error) {
    if (error instanceof sdk.InvalidInstanceId) throw unreachable(command.instanceId);
    throw error;
  }
}

/**
 * Runs a script on every managed instance carrying an SSM tag (`key=value`), as Run Command targets do. SSM
 * resolves the tag after answering, so the hosts it reached are known from `describeCommand` later.
 */
export async function sendShellCommandToTagged(
  settings: Settings,
  command: { readonly tag: string; readonly commands: readonly string[]; readonly comment: string },
): Promise<string> {
  const [key, value] = command.tag.split('=');
  const { Command } = await call(settings, `tag:${command.tag}`, (client, abortSignal) =>
    client.send(
      new sdk.SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        Targets: [{ Key: `tag:${key}`, Values: [value] }],
        Parameters: { commands: [...command.commands], executionTimeout: [String(settings.routingTimeoutSeconds)] },
        Comment: command.comment.slice(0, 100),
      }),
      { abortSignal },
    ),
  );
  if (!Command?.CommandId) throw new TransientServiceError('SSM accepted the command but returned no command id');
  return Command.CommandId;
}

/** A command as a whole: its overall status and how many hosts it targets (known once SSM resolved them). */
export async function describeCommand(
  settings: Settings,
  commandId: string,
): Promise<{ status: string; targetCount: number }> {
  const { Commands } = await call(settings, commandId, (client, abortSignal) =>
    client.send(new sdk.ListCommandsCommand({ CommandId: commandId }), { abortSignal }),
  );
  const command = Commands?.[0];
  return { status: command?.Status ?? 'Pending', targetCount: command?.TargetCount ?? 0 };
}

/** Every invocation of a command (one per host), output redacted; SSM keeps the first 2,500 characters here. */
export async function listInvocations(
  settings: Settings,
  commandId: string,
): Promise<(Invocation & { readonly instanceId: string })[]> {
  const { CommandInvocations } = await call(settings, commandId, (client, abortSignal) =>
    client.send(new sdk.ListCommandInvocationsCommand({ CommandId: commandId, Details: true }), { abortSignal }),
  );
  return (CommandInvocations ?? []).map((invocation) => ({
    instanceId: invocation.InstanceId ?? 'unknown',
    status: invocation.Status ?? 'Pending',
    responseCode: invocation.CommandPlugins?.[0]?.ResponseCode ?? -1,
    stdout: redactSecrets(invocation.CommandPlugins?.[0]?.Output ?? ''),
    stderr: '',
  }));
}

/** The invocation, or null while SSM has not created it yet (InvocationDoesNotExist right after sending). */
export async function readInvocation(
  settings: Settings,
  commandId: string,
  instanceId: string,
): Promise<Invocation | null> {
  try {
    const answer = await call(settings, instanceId, (client, abortSignal) =>
      client.send(new sdk.GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }), {
        abortSignal,
      }),
    );
    return {
      status: answer.Status ?? 'Pending',
      responseCode: answer.ResponseCode ?? -1,
      stdout: redactSecrets(answer.StandardOutputContent ?? ''),
      stderr: redactSecrets(answer.StandardErrorContent ?? ''),
    };
  } catch (error) {
    if (error instanceof sdk.InvocationDoesNotExist) return null;
    if (error instanceof sdk.InvalidInstanceId) throw unreachable(instanceId);
    throw error;
  }
}

/** Stops a command that ran past its deadline; a command that already ended is not an error. */
export async function cancelCommand(settings: Settings, commandId: string, instanceId: string): Promise<void> {
  try {
    await call(settings, commandId, (client, abortSignal) =>
      client.send(new sdk.CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }), { abortSignal }),
    );
  } catch {
    // best effort: the timeout error that follows says what happened
  }
}
