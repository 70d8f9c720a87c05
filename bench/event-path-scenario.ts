/**
 * Scenario 3: the event path's cost per update, LIVE read lazily (default) or eagerly
 * (`eagerLive: true`: LIVE read in the first round trip, with the tags and DEVELOPMENT).
 *
 * A CI job updates three kinds of functions, interleaved: opted-in and unassociated (DEVELOPMENT
 * reads UNPUBLISHED after the update), opted-in and associated with a distribution (reads DEPLOYED
 * under `developmentStatusAfterAssociatedUpdate=DEPLOYED`, UNPUBLISHED under the default), and not
 * opted in. The local stack: CloudTrail → the local bus (rules from serverless.yml, no delay, no
 * duplicates) → the real onFunctionChange handler built by `makeOnFunctionChange(runtime, { eagerLive })`,
 * one invocation at a time, so each invocation's calls (counted in the reconciler's SDK client) and
 * duration are its own. Updates are `gapMs` apart, so the rate limit never delays a call: the time
 * measured is round trips.
 */
import type { EventSummary } from '../handlers/on-function-change';
import type { BusEvent } from '../local/bus';
import { deployFunction } from '../local/console-edit';
import { RECONCILER_ACTOR } from '../local/local-stack';
import type { Variants } from '../emulator/index';
import { associateAll, FUNCTION_CODE, type Settings, sleep, startBenchStack } from './common';

