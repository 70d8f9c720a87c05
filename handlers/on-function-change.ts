/** Event path: a CloudTrail record of CreateFunction, UpdateFunction or TagResource → reconcile that function. */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { interpretEvent } from '../lib/cloudtrail';
import { loadConfig } from '../lib/config';
import { reporting } from '../lib/middleware';
import { failedOutcome, type Outcome, reconcile, type ReconcileOptions } from '../lib/reconcile';
import { accountOf, createRuntime, partitionOf, type Runtime } from '../lib/runtime';

export interface EventSummary {
  readonly trigger?: string;
  readonly ignored?: string;
  readonly outcomes: readonly Outcome[];
}

/** Reconcile options the bench varies (reading LIVE eagerly); the deployed handler uses none. */
export type EventPathOptions = Pick<ReconcileOptions, 'eagerLive'>;

export function makeOnFunctionChange(runtime: Runtime, options: EventPathOptions = {}) {
  const { policy, reporter } = runtime;
  return middy(async (event: unknown, context: Context): Promise<EventSummary> => {
    const account = accountOf(context);
    const intent = interpretEvent(event, { account, partition: partitionOf(context) });
    if (intent.kind === 'ignore') {
      reporter.ignored(intent.reason, intent.trigger, eventIdOf(event));
      return { trigger: intent.trigger, ignored: intent.reason, outcomes: [] };
    }
    let outcome: Outcome;
    try {
      const cloudfront = runtime.cloudfrontFor(account);
      const gate = runtime.publishGate(cloudfront);
      outcome = await reconcile(intent.fn, intent.trigger, { ...options, cloudfront, policy, eagerDevelopment: true, ...(gate ? { gate } : {}) });
    } catch (error) {
      // Report, then rethrow: Lambda's retries (or, for a failure no retry can mend, the failure
      // queue at once) keep the event.
      await reporter.outcomes([failedOutcome(intent.fn, intent.trigger, policy.dryRun, error)]);
      throw error;
    }
    await reporter.outcomes([outcome]);
    return { trigger: intent.trigger, outcomes: [outcome] };
  }).use(reporting(runtime, { failFast: true }));
}

function eventIdOf(event: unknown): unknown {
  return (event as { detail?: { eventID?: unknown } } | null)?.detail?.eventID;
}

let fromEnvironment: ReturnType<typeof makeOnFunctionChange> | undefined;

/**
 * The deployed entry point, wired from the Lambda's environment on the first invocation (a setting
 * we cannot parse fails that invocation, naming the variable, before any AWS call).
 */
export const handler = async (event: unknown, context: Context): Promise<EventSummary> => {
  fromEnvironment ??= makeOnFunctionChange(createRuntime(loadConfig(process.env)));
  return fromEnvironment(event, context);
};
