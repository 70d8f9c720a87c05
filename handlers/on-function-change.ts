/** Event path: a CloudTrail record of CreateFunction, UpdateFunction or TagResource → reconcile that function. */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BadEventError, interpretEvent } from '../lib/cloudtrail';
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
  const { policy } = runtime;
  return middy(async (event: unknown, context: Context): Promise<EventSummary> => {
    // Organisation mode: the event came from a member account's bus, and names that account.
    const account = runtime.organization ? accountOfEvent(event) : accountOf(context);
    const reporter = runtime.reporterFor(account);
    const intent = interpretEvent(event, { account, partition: partitionOf(context) });
    if (intent.kind === 'reconcile' && runtime.organization) {
      if (account === undefined) throw new BadEventError(`${intent.trigger} event names no 12-digit account`);
      // Before anything reaches STS: an event naming an account outside the list costs no AssumeRole.
      if (!(await runtime.organization.members.isMember(account))) {
        const reason = `account ${account} is not in the member list`;
        reporter.ignored(reason, intent.trigger, eventIdOf(event));
        return { trigger: intent.trigger, ignored: reason, outcomes: [] };
      }
    }
    if (intent.kind === 'ignore') {
      reporter.ignored(intent.reason, intent.trigger, eventIdOf(event));
      return { trigger: intent.trigger, ignored: intent.reason, outcomes: [] };
    }
    // Read before anything is decided; unreadable, it fails the invocation (retryable): Lambda tries
    // again, and nothing is published on a guess.
    const paused = await runtime.pause(reporter);
    // Every outcome of this event says who made the change and which CloudTrail record said so.
    const audited = (outcome: Outcome): Outcome => ({ ...outcome, ...intent.audit });
    let outcome: Outcome;
    try {
      const cloudfront = runtime.cloudfrontFor(account);
      const gate = runtime.publishGate(cloudfront, {}, { account });
      outcome = audited(
        await reconcile(intent.fn, intent.trigger, {
          ...options,
          cloudfront,
          policy,
          eagerDevelopment: true,
          paused,
          audit: intent.audit,
          ...(gate ? { gate } : {}),
          ...(runtime.history ? { history: runtime.history } : {}),
        }),
      );
    } catch (error) {
      // Report, then rethrow: Lambda's retries (or, for a failure no retry can mend, the failure
      // queue at once) keep the event.
      await reporter.outcomes([audited(failedOutcome(intent.fn, intent.trigger, policy.dryRun, error))]);
      throw error;
    }
    await reporter.outcomes([outcome]);
    return { trigger: intent.trigger, outcomes: [outcome] };
  }).use(reporting(runtime, { failFast: true, accountOf: runtime.organization ? accountOfEvent : undefined }));
}

/** The event's own `account` (EventBridge keeps the source account when a member bus forwards it). */
function accountOfEvent(event: unknown): string | undefined {
  const account = (event as { account?: unknown } | null)?.account;
  return typeof account === 'string' && /^\d{12}$/.test(account) ? account : undefined;
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