export const EVENT_KINDS = ['unassociated-edit', 'associated-edit', 'not-opted-in'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface KindFigures {
  events: number;
  /** DEVELOPMENT's status right after the update, as the emulator held it (peeked, no read). */
  statuses: Record<string, number>;
  callsPerEvent: number;
  maxCalls: number;
  msPerEvent: number;
  maxMs: number;
}

export interface EventPathRun {
  eagerLive: boolean;
  /** The account's distributions (what ListDistributions pages through). */
  distributions: number;
  events: number;
  calls: number;
  callsPerEvent: number;
  /** Mean handler duration per event (invocation start to end). */
  msPerEvent: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  callsByOperation: Record<string, number>;
  byKind: Record<EventKind, KindFigures>;
  /** Most calls one update cost, by DEVELOPMENT's status after it (UNPUBLISHED, DEPLOYED…). */
  maxCallsByStatus: Record<string, number>;
  publishes: number;
  throttled: number;
  failures: number;
  /** Opted-in functions in sync and the not-opted-in ones left unpublished. */
  inSync: boolean;
  actions: Record<string, number>;
}

const ms1 = (v: number) => Number(v.toFixed(1));
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function runEventPathScenario(options: {
  perKind: number;
  gapMs: number;
  eagerLive: boolean;
  variants?: Partial<Variants>;
  settings?: Settings;
  /**
   * The account's distributions, at least: empty ones are added to those the associated functions
   * fill (one per 10), so ListDistributions has this many to page through (100 per page).
   */
  distributions?: number;
}): Promise<EventPathRun> {
  let perEvent: { name: string; calls: number; ms: number }[] = [];
  let queue = Promise.resolve();
  // One invocation at a time: each one's calls and duration are its own.
  const serial = (invoke: (event: BusEvent) => Promise<EventSummary>) => (event: BusEvent) => {
    const turn = queue.then(async () => {
      const calls = reconciler.total();
      const started = performance.now();
      const summary = await invoke(event);
      const ms = performance.now() - started;
      for (const o of summary.outcomes) perEvent.push({ name: o.functionName, calls: reconciler.total() - calls, ms });
      return summary;
    });
    queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  };
  const { stack, reconciler } = await startBenchStack({
    functionQuota: 3 * options.perKind + 10,
    variants: options.variants,
    settings: options.settings,
    bus: { delayMs: 0, duplicateProbability: 0 },
    eventPath: { eagerLive: options.eagerLive },
    eventInvoker: serial,
  });
  const { emulator, bus, outcomes } = stack;
  try {
    const prefix: Record<EventKind, string> = { 'unassociated-edit': 'ep-u', 'associated-edit': 'ep-a', 'not-opted-in': 'ep-n' };
    const kindOf = (name: string) => EVENT_KINDS.find((k) => name.startsWith(`${prefix[k]}-`));
    // A warm-up update first (the first invocation opens the client's connections), not measured;
    // then interleaved: u0, a0, n0, u1, a1, n1, …
    const WARM_UP = 'ep-0-warm-up';
    const measured = Array.from({ length: options.perKind }, (_, i) => EVENT_KINDS.map((k) => `${prefix[k]}-${String(i).padStart(3, '0')}`)).flat();
    const names = [WARM_UP, ...measured];
    const etags = new Map<string, string>();
    for (const name of names) {
      const tags: Record<string, string> = kindOf(name) === 'not-opted-in' ? { team: 'edge' } : { 'auto-publish': 'true', team: 'edge' };
      etags.set(name, emulator.state.seed({ name, code: `${FUNCTION_CODE} // ${name}`, tags, publish: true }).developmentEtag);
    }
    const filled = associateAll(
      emulator,
      names.filter((n) => kindOf(n) === 'associated-edit').map((n) => emulator.state.model.arnFor(n)),
    );
    for (let i = filled; i < (options.distributions ?? 0); i++) emulator.state.createDistribution({ comment: `bench site without functions ${i}` });

    // DEVELOPMENT's status right after each update: the listener runs as the answer is written,
    // before the bus delivers the event (the bus delivers on a later turn; the handler has read nothing yet).
    const statusAfterUpdate = new Map<string, string>();
    let updating: string | undefined;
    emulator.onCloudTrailEvent(() => {
      if (updating !== undefined && !statusAfterUpdate.has(updating)) {
        statusAfterUpdate.set(updating, emulator.state.snapshot().find((f) => f.name === updating)?.development.status ?? '?');
      }
    });

    const ci = stack.clientFor('ci-job', { maxAttempts: 10 });
    const update = async (name: string) => {
      updating = name;
      await deployFunction(ci, name, `${FUNCTION_CODE} // ${name} v2`, etags.get(name)!);
      await sleep(options.gapMs);
    };
    await update(WARM_UP);
    await stack.settle();
    await queue;
    const warmedUp = perEvent.length === 1 && outcomes.length === 1;
    perEvent = [];
    outcomes.length = 0;
    reconciler.reset();
    for (const name of measured) await update(name);
    await stack.settle();
    await queue;

    const snapshot = emulator.state.snapshot();
    const inSync = snapshot.every((f) => (f.tags['auto-publish'] === 'true') === (f.live?.etag === f.development.etag));
    const figures = (rows: typeof perEvent) => {
      const sorted = rows.map((r) => r.ms).sort((a, b) => a - b);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return {
        events: rows.length,
        calls: sum(rows.map((r) => r.calls)),
        callsPerEvent: rows.length ? Number((sum(rows.map((r) => r.calls)) / rows.length).toFixed(3)) : 0,
        maxCalls: Math.max(0, ...rows.map((r) => r.calls)),
        msPerEvent: rows.length ? ms1(sum(sorted) / rows.length) : 0,
        p50Ms: ms1(quantile(sorted, 0.5)),
        p95Ms: ms1(quantile(sorted, 0.95)),
        maxMs: ms1(sorted[sorted.length - 1] ?? 0),
      };
    };
    const byKind = Object.fromEntries(
      EVENT_KINDS.map((kind) => {
        const rows = perEvent.filter((r) => kindOf(r.name) === kind);
        const f = figures(rows);
        const statuses: Record<string, number> = {};
        for (const r of rows) {
          const status = statusAfterUpdate.get(r.name) ?? '?';
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
        return [kind, { events: f.events, statuses, callsPerEvent: f.callsPerEvent, maxCalls: f.maxCalls, msPerEvent: f.msPerEvent, maxMs: f.maxMs }];
      }),
    ) as Record<EventKind, KindFigures>;
    const all = figures(perEvent);
    const maxCallsByStatus: Record<string, number> = {};
    for (const r of perEvent) {
      const status = statusAfterUpdate.get(r.name) ?? '?';
      maxCallsByStatus[status] = Math.max(maxCallsByStatus[status] ?? 0, r.calls);
    }
    const actions: Record<string, number> = {};
    for (const o of outcomes) actions[o.action] = (actions[o.action] ?? 0) + 1;
    return {
      eagerLive: options.eagerLive,
      distributions: Math.max(filled, options.distributions ?? 0),
      events: all.events,
      calls: reconciler.total(),
      callsPerEvent: all.callsPerEvent,
      msPerEvent: all.msPerEvent,
      p50Ms: all.p50Ms,
      p95Ms: all.p95Ms,
      maxMs: all.maxMs,
      callsByOperation: reconciler.counts().sent,
      byKind,
      maxCallsByStatus,
      publishes: emulator.controls.publishLog().filter((p) => p.actor === RECONCILER_ACTOR).length,
      throttled: reconciler.throttled(),
      failures:
        bus.deadLetters().length +
        stack.failureQueue.length +
        outcomes.filter((o) => o.action === 'failed').length +
        (measured.length - perEvent.length) +
        (warmedUp ? 0 : 1),
      inSync,
      actions,
    };
  } finally {
    await stack.close();
  }
}
