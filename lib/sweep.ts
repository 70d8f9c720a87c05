/**
 * The drift sweep: lists DEVELOPMENT once and reconciles only the functions whose status says LIVE
 * may differ. It keeps no state of its own, so whatever it leaves (time ran out, a failure) the
 * next sweep picks up.
 */
import type { CloudFrontGateway, FunctionListing } from './cloudfront-gateway';
import { statusSync } from './decide';
import { failedOutcome, type Outcome, reconcile, type ReconcileOptions } from './reconcile';
import { isFunctionName } from './function-ref';

export interface SweepOptions extends Omit<ReconcileOptions, 'eagerDevelopment'> {
  readonly concurrency: number;
  /** Milliseconds the invocation has left; the sweep stops taking new candidates under `reserveMs`. */
  readonly remainingMs?: () => number;
  readonly reserveMs?: number;
  /** Called after each candidate, for progress on a terminal. */
  readonly onOutcome?: (outcome: Outcome, done: number, total: number) => void;
}

export interface SweepReport {
  readonly listed: number;
  readonly candidates: number;
  readonly outcomes: readonly Outcome[];
  /** Candidates not started because the time budget ran out; the next sweep takes them. */
  readonly deferred: readonly string[];
}

export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { cloudfront, concurrency } = options;
  const remainingMs = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const reserveMs = options.reserveMs ?? 0;

  const candidates: FunctionListing[] = [];
  let listed = 0;
  for await (const page of cloudfront.listFunctions('DEVELOPMENT')) {
    listed += page.length;
    // Status alone tells whether LIVE may differ; in-sync functions cost nothing more.
    candidates.push(...page.filter((fn) => statusSync(fn.status) !== 'in-sync'));
  }

  const outcomes: Outcome[] = [];
  const deferred: string[] = [];
  await forEachWithConcurrency(candidates, concurrency, async (fn) => {
    if (remainingMs() < reserveMs) {
      deferred.push(fn.name);
      return;
    }
    const outcome = await reconcileOrFail(fn, options);
    outcomes.push(outcome);
    options.onOutcome?.(outcome, outcomes.length + deferred.length, candidates.length);
  });
  return { listed, candidates: candidates.length, outcomes, deferred };
}

/** One function's failure must not stop the others: it becomes a `failed` outcome. */
async function reconcileOrFail(fn: FunctionListing, options: SweepOptions): Promise<Outcome> {
  if (!isFunctionName(fn.name)) {
    return failedOutcome(fn, 'sweep', options.policy.dryRun, new Error(`invalid function name ${JSON.stringify(fn.name)} in ListFunctions`));
  }
  try {
    return await reconcile(fn, 'sweep', { ...options, eagerDevelopment: false });
  } catch (error) {
    return failedOutcome(fn, 'sweep', options.policy.dryRun, error);
  }
}

export async function forEachWithConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export interface SweepSummary {
  readonly trigger: 'sweep';
  readonly listed: number;
  readonly candidates: number;
  readonly counts: Readonly<Partial<Record<Outcome['action'], number>>>;
  readonly failed: readonly string[];
  readonly deferred: readonly string[];
  readonly outcomes: readonly Outcome[];
}

export function summariseSweep(report: SweepReport): SweepSummary {
  const counts: Partial<Record<Outcome['action'], number>> = {};
  for (const o of report.outcomes) counts[o.action] = (counts[o.action] ?? 0) + 1;
  return {
    trigger: 'sweep',
    listed: report.listed,
    candidates: report.candidates,
    counts,
    failed: report.outcomes.filter((o) => o.action === 'failed').map((o) => o.functionName),
    deferred: report.deferred,
    outcomes: report.outcomes,
  };
}

/** Thrown after every candidate was tried, so the error metric and alarm fire. */
export class SweepFailedError extends Error {
  override name = 'SweepFailedError';
  constructor(readonly functionNames: readonly string[]) {
    super(`sweep could not reconcile ${functionNames.length} function(s): ${functionNames.join(', ')}`);
  }
}
