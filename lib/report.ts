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
import type { Notification, NotificationGateway } from './sns-gateway';
import type { Outcome } from './reconcile';
import type { SweepSummary } from './sweep';

export const SERVICE = 'cloudfront-autopublish';
export const METRICS_NAMESPACE = 'CloudFrontAutoPublish';

/** The metric names the code emits besides one per Action (a dashboard must use exactly these). */
export const INVOCATION_METRICS = [
  'ignored-event',
  'deferred',
  'announce-failed',
  'sent-to-failure-queue',
  'account-sweep-failed',
  'out-of-sync',
  'notify-failed',
  'history-written',
] as const;

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
  paused: 'CloudFront Function Publish Paused',
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
      ...(outcome.pause !== undefined ? { pause: outcome.pause } : {}),
      // Who and which record, never where from: the address stays in the log line.
      ...auditFields(outcome),
    },
  };
}

/**
 * The most a free-text field (a reason, an error, a case name) carries. With every other field short
 * and bounded, an announcement stays far under PutEvents' 256 KB (docs/cloudfront-api.md#quotas-and-rate-limits).
 */
export const MAX_TEXT_BYTES = 1024;

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary, saying that it was cut. */
export function capText(text: string, maxBytes = MAX_TEXT_BYTES): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker = ` … (cut from ${bytes} bytes)`;
  let cut = text.slice(0, Math.max(0, maxBytes - Buffer.byteLength(marker)));
  while (Buffer.byteLength(cut, 'utf8') + Buffer.byteLength(marker) > maxBytes) cut = cut.slice(0, -1);
  // Never end on half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + marker;
}

function auditFields(outcome: Outcome) {
  return {
    ...(outcome.actor !== undefined ? { actor: outcome.actor } : {}),
    ...(outcome.eventId !== undefined ? { eventId: outcome.eventId } : {}),
  };
}

/** The alarm topic's message for a blocked or failed version: the function, the ETag, why, and the test case. */
export function notificationFor(outcome: Outcome, account?: string): Notification | undefined {
  if (outcome.action !== 'blocked' && outcome.action !== 'failed') return undefined;
  const { functionName, etag, blocked, error } = outcome;
  const lines = [
    `${functionName}: ${outcome.action === 'blocked' ? 'the publish gate blocked this version; LIVE keeps its old code' : 'this version could not be published'}.`,
    '',
    ...(account ? [`Account: ${account}`] : []),
    `Function: ${functionName}`,
    `ETag: ${etag ?? '(not read)'}`,
    `Reason: ${blocked?.reason ?? error ?? '(none recorded)'}`,
    ...(blocked ? [`Test case: ${blocked.testCase}`] : []),
    `Trigger: ${outcome.trigger}`,
    ...(outcome.actor !== undefined ? [`Changed by: ${outcome.actor}`] : []),
    ...(outcome.eventId !== undefined ? [`CloudTrail event: ${outcome.eventId}`] : []),
  ];
  return { subject: `${SERVICE}: ${functionName} ${outcome.action}${etag ? ` (${etag})` : ''}`, message: lines.join('\n') };
}

/** Why it failed or was blocked, in the same fields on the log line and in the announcement. */
function whyFields(outcome: Outcome) {
  const { error, blocked } = outcome;
  return {
    ...(error ? { error: capText(error) } : {}),
    ...(blocked
      ? {
          reason: capText(blocked.reason),
          testCase: capText(blocked.testCase),
          computeUtilization: blocked.computeUtilization ?? null,
        }
      : {}),
  };
}

export interface Reporter {
  /**
   * One line and one count per outcome (`failed` at error level), then the announcements, then each
   * blocked or failed one to the alarm topic (all of them unless `notify` picks).
   */
  outcomes(outcomes: readonly Outcome[], options?: { readonly notify?: (outcome: Outcome) => boolean }): Promise<void>;
  /** The pause parameter holds a value that is neither `active` nor `paused…`: paused, and said so. */
  pauseUnrecognised(parameter: string, value: string): void;
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
  /** The alarm topic (ALARM_TOPIC_ARN); undefined: no notifications. */
  readonly alarmTopic?: NotificationGateway | undefined;
  /** Organisation mode: the member account every line, count and announcement is about. */
  readonly account?: string | undefined;
}

