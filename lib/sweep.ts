/**
 * The drift sweep: lists both stages of both kinds of function once (ListFunctions and
 * ListConnectionFunctions, DEVELOPMENT and LIVE, all four in parallel) and reconciles only the
 * functions whose listing says LIVE may differ (`isSweepCandidate`), of either kind, through the same
 * reconcile. It keeps no state of its own, so whatever it leaves (time ran out,
 * a failure) the next sweep picks up.
 */
import { type CloudFrontGateway, type FunctionListing, ListingError } from './cloudfront-gateway';
import { isSweepCandidate, type Stage } from './decide';
import { AutoPublishError, describeError, isPermanentAwsError, isRetryable } from './errors';
import type { PublishGate } from './publish-gate';
import { failedOutcome, type Outcome, reconcile, ReconcileError, type ReconcileOptions } from './reconcile';
import { FUNCTION_KINDS, type FunctionKind, functionKey, identifierOf, isConnectionFunctionId, isFunctionName, parseCloudFrontArn } from './function-ref';
import { setMaxListeners } from 'node:events';
import { untilAborted } from './aws-client';
import { ConfigError } from './config';

export interface SweepOptions extends Omit<ReconcileOptions, 'eagerDevelopment' | 'gate' | 'signal'> {
  /**
   * The publish gate for this sweep, built over the gateway the sweep hands it (bound to the sweep's
   * deadline), once: every candidate shares it, so the account's associations are read once.
   */
  readonly publishGate?: (cloudfront: CloudFrontGateway) => PublishGate | undefined;
  readonly concurrency: number;
  /**
   * Every listed function is a candidate, whatever the listings say: the resync pass (ACK's resync
   * period) that catches what no listing field can show, such as an edit in the same millisecond as
   * the publish before it, with its event lost, under the reading where DEVELOPMENT keeps saying
   * DEPLOYED. It costs one tag read per function.
   */
  readonly full?: boolean;
  /** Milliseconds the invocation has left; the sweep stops taking new candidates under `reserveMs`. */
  readonly remainingMs?: () => number;
  readonly reserveMs?: number;
  /**
   * Hard stop: when this little time is left, every call still in flight is aborted and its candidate
   * counted as deferred, so nothing the sweep started can outlive the Lambda (a reconcile is up to 7
   * rounds of calls, and under throttling each call may back off for tens of seconds: no reserve
   * covers that worst case, an abort does). Default: half the reserve, leaving the rest for reporting.
   * A PublishFunction already sent is the exception: its answer is awaited until the last stop.
   */
  readonly hardStopMs?: number;
  /**
   * When this little time is left, a PublishFunction still in flight is abandoned too. Between the hard
   * stop and here a publish that was sent may still answer, and then it is reported like any other;
   * one abandoned here is reported as failed, since it may have landed. Default: half the hard stop.
   */
  readonly lastStopMs?: number;
  /** Called after each candidate, for progress on a terminal. */
  readonly onOutcome?: (outcome: Outcome, done: number, total: number) => void;
}

export interface SweepReport {
  readonly listed: number;
  readonly candidates: number;
  readonly outcomes: readonly Outcome[];
  /**
   * Candidates not started, or interrupted at the hard stop, because time ran out; the next sweep takes
   * them. Each by its key (lib/function-ref.ts, `functionKey`): an ordinary function's name, or
   * `connection-function/<Id>`.
   */
  readonly deferred: readonly string[];
  /** The part of `deferred` that had started and was aborted at the hard stop. */
  readonly interrupted: readonly string[];
  /** False when the hard stop came before ListFunctions reached its last page. */
  readonly listingComplete: boolean;
  /** Each candidate's DEVELOPMENT LastModifiedTime, as listed (undefined: the listing had none), by its key. */
  readonly developmentModified: ReadonlyMap<string, Date | undefined>;
}

export class SweepDeadlineError extends AutoPublishError {
  override name = 'SweepDeadlineError';
  readonly retryable = true;
  constructor() {
    super('the sweep reached its hard stop before the Lambda timeout; the call was abandoned');
  }
}

