/**
 * The one module that talks to SQS: it puts an event the reconciler will never understand on the
 * failure queue at once, in the shape Lambda's on-failure destination uses, so one consumer (or a
 * person) reads both kinds of record alike. A retryable failure never comes here: Lambda retries it
 * and its destination sends it after the last retry.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError } from './errors';

export interface FailureQueue {
  /** Resolves once the record is on the queue; rejects when it is not (the caller then rethrows). */
  send(record: FailureRecord): Promise<void>;
}

/** Lambda's asynchronous-invocation destination record, with our own condition. */
export interface FailureRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    /** Lambda writes RetriesExhausted or EventAgeExceeded; ours says why no retry was made. */
    readonly condition: 'NotRetryable';
    readonly approximateInvokeCount: 1;
  };
  readonly requestPayload: unknown;
  readonly responseContext: { readonly statusCode: 200; readonly executedVersion: string; readonly functionError: 'Unhandled' };
  readonly responsePayload: { readonly errorType: string; readonly errorMessage: string };
}

export function failureRecord(
  event: unknown,
  error: Error,
  context: { awsRequestId: string; invokedFunctionArn: string; functionVersion?: string },
  now = new Date(),
): FailureRecord {
  return {
    version: '1.0',
    timestamp: now.toISOString(),
    requestContext: { requestId: context.awsRequestId, functionArn: context.invokedFunctionArn, condition: 'NotRetryable', approximateInvokeCount: 1 },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: context.functionVersion ?? '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: error.name, errorMessage: error.message },
  };
}

export class FailureQueueError extends AutoPublishError {
  override name = 'FailureQueueError';
  readonly retryable = true;
}

/** SQS takes at most 256 KiB per message; a bigger record could not be kept, so Lambda must keep it. */
const MAX_MESSAGE_BYTES = 256 * 1024;

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
