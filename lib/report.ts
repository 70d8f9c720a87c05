/**
 * Outcomes leave the reconciler three ways: one structured log line per decision, one EMF count per
 * action, and (when a bus is configured) an EventBridge announcement of publishes, failures and
 * dry-run would-publishes. All three are here, so every path reports the same way.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Action } from './decide';
import type { Announcement, EventBridgeGateway } from './eventbridge-gateway';
import type { Outcome } from './reconcile';

export const SERVICE = 'cloudfront-autopublish';

export const logger = new Logger({ serviceName: SERVICE });
export const metrics = new Metrics({ namespace: 'CloudFrontAutoPublish', serviceName: SERVICE });

const DETAIL_TYPES: Partial<Record<Action, string>> = {
  published: 'CloudFront Function Published',
  failed: 'CloudFront Function Publish Failed',
  'would-publish': 'CloudFront Function Would Publish',
};

export function announcementFor(outcome: Outcome): Announcement | undefined {
  const detailType = DETAIL_TYPES[outcome.action];
  if (!detailType) return undefined;
  return {
    detailType,
    resources: [outcome.functionArn],
    detail: {
      functionName: outcome.functionName,
      functionArn: outcome.functionArn,
      etag: outcome.etag ?? null,
      trigger: outcome.trigger,
      dryRun: outcome.dryRun,
      ...(outcome.error ? { error: outcome.error } : {}),
    },
  };
}

export interface Reporter {
  report(outcomes: readonly Outcome[]): Promise<void>;
}

export interface ReporterOptions {
  readonly logger: Pick<Logger, 'info' | 'error' | 'warn'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  readonly eventBridge?: EventBridgeGateway | undefined;
}

export function createReporter({ logger: log, metrics: counts, eventBridge }: ReporterOptions): Reporter {
  return {
    async report(outcomes) {
      for (const outcome of outcomes) {
        const line = {
          function: outcome.functionName,
          functionArn: outcome.functionArn,
          trigger: outcome.trigger,
          action: outcome.action,
          etag: outcome.etag ?? null,
          dryRun: outcome.dryRun,
          publishAttempts: outcome.publishAttempts,
          ...(outcome.error ? { error: outcome.error } : {}),
        };
        if (outcome.action === 'failed') log.error('outcome', line);
        else log.info('outcome', line);
        counts?.addMetric(outcome.action, MetricUnit.Count, 1);
      }
      const announcements = outcomes.map(announcementFor).filter((a): a is Announcement => a !== undefined);
      if (!eventBridge || announcements.length === 0) return;
      try {
        await eventBridge.announce(announcements);
      } catch (error) {
        // An announcement is a notification about a write already made; failing the invocation would
        // only re-run a reconcile that now finds nothing to do. Count it so an alarm can see it.
        log.error('announcement failed', { error: error instanceof Error ? error.message : String(error) });
        counts?.addMetric('announce-failed', MetricUnit.Count, announcements.length);
      }
    },
  };
}