export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { concurrency } = options;
  const remainingMs = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const reserveMs = options.reserveMs ?? 0;
  const hardStopMs = options.hardStopMs ?? reserveMs / 2;
  const lastStopMs = Math.min(options.lastStopMs ?? hardStopMs / 2, hardStopMs);

  // A reserve that leaves no time would defer everything, every time, and succeed: nothing would ever
  // be reconciled and no alarm would fire.
  const atStart = remainingMs();
  if (atStart <= reserveMs) {
    throw new ConfigError(
      'SWEEP_RESERVE_MS',
      `${reserveMs} ms leaves the sweep no time (${Math.floor(atStart)} ms left at its start); set it well below the sweep's timeout`,
    );
  }

  const deadline = new AbortController();
  // Every in-flight SDK call listens on this one signal; more than 10 at once is expected, not a leak.
  setMaxListeners(0, deadline.signal);
  const lastStop = new AbortController();
  setMaxListeners(0, lastStop.signal);
  const untilHardStop = remainingMs() - hardStopMs;
  const timer = Number.isFinite(untilHardStop) ? setTimeout(() => deadline.abort(new SweepDeadlineError()), Math.max(0, untilHardStop)) : undefined;
  const untilLastStop = remainingMs() - lastStopMs;
  const lastTimer = Number.isFinite(untilLastStop) ? setTimeout(() => lastStop.abort(new SweepDeadlineError()), Math.max(0, untilLastStop)) : undefined;
  const cloudfront = withDeadline(options.cloudfront, deadline.signal, lastStop.signal);
  const stopped = (error: unknown) => deadline.signal.aborted && isDeadline(error);

  try {
    const development: FunctionListing[] = [];
    const live: FunctionListing[] = [];
    let candidates: FunctionListing[];
    let listingComplete = true;
    try {
      // Both stages of both kinds at once: one round trip per page. LIVE lists only published functions.
      await Promise.all(FUNCTION_KINDS.flatMap((kind) => [listInto(cloudfront, 'DEVELOPMENT', kind, development), listInto(cloudfront, 'LIVE', kind, live)]));
      const liveByKey = new Map(live.map((fn) => [functionKey(fn), fn]));
      candidates = options.full ? development : development.filter((fn) => isSweepCandidate(fn, liveByKey.get(functionKey(fn))));
    } catch (error) {
      // Each function's failure becomes an outcome; a failed listing is the one thing that escapes.
      if (!stopped(error)) throw error;
      // Hard stop mid-listing: without both listings we cannot tell which differ, so all of what was
      // listed is deferred to the next sweep.
      listingComplete = false;
      candidates = development;
    }
    const listed = development.length;

    const outcomes: Outcome[] = [];
    const deferred: string[] = [];
    const interrupted: string[] = [];
    const gate = options.publishGate?.(cloudfront);
    const reconcileOptions = { ...options, cloudfront, signal: deadline.signal, ...(gate ? { gate } : {}) };
    await forEachWithConcurrency(candidates, concurrency, async (fn) => {
      if (deadline.signal.aborted || remainingMs() < reserveMs) {
        deferred.push(functionKey(fn));
        return;
      }
      const outcome = await reconcileOrFail(fn, reconcileOptions, stopped);
      if (outcome === 'interrupted') {
        deferred.push(functionKey(fn));
        interrupted.push(functionKey(fn));
        return;
      }
      outcomes.push(outcome);
      options.onOutcome?.(outcome, outcomes.length + deferred.length, candidates.length);
    });
    const developmentModified = new Map(candidates.map((fn) => [functionKey(fn), fn.lastModified]));
    return { listed, candidates: candidates.length, outcomes, deferred, interrupted, listingComplete, developmentModified };
  } finally {
    if (timer) clearTimeout(timer);
    if (lastTimer) clearTimeout(lastTimer);
  }
}

async function listInto(cloudfront: CloudFrontGateway, stage: Stage, kind: FunctionKind, into: FunctionListing[]): Promise<void> {
  try {
    for await (const page of cloudfront.listFunctions(stage, undefined, kind)) into.push(...page);
  } catch (error) {
    throw new SweepListingError(stage, error, kind);
  }
}

