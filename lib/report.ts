/**
 * Everything an invocation says leaves through here: one structured log line per decision and per
 * invocation event (ignored, sweep finished, failed, sent to the failure queue), one EMF count per
 * action, and (when a bus is configured) an EventBridge announcement of publishes, failures and
 * dry-run would-publishes. The handlers never log or count on their own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Action } from './decide';
import { describeError } from './errors';
import type { Announcement, EventBridgeGateway } from './eventbridge-gateway';
import type { Outcome } from './reconcile';
import type { SweepSummary } from './sweep';

export const SERVICE = 'cloudfront-autopublish';
export const METRICS_NAMESPACE = 'CloudFrontAutoPublish';

/** The metric names the code emits besides one per Action (a dashboard must use exactly these). */
export const INVOCATION_METRICS = ['ignored-event', 'deferred', 'announce-failed', 'sent-to-failure-queue', 'account-sweep-failed'] as const;

/** The part of INVOCATION_METRICS only organisation mode emits (its dashboard graphs them; single-account's need not). */
export const ORGANIZATION_METRICS: readonly (typeof INVOCATION_METRICS)[number][] = ['account-sweep-failed'];

type MetricUnitValue = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The calls the reporter and the middleware make of Powertools' Metrics. */
export interface MetricsSink {
  addMetric(name: string, unit: MetricUnitValue, value: number): unknown;
  publishStoredMetrics(): unknown;
  /** A property of the next EMF record (not a dimension: 200 accounts would make 200 metrics of each). */
  addMetadata?(key: string, value: string): unknown;
  hasStoredMetrics?(): boolean;
}

/**
 * Flushes what was counted, and nothing when nothing was: Powertools warns on an empty flush, which
 * the sweep worker (one flush per account, then the invocation's) would otherwise log every time.
 */
export function flushMetrics(metrics: MetricsSink): void {
  if (metrics.hasStoredMetrics?.() === false) return;
  metrics.publishStoredMetrics();
}

/** What a reporter writes through: Powertools' Logger and Metrics, or stand-ins with the same calls. */
export interface Observability {
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error' | 'addContext'>;
  readonly metrics: MetricsSink;
}

/**
 * Powertools' Logger and Metrics, built when a runtime is, never when a module loads. `quiet` (the CLI
 * and the local stack on a terminal) logs nothing and keeps the counts in memory.
 */
export function createObservability(options: { quiet?: boolean } = {}): Observability {
  if (options.quiet) return { logger: new Logger({ serviceName: SERVICE, logLevel: 'SILENT' }), metrics: countingMetrics() };
  return { logger: new Logger({ serviceName: SERVICE }), metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE }) };
}

/** Metrics that print nothing: each flush adds what was counted to `totals`. */
export function countingMetrics(): MetricsSink & { readonly totals: Map<string, number> } {
  const stored = new Map<string, number>();
  const totals = new Map<string, number>();
  return {
    totals,
    addMetric(name, _unit, value) {
      stored.set(name, (stored.get(name) ?? 0) + value);
    },
    publishStoredMetrics() {
      for (const [name, value] of stored) totals.set(name, (totals.get(name) ?? 0) + value);
      stored.clear();
    },
  };
}

const DETAIL_TYPES: Partial<Record<Action, string>> = {
  published: 'CloudFront Function Published',
  failed: 'CloudFront Function Publish Failed',
  'would-publish': 'CloudFront Function Would Publish',
  blocked: 'CloudFront Function Publish Blocked',
};

export function announcementFor(outcome: Outcome, account?: string): Announcement | undefined {
  const detailType = DETAIL_TYPES[outcome.action];
  if (!detailType) return undefined;
  return {
    detailType,
    resources: [outcome.functionArn],
    detail: {
      ...(account ? { account } : {}),
      functionName: outcome.functionName,
      functionArn: outcome.functionArn,
      etag: outcome.etag ?? null,
      trigger: outcome.trigger,
      dryRun: outcome.dryRun,
      ...whyFields(outcome),
    },
  };
}

/** Why it failed or was blocked, in the same fields on the log line and in the announcement. */
function whyFields(outcome: Outcome) {
  const { error, blocked } = outcome;
  return {
    ...(error ? { error } : {}),
    ...(blocked ? { reason: blocked.reason, testCase: blocked.testCase, computeUtilization: blocked.computeUtilization ?? null } : {}),
  };
}

