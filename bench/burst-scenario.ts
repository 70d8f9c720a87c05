/**
 * Scenario 2: a CI job updates N opted-in functions within a window (`windowMs`), another actor;
 * 30% of them are associated with a distribution, so under the variant
 * `developmentStatusAfterAssociatedUpdate=DEPLOYED` their updates read DEPLOYED and the event path
 * reads LIVE before it publishes.
 * The local stack: CloudTrail → the local bus (rules read from serverless.yml, each event once, 20%
 * twice) → the real onFunctionChange handler, behind a concurrency limit of 2 (reservedConcurrency)
 * with Lambda's async retries (serverless.yml's maximumRetryAttempts); the bus's dead letters and the
 * stack's failure queue hold what failed.
 */
import { describeVariants, resolveVariants, SeededRandom, type Variants } from '../emulator/index';
import { deployFunction } from '../local/console-edit';
import { RECONCILER_ACTOR } from '../local/local-stack';
import { instrument } from './instrument';
import { associateAll, FUNCTION_CODE, pick, SEED, type Settings, startBenchStack } from './common';

export interface BurstResult {
  variants: string;
  functions: number;
  /** Functions associated with a distribution (DEPLOYED). */
  associated: number;
  calls: number;
  callsByOperation: Record<string, number>;
  publishes: number;
  callsPerPublish: number;
  throttled: number;
  failures: number;
  wallMs: number;
  events: number;
  deliveries: number;
  duplicates: number;
  updaterCalls: number;
  updaterThrottled: number;
  emulatorCalls: number;
  actions: Record<string, number>;
  inSync: boolean;
  maxInFlight: number;
}

/** At most `limit` invocations at once, the rest wait in FIFO order (Lambda's async queue). */
function limited<T>(limit: number, run: (event: T) => Promise<unknown>) {
  let active = 0;
  let maxInFlight = 0;
  const waiting: (() => void)[] = [];
  const target = async (event: T) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    maxInFlight = Math.max(maxInFlight, active);
    try {
      return await run(event);
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
  return { target, maxInFlight: () => maxInFlight };
}

export async function runBurstScenario(options: {
  functions: number;
  windowMs: number;
  concurrency: number;
  settings?: Settings;
  variants?: Partial<Variants>;
}): Promise<BurstResult> {
  const n = options.functions;
  let maxInFlight = () => 0;
  const { stack, reconciler } = await startBenchStack({
    functionQuota: n + 10,
    variants: options.variants,
    settings: options.settings,
    bus: { seed: SEED, duplicateProbability: 0.2, delayMs: { min: 0, max: 200 } },
    eventInvoker: (invoke) => {
      const lambda = limited(options.concurrency, invoke);
      maxInFlight = lambda.maxInFlight;
      return lambda.target;
    },
  });
  const { emulator, bus } = stack;
  try {
    // History on (HISTORY_BUCKET set): the bucket exists, as the stack creates it.
    const historyBucket = options.settings?.HISTORY_BUCKET;
    if (historyBucket) emulator.state.createBucket(historyBucket);
    const etags = new Map<string, string>();
    const names = Array.from({ length: n }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    for (const name of names) {
      const seeded = emulator.state.seed({ name, code: `${FUNCTION_CODE} // ${name}`, tags: { 'auto-publish': 'true' }, publish: true });
      etags.set(name, seeded.developmentEtag);
    }
    const random = new SeededRandom(SEED);
    const associated = [...pick(n, Math.round(n * 0.3), () => random.next())].sort((a, b) => a - b);
    associateAll(
      emulator,
      associated.map((i) => emulator.state.model.arnFor(names[i]!)),
    );

    const ci = stack.clientFor('ci-job', { retryMode: 'adaptive', maxAttempts: 20 });
    const updater = instrument(ci);
    emulator.controls.resetCalls();

    const started = performance.now();
    const gap = options.windowMs / n;
    const updates = names.map(async (name, i) => {
      await new Promise((r) => setTimeout(r, i * gap));
      await deployFunction(ci, name, `${FUNCTION_CODE} // ${name} v2`, etags.get(name)!);
    });
    const updateErrors = (await Promise.allSettled(updates)).filter((r) => r.status === 'rejected');
    if (updateErrors.length) throw new Error(`${updateErrors.length} CI updates failed: ${String((updateErrors[0] as PromiseRejectedResult).reason)}`);

    // In sync = every function's LIVE equals its (updated) DEVELOPMENT.
    const inSync = () => emulator.state.snapshot().every((f) => f.live?.etag === f.development.etag);
    while (!inSync() && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
    const wallMs = performance.now() - started;
    await stack.settle();

    const deliveries = bus.deliveries();
    const actions: Record<string, number> = {};
    for (const o of stack.outcomes) actions[o.action] = (actions[o.action] ?? 0) + 1;
    const publishes = emulator.controls.publishLog().filter((p) => p.actor === RECONCILER_ACTOR).length;
    return {
      variants: describeVariants(resolveVariants(options.variants)),
      functions: n,
      associated: associated.length,
      calls: reconciler.total(),
      callsByOperation: reconciler.counts().sent,
      publishes,
      callsPerPublish: publishes ? reconciler.total() / publishes : Number.POSITIVE_INFINITY,
      throttled: reconciler.throttled(),
      failures: bus.deadLetters().length + stack.failureQueue.length + stack.outcomes.filter((o) => o.action === 'failed').length,
      wallMs,
      events: new Set(deliveries.map((d) => d.eventId)).size,
      deliveries: deliveries.filter((d) => d.attempt === 1).length,
      duplicates: deliveries.filter((d) => d.copy === 1 && d.attempt === 1).length,
      updaterCalls: updater.total(),
      updaterThrottled: updater.throttled(),
      emulatorCalls: Object.values(emulator.controls.calls()).reduce((a, b) => a + b, 0),
      actions,
      inSync: inSync(),
      maxInFlight: maxInFlight(),
    };
  } finally {
    await stack.close();
  }
}
