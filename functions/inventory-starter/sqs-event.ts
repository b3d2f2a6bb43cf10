import type { QueueMessage } from './ports';

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

/** The messages of an SQS event, as the starter's core reads them. */
export function queueMessagesOf(event: SqsEvent): QueueMessage[] {
  return event.Records.map((record) => ({
    messageId: record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
  }));
}