export interface Reporter {
  /** One line and one count per outcome (`failed` at error level), then the announcements. */
  outcomes(outcomes: readonly Outcome[]): Promise<void>;
  /** A valid event that is not ours. */
  ignored(reason: string, trigger: string | undefined, eventId: unknown): void;
  /** The sweep's outcomes, then its summary line and the deferred count. */
  sweepFinished(summary: SweepSummary): Promise<void>;
  /** The invocation fails with `error` (Lambda retries it, or its destination keeps it). */
  invocationFailed(error: unknown): void;
  /** A failure no retry can mend, put on the failure queue at once; the invocation succeeds. */
  sentToFailureQueue(error: unknown): void;
  /** Organisation mode: the scheduled sweep put one message per member account on the sweep queue. */
  sweepFannedOut(accounts: number, full: boolean): void;
  /** Organisation mode: one account's sweep failed; its message returns to the queue. */
  accountSweepFailed(error: unknown): void;
  /**
   * A record naming no function started a sweep of its account (organisation mode: put its message on
   * the sweep queue), or failed to (`error`). No count of its own: the invocation still fails, and is
   * counted as such.
   */
  sweepForUnnamed(account: string, trigger: string, error?: unknown): void;
}

export interface ReporterOptions extends Observability {
  readonly eventBridge?: EventBridgeGateway | undefined;
  /** Organisation mode: the member account every line, count and announcement is about. */
  readonly account?: string | undefined;
}

export function createReporter({ logger, metrics, eventBridge, account }: ReporterOptions): Reporter {
  const about = account ? { account } : {};
  const errorFields = (error: unknown) => ({ ...about, error: describeError(error), errorName: error instanceof Error ? error.name : typeof error });
  const count = (name: string, value: number) => {
    if (account) metrics.addMetadata?.('account', account);
    metrics.addMetric(name, MetricUnit.Count, value);
  };
  const reporter: Reporter = {
    async outcomes(outcomes) {
      for (const outcome of outcomes) {
        const line = {
          ...about,
          function: outcome.functionName,
          functionArn: outcome.functionArn,
          trigger: outcome.trigger,
          action: outcome.action,
          etag: outcome.etag ?? null,
          dryRun: outcome.dryRun,
          publishAttempts: outcome.publishAttempts,
          ...whyFields(outcome),
        };
        if (outcome.action === 'failed') logger.error('outcome', line);
        else if (outcome.action === 'blocked') logger.warn('outcome', line);
        else logger.info('outcome', line);
        count(outcome.action, 1);
      }
      const announcements = outcomes.map((outcome) => announcementFor(outcome, account)).filter((a): a is Announcement => a !== undefined);
      if (!eventBridge || announcements.length === 0) return;
      try {
        await eventBridge.announce(announcements);
      } catch (error) {
        // An announcement is a notification about a write already made; failing the invocation would
        // only re-run a reconcile that now finds nothing to do. Count it so an alarm can see it.
        logger.error('announcement failed', errorFields(error));
        count('announce-failed', announcements.length);
      }
    },
    ignored(reason, trigger, eventId) {
      logger.info('ignored event', { ...about, reason, trigger, eventId });
      count('ignored-event', 1);
    },
    async sweepFinished(summary) {
      await reporter.outcomes(summary.outcomes);
      count('deferred', summary.deferred.length);
      logger.info('sweep finished', { ...about, ...summary, outcomes: undefined });
    },
    invocationFailed(error) {
      logger.error('invocation failed', errorFields(error));
    },
    sentToFailureQueue(error) {
      logger.error('sent to the failure queue without retries', errorFields(error));
      count('sent-to-failure-queue', 1);
    },
    sweepFannedOut(accounts, full) {
      logger.info('sweep fanned out', { accounts, full });
    },
    accountSweepFailed(error) {
      logger.error('account sweep failed', errorFields(error));
      count('account-sweep-failed', 1);
    },
    sweepForUnnamed(sweptAccount, trigger, error) {
      const line = { ...about, account: sweptAccount, trigger, reason: 'the record names no function' };
      if (error === undefined) logger.info('account sweep started', line);
      else logger.error('account sweep not done', { ...errorFields(error), ...line });
    },
  };
  return reporter;
}
