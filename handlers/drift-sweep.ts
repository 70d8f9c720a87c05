/** Sweep path: on a schedule, repair whatever the events missed. */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError, loadConfig } from '../lib/config';
import { type FanOutSummary, fanOutSweep } from '../lib/fan-out';
import { reporting } from '../lib/middleware';
import { accountOf, createRuntime, type Runtime, runSweep } from '../lib/runtime';
import { summariseSweep, sweepClock, type SweepSummary, sweepFailure } from '../lib/sweep';

export function makeDriftSweep(runtime: Runtime) {
  const { config, reporter } = runtime;
  return middy(async (event: unknown, context: Context): Promise<SweepSummary> => {
    // Read once for the whole sweep; unreadable, the sweep fails and the next one tries again.
    const paused = await runtime.pause(reporter);
    const report = await runSweep(runtime, context, { account: accountOf(context), paused, full: isFullSweep(event) });
    const summary = summariseSweep(report, sweepClock(config));
    await reporter.sweepFinished(summary);
    // Failing the invocation fires the errors alarm; the next scheduled sweep is the retry.
    const failure = sweepFailure(summary);
    if (failure) throw failure;
    return summary;
  }).use(reporting(runtime));
}

/**
 * Organisation mode's scheduled sweep: one message per member account on the sweep queue, which
 * handlers/sweep-account.ts consumes. It sweeps nothing itself.
 */
export function makeSweepFanOut(runtime: Runtime) {
  const { reporter, organization } = runtime;
  const sweepQueue = organization?.sweepQueue;
  if (!organization) throw new ConfigError('ORGANIZATION_MODE', 'the sweep fans out over member accounts only in organisation mode');
  if (!sweepQueue) throw new ConfigError('SWEEP_QUEUE_URL', 'organisation mode fans the sweep out over this queue; it is not set');
  return middy(async (event: unknown): Promise<FanOutSummary> => {
    const fanOut = await fanOutSweep(organization.members, sweepQueue, isFullSweep(event));
    reporter.sweepFannedOut(fanOut.accounts, fanOut.full);
    return fanOut;
  }).use(reporting(runtime));
}

/** The daily schedule's input is `{"full": true}` (serverless.yml); a plain schedule event is not. */
export function isFullSweep(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { full?: unknown }).full === true;
}

let fromEnvironment: ((event: unknown, context: Context) => Promise<SweepSummary | FanOutSummary>) | undefined;

/** The deployed entry point, wired from the Lambda's environment on the first invocation. */
export const handler = async (event: unknown, context: Context): Promise<SweepSummary | FanOutSummary> => {
  if (!fromEnvironment) {
    const runtime = createRuntime(loadConfig(process.env));
    fromEnvironment = runtime.organization ? makeSweepFanOut(runtime) : makeDriftSweep(runtime);
  }
  return fromEnvironment(event, context);
};
