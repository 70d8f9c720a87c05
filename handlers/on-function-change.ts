/**
 * Event path: a CloudTrail record of CreateFunction, UpdateFunction, CreateConnectionFunction,
 * UpdateConnectionFunction or TagResource → reconcile that function (of either kind); a record of ours
 * that names no function → sweep that account, then fail; a record of Create/Update/DeleteDistribution
 * → drop the associations this container keeps, nothing else.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BadEventError, interpretEvent } from '../lib/cloudtrail';
import { ConfigError, loadConfig } from '../lib/config';
import { reporting } from '../lib/middleware';
import { failedOutcome, type Outcome, reconcile, type ReconcileOptions } from '../lib/reconcile';
import type { Reporter } from '../lib/report';
import { accountOf, createRuntime, partitionOf, type Runtime, runSweep } from '../lib/runtime';
import { summariseSweep, sweepClock } from '../lib/sweep';

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
    if (intent.kind !== 'ignore' && runtime.organization) {
      if (account === undefined) throw new BadEventError(`${intent.trigger} event names no 12-digit account`);
      // Before anything reaches STS: an event naming an account outside the list costs no AssumeRole.
      if (!(await runtime.organization.members.isMember(account))) {
        const reason = `account ${account} is not in the member list`;
        reporter.ignored(reason, intent.trigger, eventIdOf(event));
        return { trigger: intent.trigger, ignored: reason, outcomes: [] };
      }
    }
    if (intent.kind === 'ignore') {
      // A distribution event: nothing to reconcile, but the associations this container keeps may be stale.
      if (intent.associationsChanged) runtime.dropAssociations(account);
      reporter.ignored(intent.reason, intent.trigger, eventIdOf(event));
      return { trigger: intent.trigger, ignored: intent.reason, outcomes: [] };
    }
    // Read before anything is decided; unreadable, it fails the invocation (retryable): Lambda tries
    // again, and nothing is published on a guess. The sweep of an unnamed change is held by it too.
    const paused = await runtime.pause(reporter);
    if (intent.kind === 'unnamed') {
      await sweepUnnamed(runtime, reporter, intent.account, intent.trigger, context, paused);
      // Still a failure: the failure queue keeps the record, so someone can see what CloudTrail wrote.
      throw intent.error;
    }
    // Every outcome of this event says who made the change and which CloudTrail record said so.
    const audited = (outcome: Outcome): Outcome => ({ ...outcome, ...intent.audit });
    let outcome: Outcome;
    try {
      const cloudfront = runtime.cloudfrontFor(account);
      const gate = runtime.publishGate(cloudfront, {}, { account, cachedAssociations: true });
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

/**
 * A change no record names: sweep its account now, so the edit goes live in seconds rather than at
 * the next scheduled sweep. Single-account mode sweeps here, in this invocation, with what is left of
 * its time (SWEEP_RESERVE_MS kept back, as the scheduled sweep does; whatever it defers, the
 * scheduled sweep takes): there is no queue, and the role already holds every call a sweep makes.
 * Organisation mode puts one `{account, full: false}` message on the sweep queue instead: the worker
 * sweeps member accounts with its own timeout and concurrency, where a sweep here would hold one of
 * the event handler's two slots that serve every member's events. Not full: the listings show an
 * edit made since the last publish in every reading (lib/decide.ts, isSweepCandidate), and a full
 * sweep would read every function's tags. Best effort: a sweep that fails is reported, and the
 * caller still fails with the record's own error.
 */
async function sweepUnnamed(
  runtime: Runtime,
  reporter: Reporter,
  account: string,
  trigger: string,
  context: Context,
  paused: string | undefined,
): Promise<void> {
  const { config, organization } = runtime;
  try {
    if (organization) {
      if (!organization.sweepQueue) throw new ConfigError('SWEEP_QUEUE_URL', 'organisation mode sweeps an account through this queue; it is not set');
      await organization.sweepQueue.sendAll([{ account, full: false }]);
      reporter.sweepForUnnamed(account, trigger);
      return;
    }
    reporter.sweepForUnnamed(account, trigger);
    const report = await runSweep(runtime, context, { account, paused });
    await reporter.sweepFinished(summariseSweep(report, sweepClock(config)));
  } catch (error) {
    reporter.sweepForUnnamed(account, trigger, error);
  }
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
