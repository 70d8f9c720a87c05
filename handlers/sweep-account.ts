/**
 * Organisation mode's sweep worker: each SQS message names one member account, swept with the same
 * lib/sweep as a single-account deployment, through that account's member role. Records are taken
 * one after another, and each one's failure fails only its own message (partial batch response): SQS
 * returns it, then moves it to the dead-letter queue. A message that can never succeed (unreadable,
 * or for an account outside the member list) goes to the dead-letter queue at once instead.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { type Config, loadConfig } from '../lib/config';
import { AutoPublishError, describeError } from '../lib/errors';
import { BadSweepRequestError, parseSweepRequest, sweepQueueMembers } from '../lib/fan-out';
import { reporting } from '../lib/middleware';
import { flushMetrics, type Reporter } from '../lib/report';
import { createRuntime, type Runtime, type RuntimeClients, runSweep } from '../lib/runtime';
import { summariseSweep, sweepClock, type SweepSummary, sweepFailure } from '../lib/sweep';

/** What each record came to, in the order of the batch (the middleware turns it into batchItemFailures). */
export type RecordResult = PromiseSettledResult<SweepSummary | DeadLettered>;

/** A message that can never succeed, put on the dead-letter queue and reported done. */
export interface DeadLettered {
  readonly account: string | undefined;
  readonly deadLettered: string;
}

export class NotStartedError extends AutoPublishError {
  override name = 'NotStartedError';
  readonly retryable = true;
  constructor(account: string, remainingMs: number) {
    super(`account ${account} not swept: ${Math.floor(remainingMs)} ms left in this invocation; its message returns to the queue`);
  }
}

/** The dead-letter queue refused a message that can never succeed: SQS's redrive gets it there later. */
export class DeadLetterSendError extends AutoPublishError {
  override name = 'DeadLetterSendError';
  readonly retryable = true;
}

export interface SweepAccountOptions {
  /** Told each account's summary once it is reported (the local stack and the bench watch the sweep). */
  readonly onAccountSwept?: (account: string, summary: SweepSummary) => void;
}

export function makeSweepAccount(runtime: Runtime, options: SweepAccountOptions = {}) {
  const { config, organization } = runtime;
  if (!organization) throw new TypeError('the sweep worker runs in organisation mode only (ORGANIZATION_MODE=true)');
  const { members, sweepDeadLetters } = organization;

  /**
   * Receiving it again cannot help: SQS would hand it back twice more, an hour apart (the visibility
   * timeout), before its redrive policy dead-letters it. Sent now, the message is done. Without the
   * queue's URL, or when the send fails, it fails as before and the redrive policy takes it there.
   */
  async function deadLetter(record: SQSRecord, why: BadSweepRequestError, account: string | undefined, reporter: Reporter): Promise<DeadLettered> {
    if (!sweepDeadLetters) throw why;
    try {
      await sweepDeadLetters.send(record.body, why.message);
    } catch (error) {
      throw new DeadLetterSendError(`${why.message}; the dead-letter queue refused it (${describeError(error)}): it returns to the sweep queue`, {
        cause: error,
      });
    }
    reporter.accountSweepFailed(new BadSweepRequestError(`${why.message}; sent to the dead-letter queue at once`));
    return { account, deadLettered: why.message };
  }

  async function sweepRecord(record: SQSRecord, context: Context) {
    let request: ReturnType<typeof parseSweepRequest>;
    try {
      request = parseSweepRequest(record.body);
    } catch (error) {
      if (error instanceof BadSweepRequestError) {
        try {
          return await deadLetter(record, error, undefined, runtime.reporter);
        } catch (failure) {
          runtime.reporter.accountSweepFailed(failure);
          throw failure;
        }
      }
      runtime.reporter.accountSweepFailed(error);
      throw error;
    }
    const { account, full } = request;
    const reporter = runtime.reporterFor(account);
    try {
      // The list may have changed since the fan-out: never assume a role outside today's.
      if (!(await members.isMember(account))) {
        return await deadLetter(record, new BadSweepRequestError(`account ${account} is not in the member list`), account, reporter);
      }
      const left = context.getRemainingTimeInMillis();
      if (left <= config.sweepReserveMs) throw new NotStartedError(account, left);
      const paused = await runtime.pause(reporter);
      const summary = summariseSweep(await runSweep(runtime, context, { account, paused, full }), sweepClock(config));
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

/**
 * The worker's runtime: as any other, but its member list is the sweep queue's word (lib/fan-out.ts,
 * sweepQueueMembers), so with MEMBER_ACCOUNTS empty it never calls ListAccounts.
 */
export function createSweepWorkerRuntime(config: Config, clients: RuntimeClients = {}): Runtime {
  if (!config.organization) throw new TypeError('the sweep worker runs in organisation mode only (ORGANIZATION_MODE=true)');
  return createRuntime(config, { members: sweepQueueMembers(config.organization), ...clients });
}

let fromEnvironment: ReturnType<typeof makeSweepAccount> | undefined;

/** The deployed entry point, wired from the Lambda's environment on the first invocation. */
export const handler = async (event: SQSEvent, context: Context) => {
  fromEnvironment ??= makeSweepAccount(createSweepWorkerRuntime(loadConfig(process.env)));
  return fromEnvironment(event, context);
};