/** One function's failure must not stop the others: it becomes a `failed` outcome. */
async function reconcileOrFail(
  fn: FunctionListing,
  options: Omit<ReconcileOptions, 'eagerDevelopment'>,
  stopped: (error: unknown) => boolean,
): Promise<Outcome | 'interrupted'> {
  if (!isFunctionName(fn.name)) {
    return failedOutcome(
      fn,
      'sweep',
      options.policy.dryRun,
      new ListingError(`${LIST_CALL[fn.kind ?? 'function']} (DEVELOPMENT)`, `invalid function name ${JSON.stringify(fn.name)}`),
    );
  }
  if (fn.kind === 'connection' && !isConnectionFunctionId(fn.id)) {
    return failedOutcome(
      fn,
      'sweep',
      options.policy.dryRun,
      new ListingError(`${LIST_CALL.connection} (DEVELOPMENT)`, `invalid connection function Id ${JSON.stringify(identifierOf(fn).slice(0, 80))}`),
    );
  }
  try {
    return await reconcile(fn, 'sweep', { ...options, eagerDevelopment: false });
  } catch (error) {
    if (stopped(error)) {
      // Abandoned at the hard stop before any publish was sent: not a failure. CloudFront holds all
      // the state, so the next sweep finishes it.
      const progress = error instanceof ReconcileError ? error.progress : undefined;
      if (!progress || progress.publishAttempts === 0) return 'interrupted';
      // A publish was sent and its outcome is unknown: it may have landed, and the next sweep would
      // only find it in sync and say nothing. Reported (and the sweep fails) so that it is seen.
      const sent = new ReconcileError(
        fn.name,
        progress,
        error,
        `${fn.name}: the sweep ran out of time after PublishFunction${progress.etag ? ` of ${progress.etag}` : ''} was sent; it may have landed (compare LIVE with DEVELOPMENT)`,
      );
      return failedOutcome(fn, 'sweep', options.policy.dryRun, sent);
    }
    return failedOutcome(fn, 'sweep', options.policy.dryRun, error);
  }
}

function isDeadline(error: unknown): boolean {
  if (error instanceof SweepDeadlineError) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isDeadline(cause);
}

/**
 * The gateway, bound to the sweep's deadline: each call gets the signal (the SDK stops retrying) and
 * is raced against it, so the sweep returns at the hard stop even when a call is sleeping in a
 * retry backoff or waiting for the adaptive rate limiter. No publish starts after the hard stop, but
 * one already sent is bound to `lastStop` instead: its answer, when it comes in time, is what tells
 * whether a publish happened.
 */
export function withDeadline(inner: CloudFrontGateway, signal: AbortSignal, lastStop: AbortSignal = signal): CloudFrontGateway {
  const guard = <T>(call: Promise<T>, bound: AbortSignal = signal): Promise<T> => untilAborted(call, bound);
  return {
    readTags: (arn) => guard(inner.readTags(arn, signal)),
    describe: (fn, stage) => guard(inner.describe(fn, stage, signal)),
    getCode: (fn, stage) => guard(inner.getCode(fn, stage, signal)),
    publish: (fn, etag) => (signal.aborted ? Promise.reject(signal.reason) : guard(inner.publish(fn, etag, lastStop), lastStop)),
    testFunction: (fn, etag, stage, event) => guard(inner.testFunction(fn, etag, stage, event, signal)),
    listFunctionAssociations: () => guard(inner.listFunctionAssociations(signal)),
    async *listFunctions(stage, _signal, kind) {
      const pages = inner.listFunctions(stage, signal, kind)[Symbol.asyncIterator]();
      for (;;) {
        const next = await guard(pages.next());
        if (next.done) return;
        yield next.value;
      }
    },
  };
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
  readonly interrupted: readonly string[];
  readonly listingComplete: boolean;
  readonly outcomes: readonly Outcome[];
  /**
   * Opted-in functions still not live whose DEVELOPMENT changed over `outOfSyncMinutes` ago: blocked,
   * failed or deferred. Paused ones are held on purpose, and a dry run publishes nothing on purpose.
   * A deferred candidate's tags were not read: it counts, since it may be opted in.
   */
  readonly outOfSync: readonly string[];
  /** Blocked or failed versions the previous sweep could not have seen: the ones sent to the alarm topic. */
  readonly notify: readonly string[];
}

/** What "out of sync" and "the previous sweep" mean to the summary (config: OUT_OF_SYNC_MINUTES, SWEEP_INTERVAL_SECONDS). */
export interface SweepClock {
  readonly now: Date;
  readonly outOfSyncMinutes: number;
  /** The sweep's schedule: the previous sweep started about this long ago. */
  readonly sweepIntervalSeconds: number;
}

