/**
 * Organisation mode's sweep worker: each SQS message names one member account, swept with the same
 * lib/sweep as a single-account deployment, through that account's member role. Records are taken
 * one after another, and each one's failure fails only its own message (partial batch response): SQS
 * returns it, then moves it to the dead-letter queue.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig } from '../lib/config';
import { AutoPublishError } from '../lib/errors';
import { parseSweepRequest } from '../lib/fan-out';
import { reporting } from '../lib/middleware';
import { flushMetrics } from '../lib/report';
import { createRuntime, type Runtime } from '../lib/runtime';
import { summariseSweep, sweepClock, type SweepSummary, sweep, sweepFailure } from '../lib/sweep';

/** What each record came to, in the order of the batch (the middleware turns it into batchItemFailures). */
export type RecordResult = PromiseSettledResult<SweepSummary | { readonly account: string; readonly ignored: string }>;

export class NotStartedError extends AutoPublishError {
  override name = 'NotStartedError';
  readonly retryable = true;
  constructor(account: string, remainingMs: number) {
    super(`account ${account} not swept: ${Math.floor(remainingMs)} ms left in this invocation; its message returns to the queue`);
  }
}

export interface SweepAccountOptions {
  /** Told each account's summary once it is reported (the local stack and the bench watch the sweep). */
  readonly onAccountSwept?: (account: string, summary: SweepSummary) => void;
}

export function makeSweepAccount(runtime: Runtime, options: SweepAccountOptions = {}) {
  const { config, policy, organization } = runtime;
  if (!organization) throw new TypeError('the sweep worker runs in organisation mode only (ORGANIZATION_MODE=true)');
  const { members } = organization;

  async function sweepRecord(record: SQSRecord, context: Context) {
    let request: ReturnType<typeof parseSweepRequest>;
    try {
      request = parseSweepRequest(record.body);
    } catch (error) {
      // Not retryable, but SQS will try it again anyway before the dead-letter queue keeps it.
      runtime.reporter.accountSweepFailed(error);
      throw error;
    }
    const { account, full } = request;
    const reporter = runtime.reporterFor(account);
    try {
      // The list may have changed since the fan-out: never assume a role outside today's.
      if (!(await members.isMember(account))) {
        const ignored = `account ${account} is no longer in the member list`;
        reporter.ignored(ignored, 'sweep', record.messageId);
        return { account, ignored };
      }
      const left = context.getRemainingTimeInMillis();
      if (left <= config.sweepReserveMs) throw new NotStartedError(account, left);
      const paused = await runtime.pause(reporter);
      const summary = summariseSweep(
        await sweep({
          paused,
          full,
          cloudfront: runtime.cloudfrontFor(account),
          publishGate: (cloudfront) => runtime.publishGate(cloudfront),
          policy,
          concurrency: config.sweepConcurrency,
          remainingMs: () => context.getRemainingTimeInMillis(),
          reserveMs: config.sweepReserveMs,
        }),
        sweepClock(config),
      );
      await reporter.sweepFinished(summary);
      options.onAccountSwept?.(account, summary);
      const failure = sweepFailure(summary);
      if (failure) throw failure;
      return summary;
    } catch (error) {
      reporter.accountSweepFailed(error);
      throw error;
    } finally {
      // One EMF record per account, so each carries its own account.
      flushMetrics(runtime.observability.metrics);
    }
  }

  return middy(async (event: SQSEvent, context: Context): Promise<RecordResult[]> => {
    const results: RecordResult[] = [];
    for (const record of event.Records) {
      try {
        results.push({ status: 'fulfilled', value: await sweepRecord(record, context) });
      } catch (error) {
        results.push({ status: 'rejected', reason: error });
      }
    }
    return results;
  })
    .use(sqsPartialBatchFailure({ logger: () => {} }))
    .use(reporting(runtime));
}

let fromEnvironment: ReturnType<typeof makeSweepAccount> | undefined;

/** The deployed entry point, wired from the Lambda's environment on the first invocation. */
export const handler = async (event: SQSEvent, context: Context) => {
  fromEnvironment ??= makeSweepAccount(createRuntime(loadConfig(process.env)));
  return fromEnvironment(event, context);
};
