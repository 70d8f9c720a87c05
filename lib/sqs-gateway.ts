/**
 * The one module that talks to SQS: the failure queue (an event no retry can mend, at once) and,
 * in organisation mode, the sweep queue (one message per member account, which the sweep worker
 * consumes) and its dead-letter queue (a sweep message that can never succeed, at once).
 */
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError } from './errors';
import { type FailureQueue, FailureQueueError } from './failure-queue';

/** SQS takes at most 256 KiB per message; a bigger record could not be kept, so Lambda must keep it. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_SIZE = 10;

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient(awsClientConfig(options, 5));
}

export function sqsFailureQueue(client: SQSClient, queueUrl: string): FailureQueue {
  return {
    async send(record) {
      const body = JSON.stringify(record);
      if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES)
        throw new FailureQueueError(`failure record is ${Buffer.byteLength(body)} bytes, over the SQS limit of ${MAX_MESSAGE_BYTES}`);
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
  };
}

/** A queue of JSON messages, sent in batches. */
export interface MessageQueue<T> {
  /** Resolves once every message is on the queue; rejects naming those that are not. */
  sendAll(messages: readonly T[]): Promise<void>;
}

export class QueueSendError extends AutoPublishError {
  override name = 'QueueSendError';
  // SQS refused some entries twice (throttled, or the queue is gone); the next schedule sends them all again.
  readonly retryable = true;
}

/**
 * Batches of 10; entries SQS reports as failed are sent once more, then reported. `idOf` names each
 * message in the error (an account, say), never its body.
 */
export function sqsMessageQueue<T>(client: SQSClient, queueUrl: string, idOf: (message: T) => string): MessageQueue<T> {
  async function sendBatch(batch: readonly T[]): Promise<T[]> {
    const answer = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, i) => ({ Id: String(i), MessageBody: JSON.stringify(message) })),
      }),
    );
    return (answer.Failed ?? []).map((f) => batch[Number(f.Id)]).filter((m): m is T => m !== undefined);
  }
  return {
    async sendAll(messages) {
      const unsent: T[] = [];
      for (let i = 0; i < messages.length; i += SQS_BATCH_SIZE) {
        const failed = await sendBatch(messages.slice(i, i + SQS_BATCH_SIZE));
        if (failed.length > 0) unsent.push(...(await sendBatch(failed)));
      }
      if (unsent.length > 0) {
        throw new QueueSendError(`SQS refused ${unsent.length} of ${messages.length} messages twice: ${unsent.map(idOf).join(', ')}`);
      }
    },
  };
}

/** A queue that keeps messages nobody will retry, each as it came, with why. */
export interface DeadLetterQueue {
  send(body: string, reason: string): Promise<void>;
}

/** SQS caps a message attribute at the message's size; the reason is one line of ours, kept short. */
const MAX_REASON_CHARS = 512;

/**
 * The body goes as it came, so the console's "start DLQ redrive" can move it back to the sweep queue
 * once whatever was wrong is mended; the reason travels as the `reason` message attribute.
 */
export function sqsDeadLetterQueue(client: SQSClient, queueUrl: string): DeadLetterQueue {
  return {
    async send(body, reason) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_CHARS) } },
        }),
      );
    },
  };
}
