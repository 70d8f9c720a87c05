/** Sweep path: on a schedule, repair whatever the events missed. */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadConfig } from '../lib/config';
import { reporting } from '../lib/middleware';
import { accountOf, createRuntime, type Runtime } from '../lib/runtime';
import { summariseSweep, type SweepSummary, sweep, sweepFailure } from '../lib/sweep';

export function makeDriftSweep(runtime: Runtime) {
  const { config, policy, reporter } = runtime;
  return middy(async (event: unknown, context: Context): Promise<SweepSummary> => {
    const report = await sweep({
      full: isFullSweep(event),
      cloudfront: runtime.cloudfrontFor(accountOf(context)),
      publishGate: (cloudfront) => runtime.publishGate(cloudfront),
      policy,
      concurrency: config.sweepConcurrency,
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: config.sweepReserveMs,
    });
    const summary = summariseSweep(report);
    await reporter.sweepFinished(summary);
    // Failing the invocation fires the errors alarm; the next scheduled sweep is the retry.
    const failure = sweepFailure(summary);
    if (failure) throw failure;
    return summary;
  }).use(reporting(runtime));
}

/** The daily schedule's input is `{"full": true}` (serverless.yml); a plain schedule event is not. */
function isFullSweep(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { full?: unknown }).full === true;
}

let fromEnvironment: ReturnType<typeof makeDriftSweep> | undefined;

/** The deployed entry point, wired from the Lambda's environment on the first invocation. */
export const handler = async (event: unknown, context: Context): Promise<SweepSummary> => {
  fromEnvironment ??= makeDriftSweep(createRuntime(loadConfig(process.env)));
  return fromEnvironment(event, context);
};
