/** Sweep path: on a schedule, repair whatever the events missed. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger, metrics } from '../lib/report';
import { runtimeFromEnvironment } from '../lib/runtime';
import { summariseSweep, type SweepSummary, sweep, sweepFailure } from '../lib/sweep';

async function driftSweep(_event: unknown, context: Context): Promise<SweepSummary> {
  const { cloudfront, policy, reporter, config } = runtimeFromEnvironment();
  const report = await sweep({
    cloudfront,
    policy,
    concurrency: config.sweepConcurrency,
    remainingMs: () => context.getRemainingTimeInMillis(),
    reserveMs: config.sweepReserveMs,
  });
  await reporter.report(report.outcomes);
  const summary = summariseSweep(report);
  metrics.addMetric('deferred', MetricUnit.Count, summary.deferred.length);
  logger.info('sweep finished', { ...summary, outcomes: undefined });
  const failure = sweepFailure(summary);
  if (failure) throw failure;
  return summary;
}

export const handler = middy(driftSweep)
  .use(injectLambdaContext(logger, { logEvent: false })) // never, whatever POWERTOOLS_LOGGER_LOG_EVENT says: events can carry code
  .use(logMetrics(metrics))
  .onError(async (request) => {
    if (request.error) logger.error('invocation failed', { error: request.error.message, errorName: request.error.name });
  });
