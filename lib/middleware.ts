/**
 * The one middy middleware both handlers use: it puts the Lambda context on every log line, flushes
 * the invocation's metrics however it ends, reports a failed invocation, and (event path) puts a
 * failure that no retry can mend on the failure queue at once instead of letting Lambda retry it.
 *
 * It replaces Powertools' own logger and metrics middlewares on purpose: those log the event when
 * POWERTOOLS_LOGGER_LOG_EVENT says so (events can carry function code), and they need the real
 * Logger and Metrics, where a runtime may bring quiet stand-ins.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { isRetryable } from './errors';
import { failureRecord } from './failure-queue';
import { flushMetrics } from './report';
import type { Runtime } from './runtime';

export interface ReportingOptions {
  /** Put non-retryable failures on the runtime's failure queue and succeed (the event path). */
  readonly failFast?: boolean;
  /** Organisation mode: the account an event is about, for the failure lines. */
  readonly accountOf?: ((event: unknown) => string | undefined) | undefined;
}

export function reporting(runtime: Runtime, options: ReportingOptions = {}): MiddlewareObj<unknown, unknown, Error, Context> {
  const { logger, metrics } = runtime.observability;
  return {
    before: ({ context }) => {
      logger.addContext(context);
    },
    after: () => {
      flushMetrics(metrics);
    },
    onError: async (request) => {
      const error = request.error ?? new Error('unknown failure');
      const reporter = runtime.reporterFor(options.accountOf?.(request.event));
      try {
        if (options.failFast && runtime.failureQueue && !isRetryable(error)) {
          try {
            await runtime.failureQueue.send(failureRecord(request.event, error, request.context));
            reporter.sentToFailureQueue(error);
            request.response = { failed: error.message, sentToFailureQueue: true };
            return;
          } catch (queueError) {
            // Not on the queue: fail the invocation so Lambda's retries and destination keep the event.
            reporter.invocationFailed(queueError);
          }
        }
        reporter.invocationFailed(error);
      } finally {
        flushMetrics(metrics);
      }
    },
  };
}
