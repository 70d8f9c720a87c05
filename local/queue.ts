/**
 * A local stand-in for the sweep queue and the Lambda poller in front of the worker: messages go in
 * through the same `sendAll` the fan-out uses on SQS; `drain` runs the worker over them, up to
 * `concurrency` invocations at once with batches of up to `batchSize`, as an SQS event source with a
 * maximum concurrency does. A message the worker reports in `batchItemFailures` comes back (its
 * visibility timeout passes at once here), and after `maxReceiveCount` receives it goes to the
 * dead-letter list, as the queue's redrive policy does. `deadLetterQueue` is that list as the worker
 * sends to it itself (SendMessage to the dead-letter queue).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeadLetterQueue, MessageQueue } from '../lib/sqs-gateway';

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  /** How many times a worker has received it. */
  receiveCount: number;
  /** Dead letters the worker sent: why (the redrive policy gives no reason). */
  readonly reason?: string;
}

export interface LocalQueueOptions {
  /** The redrive policy's maxReceiveCount (serverless.yml). Default 3. */
  readonly maxReceiveCount?: number;
  /** The event source's batch size. Default 1, as serverless.yml's (one account per invocation). */
  readonly batchSize?: number;
  readonly queueArn?: string;
}

export type SqsWorker = (event: SQSEvent) => Promise<SQSBatchResponse | unknown>;

export class LocalQueue<T> implements MessageQueue<T> {
  private readonly waiting: QueuedMessage[] = [];
  readonly deadLetters: QueuedMessage[] = [];
  private sent = 0;
  private readonly maxReceiveCount: number;
  private readonly batchSize: number;
  private readonly queueArn: string;

  constructor(options: LocalQueueOptions = {}) {
    this.maxReceiveCount = options.maxReceiveCount ?? 3;
    this.batchSize = options.batchSize ?? 1;
    this.queueArn = options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:local-sweep-queue';
  }

  async sendAll(messages: readonly T[]): Promise<void> {
    for (const message of messages) this.send(JSON.stringify(message));
  }

  /** A message as any body, well-formed or not (a sender other than the fan-out). */
  send(body: string): void {
    this.waiting.push({ messageId: `msg-${++this.sent}`, body, receiveCount: 0 });
  }

  /** The dead-letter list as a queue the worker sends to: a new message, never received. */
  readonly deadLetterQueue: DeadLetterQueue = {
    send: async (body, reason) => void this.deadLetters.push({ messageId: `dead-${this.deadLetters.length + 1}`, body, receiveCount: 0, reason }),
  };

  /** Messages waiting to be received. */
  get depth(): number {
    return this.waiting.length;
  }

  /**
   * Runs `worker` until no message waits. A worker that throws fails its whole batch (Lambda's
   * behaviour without a partial response); one that answers `batchItemFailures` fails only those.
   */
  async drain(worker: SqsWorker, options: { concurrency?: number } = {}): Promise<void> {
    const concurrency = options.concurrency ?? 1;
    const poller = async () => {
      for (let batch = this.take(); batch.length > 0; batch = this.take()) {
        let failed: Set<string>;
        try {
          const response = (await worker({ Records: batch.map((m) => this.record(m)) })) as Partial<SQSBatchResponse> | undefined;
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch {
          failed = new Set(batch.map((m) => m.messageId));
        }
        for (const message of batch) {
          if (!failed.has(message.messageId)) continue;
          if (message.receiveCount >= this.maxReceiveCount) this.deadLetters.push(message);
          else this.waiting.push(message);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, poller));
  }

  private take(): QueuedMessage[] {
    const batch = this.waiting.splice(0, this.batchSize);
    for (const message of batch) message.receiveCount++;
    return batch;
  }

  private record(message: QueuedMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}-${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn,
      awsRegion: 'us-east-1',
    };
  }
}
