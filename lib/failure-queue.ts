/**
 * The failure queue's record: an event the reconciler will never understand goes there at once, in
 * the shape Lambda's on-failure destination uses, so one consumer (or a person) reads both kinds of
 * record alike. A retryable failure never comes here: Lambda retries it and its destination sends it
 * after the last retry. lib/sqs-gateway.ts puts it on SQS.
 */
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