export function createReporter({ logger, metrics, eventBridge, alarmTopic, account }: ReporterOptions): Reporter {
  const about = account ? { account } : {};
  const errorFields = (error: unknown) => ({ ...about, error: describeError(error), errorName: error instanceof Error ? error.name : typeof error });
  const count = (name: string, value: number) => {
    if (account) metrics.addMetadata?.('account', account);
    metrics.addMetric(name, MetricUnit.Count, value);
  };
  const announce = async (outcomes: readonly Outcome[]) => {
    const announcements = outcomes.map((outcome) => announcementFor(outcome, account)).filter((a): a is Announcement => a !== undefined);
    if (!eventBridge || announcements.length === 0) return;
    // An announcement is a notification about a write already made; failing the invocation would
    // only re-run a reconcile that now finds nothing to do. Count what the bus refused so an alarm can see it.
    try {
      const refused = await eventBridge.announce(announcements);
      if (refused.length === 0) return;
      const codes = [...new Set(refused.map((r) => r.errorCode))].join(', ');
      logger.error('announcement failed', {
        ...about,
        error: `${refused.length} of ${announcements.length} announcement(s) did not reach the bus, refused ones sent twice (${codes})`,
        errorName: 'AnnounceRefused',
        refused: refused.map((r) => ({ detailType: r.announcement.detailType, resources: r.announcement.resources ?? [], errorCode: r.errorCode })),
      });
      count('announce-failed', refused.length);
    } catch (error) {
      logger.error('announcement failed', errorFields(error));
      count('announce-failed', announcements.length);
    }
  };
  const notify = async (outcomes: readonly Outcome[]) => {
    if (!alarmTopic) return;
    for (const notification of outcomes.map((o) => notificationFor(o, account))) {
      if (!notification) continue;
      try {
        await alarmTopic.notify(notification);
      } catch (error) {
        // Like an announcement: the outcome is already logged and counted (BlockedPublishAlarm sees it).
        logger.error('alarm notification failed', errorFields(error));
        count('notify-failed', 1);
      }
    }
  };
  const reporter: Reporter = {
    async outcomes(outcomes, options) {
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
          ...(outcome.history !== undefined ? { history: outcome.history } : {}),
          ...whyFields(outcome),
          ...(outcome.pause !== undefined ? { pause: outcome.pause } : {}),
          ...auditFields(outcome),
          ...(outcome.sourceIPAddress !== undefined ? { sourceIPAddress: outcome.sourceIPAddress } : {}),
        };
        if (outcome.action === 'failed') logger.error('outcome', line);
        else if (outcome.action === 'blocked' || outcome.action === 'paused') logger.warn('outcome', line);
        else logger.info('outcome', line);
        count(outcome.action, 1);
        // Whatever the action: a save whose publish then failed is still a version kept.
        if (outcome.history !== undefined) count('history-written', 1);
      }
      await announce(outcomes);
      await notify(outcomes.filter((o) => options?.notify?.(o) ?? true));
    },
    pauseUnrecognised(parameter, value) {
      logger.warn('pause parameter value not recognised: paused to be safe', { ...about, parameter, value });
    },
    ignored(reason, trigger, eventId) {
      logger.info('ignored event', { ...about, reason, trigger, eventId });
      count('ignored-event', 1);
    },
    async sweepFinished(summary) {
      // Only versions this sweep is the first to see go to the alarm topic: not the same one every 15 minutes.
      const firstSeen = new Set(summary.notify);
      await reporter.outcomes(summary.outcomes, { notify: (o) => firstSeen.has(o.functionName) });
      count('deferred', summary.deferred.length);
      // Every sweep, zero included: OutOfSyncAlarm reads "still at one or more" from consecutive values.
      count('out-of-sync', summary.outOfSync.length);
      logger.info('sweep finished', { ...about, ...summary, held: summary.counts.paused ?? 0, outcomes: undefined });
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
