import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { translateAwsError } from '../shared/aws-errors';
import { shownValue } from '../shared/errors';
import { traced } from '../shared/powertools';
import { STARTER_ENV } from './environment';
import type { DeadLetters, QueueMessage } from './ports';

/*
 * The dead-letter queue of the inventory queue, written to directly: an event with bad fields goes there at once,
 * with its reason, rather than after `maxReceiveCount` pointless deliveries. One SQS call, SendMessage, bounded by
 * the `requestTimeoutSeconds` setting and classified as the SSM adapter classifies its calls (functions/shared/ssm.ts):
 * throttling, 5xx, network failures and timeouts are TransientServiceError. Whatever the failure, the starter
 * reports the message as failed, so the queue delivers it again (and its redrive still catches it).
 */

/** The message attribute that carries why an event was dead-lettered (docs/events.md). */
export const REASON_ATTRIBUTE = 'edgekeeper-reason';
/** The attribute that carries the id of the message it was delivered as. */
export const SOURCE_MESSAGE_ATTRIBUTE = 'edgekeeper-source-message-id';

/** SQS cuts nothing, but a reason naming a megabyte value would be useless: the problems already cut values. */
const MAX_REASON_CHARACTERS = 1000;

/** The call the adapter makes; an SQSClient is one. */
export interface SqsClient {
  send(command: SendMessageCommand, options: { abortSignal: AbortSignal }): Promise<unknown>;
}

export interface SqsDeadLettersOptions {
  readonly queueUrl: string;
  /** how long one send may take, the SDK's retries included: the `requestTimeoutSeconds` setting */
  readonly timeoutSeconds: number;
}

/**
 * The client of the dead-letter queue, traced as the steps' SDK clients are, each HTTP request bounded by the
 * timeout. Its endpoint is the queue URL's origin, the host that serves the queue (the SDK would switch to it
 * anyway, with a warning, when it differs from the region's); region, credentials and the SDK's own retries come
 * from the standard AWS SDK configuration chain.
 */
export function deadLetterClient(options: SqsDeadLettersOptions): SQSClient {
  const timeoutMs = options.timeoutSeconds * 1000;
  return traced(
    new SQSClient({
      endpoint: originOf(options.queueUrl),
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    }),
  );
}

function originOf(queueUrl: string): string {
  try {
    return new URL(queueUrl).origin;
  } catch {
    throw new Error(`${STARTER_ENV.deadLetterQueueUrl} ${shownValue(queueUrl, { quoted: true })} is not a URL`);
  }
}

export function sqsDeadLetters(client: SqsClient, options: SqsDeadLettersOptions): DeadLetters {
  return {
    async send(message: QueueMessage, reason: string) {
      const command = new SendMessageCommand({
        QueueUrl: options.queueUrl,
        MessageBody: message.body,
        MessageAttributes: {
          [REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_CHARACTERS) },
          [SOURCE_MESSAGE_ATTRIBUTE]: { DataType: 'String', StringValue: message.messageId },
        },
      });
      try {
        await client.send(command, { abortSignal: AbortSignal.timeout(options.timeoutSeconds * 1000) });
      } catch (error) {
        throw translateSqsError(error, options.timeoutSeconds);
      }
    },
  };
}

/** Classifies a failed SendMessage once (see translateAwsError). */
export function translateSqsError(error: unknown, timeoutSeconds: number): Error {
  return translateAwsError(error, {
    service: 'SQS',
    target: 'SendMessage to the dead-letter queue',
    timeoutSeconds,
    transientNames: /Throttl|ServiceUnavailable|InternalError|InternalFailure/,
  });
}
