import { SFNClient } from '@aws-sdk/client-sfn';
import { kubeClients } from '../shared/k8s';
import { type LambdaContext, logger, traced } from '../shared/powertools';
import { readSettings, type Settings } from '../shared/settings';
import { startFromInventory } from './core';
import { STARTER_ENV } from './environment';
import { kubeNodeLookup } from './nodes';
import type { NodeLookup, QueueMessage, StarterPorts } from './ports';
import { sfnStarter } from './sfn-starter';
import { deadLetterClient, sqsDeadLetters } from './sqs-dead-letters';

/** The fields of an SQS event the starter reads (`@types/aws-lambda` is not a dependency). */
export interface SqsEvent {
  readonly Records: readonly {
    readonly messageId: string;
    readonly body: string;
    readonly attributes?: { readonly ApproximateReceiveCount?: string };
  }[];
}

/** SQS partial batch response: the messages to deliver again. */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

let deps: { settings: Settings; ports: StarterPorts } | undefined;

/** Once per container. A missing ARN or a bad setting fails the invocation: the whole batch comes back. */
function dependencies(env = process.env): { settings: Settings; ports: StarterPorts } {
  if (deps) return deps;
  const stateMachines = Object.fromEntries(
    Object.entries(STARTER_ENV.stateMachines).map(([workflow, variable]) => [workflow, env[variable] ?? '']),
  );
  const missing = Object.entries(STARTER_ENV.stateMachines).filter(([workflow]) => !stateMachines[workflow]);
  const queueUrl = env[STARTER_ENV.deadLetterQueueUrl];
  if (missing.length > 0 || !queueUrl) {
    const names = [...missing.map(([, variable]) => variable), ...(queueUrl ? [] : [STARTER_ENV.deadLetterQueueUrl])];
    throw new Error(`the inventory starter needs ${names.join(', ')}`);
  }
  const settings = readSettings();
  const deadLetterQueue = { queueUrl, timeoutSeconds: settings.requestTimeoutSeconds };
  let kube: Promise<NodeLookup> | undefined;
  // the cluster is read only for events that need it; a failed connection is tried again on the next call
  const nodes = (): Promise<NodeLookup> => {
    kube ??= kubeClients(settings).then(kubeNodeLookup);
    kube.catch(() => {
      kube = undefined;
    });
    return kube;
  };
  deps = {
    settings,
    ports: {
      engine: sfnStarter(traced(new SFNClient({})), stateMachines),
      nodes: {
        readNode: async (name) => (await nodes()).readNode(name),
        nodeOfInstance: async (instanceId) => (await nodes()).nodeOfInstance(instanceId),
      },
      deadLetters: sqsDeadLetters(deadLetterClient(deadLetterQueue), deadLetterQueue),
      log: {
        info: (message, attributes) => logger.info(message, attributes),
        warn: (message, attributes) => logger.warn(message, attributes),
      },
    },
  };
  return deps;
}

/** SQS (EventBridge events as bodies) → executions; answers which messages to deliver again. */
export async function handler(event: SqsEvent, context?: LambdaContext): Promise<SqsBatchResponse> {
  if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
  const { settings, ports } = dependencies();
  const messages: QueueMessage[] = event.Records.map((record) => ({
    messageId: record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
  }));
  const { batchItemFailures, outcomes } = await startFromInventory(messages, ports, {
    fieldMap: settings.inventoryFieldMap,
  });
  logger.info('inventory batch handled', {
    messages: messages.length,
    retried: batchItemFailures.length,
    results: outcomes.map(({ eventId, result, operationId, itemId }) => ({ eventId, result, operationId, itemId })),
  });
  return { batchItemFailures };
}