export function sweepClock(config: Pick<SweepClock, 'outOfSyncMinutes' | 'sweepIntervalSeconds'>, now = new Date()): SweepClock {
  return { now, outOfSyncMinutes: config.outOfSyncMinutes, sweepIntervalSeconds: config.sweepIntervalSeconds };
}

const STUCK: ReadonlySet<Outcome['action']> = new Set(['blocked', 'failed']);

/** The key of the function an outcome is about (as `functionKey`), from its ARN: a connection function's names its Id. */
function outcomeKey(outcome: Outcome): string {
  const arn = parseCloudFrontArn(outcome.functionArn);
  return arn?.resourceType === 'connection-function' ? `connection-function/${arn.resourceId}` : outcome.functionName;
}

export function summariseSweep(report: SweepReport, clock?: SweepClock): SweepSummary {
  const counts: Partial<Record<Outcome['action'], number>> = {};
  for (const o of report.outcomes) counts[o.action] = (counts[o.action] ?? 0) + 1;
  const now = (clock?.now ?? new Date()).getTime();
  const modified = (name: string) => report.developmentModified.get(name)?.getTime();
  // A time the listing did not give counts as old: out of sync, but never "first seen" (no repeats).
  const olderThan = (name: string, ms: number) => (modified(name) ?? Number.NEGATIVE_INFINITY) < now - ms;
  const stuck = report.outcomes.filter((o) => STUCK.has(o.action)).map(outcomeKey);
  const outOfSyncMs = (clock?.outOfSyncMinutes ?? 30) * 60_000;
  const previousSweepMs = (clock?.sweepIntervalSeconds ?? 900) * 1000;
  return {
    outOfSync: [...stuck, ...report.deferred].filter((name) => olderThan(name, outOfSyncMs)),
    notify: stuck.filter((name) => !olderThan(name, previousSweepMs)),
    trigger: 'sweep',
    listed: report.listed,
    candidates: report.candidates,
    counts,
    failed: report.outcomes.filter((o) => o.action === 'failed').map(outcomeKey),
    deferred: report.deferred,
    interrupted: report.interrupted,
    listingComplete: report.listingComplete,
    outcomes: report.outcomes,
  };
}

/** Why a finished sweep must fail its invocation (so the errors alarm fires), or undefined. */
export function sweepFailure(summary: SweepSummary): Error | undefined {
  if (summary.failed.length > 0) return new SweepFailedError(summary.failed);
  const stalled = summary.outcomes.length === 0 && (summary.deferred.length > 0 || !summary.listingComplete);
  return stalled ? new SweepStalledError(summary.deferred.length, summary.listingComplete) : undefined;
}

/** No progress at all: time ran out before any candidate was reconciled. Left alone, it repeats every tick. */
export class SweepStalledError extends AutoPublishError {
  override name = 'SweepStalledError';
  readonly retryable = true;
  constructor(deferred: number, listingComplete: boolean) {
    super(
      `sweep deferred all ${deferred} candidates${listingComplete ? '' : ' and could not finish the listing'} and reconciled none: the listing took the time, or SWEEP_RESERVE_MS is too close to the timeout`,
    );
  }
}

/** Thrown after every candidate was tried, so the error metric and alarm fire. */
export class SweepFailedError extends AutoPublishError {
  override name = 'SweepFailedError';
  readonly retryable = true;
  constructor(readonly functionNames: readonly string[]) {
    super(`sweep could not reconcile ${functionNames.length} function(s): ${functionNames.join(', ')}`);
  }
}

const LIST_CALL: Record<FunctionKind, string> = { function: 'ListFunctions', connection: 'ListConnectionFunctions' };

/** The sweep could not list a stage: names the call, so the alarm's log line says what failed. */
export class SweepListingError extends AutoPublishError {
  override name = 'SweepListingError';
  readonly retryable: boolean;
  constructor(
    readonly stage: Stage,
    cause: unknown,
    readonly kind: FunctionKind = 'function',
  ) {
    super(`sweep: ${LIST_CALL[kind]} (${stage}) failed: ${describeError(cause)}`, { cause });
    this.retryable = isRetryable(cause) && !isPermanentAwsError(cause);
  }
}
