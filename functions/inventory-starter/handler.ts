import { type LambdaContext, logger } from '../shared/powertools';
import { startFromInventory } from './core';
import { deployedDependencies } from './deployed-ports';
import { queueMessagesOf, type SqsBatchResponse, type SqsEvent } from './sqs-event';

/** SQS (EventBridge events as bodies) → executions; answers which messages to deliver again. */
export async function handler(event: SqsEvent, context?: LambdaContext): Promise<SqsBatchResponse> {
  if (context) logger.addContext(context as Parameters<typeof logger.addContext>[0]);
  const { settings, ports } = deployedDependencies();
  const messages = queueMessagesOf(event);
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
