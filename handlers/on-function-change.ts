/** Event path: a CloudTrail record of CreateFunction, UpdateFunction or TagResource → reconcile that function. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { interpretEvent } from '../lib/cloudtrail';
import { failedOutcome, type Outcome, reconcile, type ReconcileOptions } from '../lib/reconcile';
import { logger, metrics } from '../lib/report';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { accountOf, partitionOf, runtimeFromEnvironment } from '../lib/runtime';

export interface EventSummary {
  readonly trigger?: string;
  readonly ignored?: string;
  readonly outcomes: readonly Outcome[];
}

/** What a handler built by `createHandler` may vary; `handler` (deployed) uses the defaults. */
export type EventPathOptions = Pick<ReconcileOptions, 'eagerLive'>;

async function onFunctionChange(event: unknown, context: Context, options: EventPathOptions): Promise<EventSummary> {
  const { cloudfront, policy, reporter } = runtimeFromEnvironment();
  const intent = interpretEvent(event, { account: accountOf(context), partition: partitionOf(context) });
  if (intent.kind === 'ignore') {
    logger.info('ignored event', { reason: intent.reason, trigger: intent.trigger, eventId: eventIdOf(event) });
    metrics.addMetric('ignored-event', MetricUnit.Count, 1);
    return { trigger: intent.trigger, ignored: intent.reason, outcomes: [] };
  }
  let outcome: Outcome;
  try {
    outcome = await reconcile(intent.fn, intent.trigger, { cloudfront, policy, eagerDevelopment: true, ...options });
  } catch (error) {
    // Report, then rethrow: Lambda's async retries and the on-failure queue keep the event.
    await reporter.report([failedOutcome(intent.fn, intent.trigger, policy.dryRun, error)]);
    throw error;
  }
  await reporter.report([outcome]);
  return { trigger: intent.trigger, outcomes: [outcome] };
}


function eventIdOf(event: unknown): unknown {
  return (event as { detail?: { eventID?: unknown } } | null)?.detail?.eventID;
}

/** The handler with other reconcile options (`npm run bench` measures `eagerLive: true` this way). */
export function createHandler(options: EventPathOptions = {}) {
  return middy((event: unknown, context: Context) => onFunctionChange(event, context, options))
    .use(injectLambdaContext(logger, { logEvent: false })) // never, whatever POWERTOOLS_LOGGER_LOG_EVENT says: events can carry code
    .use(logMetrics(metrics))
    .onError(async (request) => {
      if (request.error) logger.error('invocation failed', { error: request.error.message, errorName: request.error.name });
    });
}

export const handler = createHandler();
