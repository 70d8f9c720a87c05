/**
 * Scenario 2: a CI job updates N opted-in functions within 20 s (another actor, through the SDK);
 * 30% of them are associated with a distribution, so under the variant
 * `developmentStatusAfterAssociatedUpdate=DEPLOYED` their updates read DEPLOYED and the event path
 * reads LIVE before it publishes.
 * CloudTrail → the local bus (rules read from serverless.yml, each event once, 20% twice) → the real
 * onFunctionChange handler, behind a concurrency limit of 2 (reservedConcurrency) with Lambda's async
 * retries (2) and the bus's dead letters as the failure queue.
 *
 * Runs in the bench's own process: the handler reads process.env, so set it before the first call.
 */
import { CloudFrontClient, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';
import { lambdaContext } from '../local/lambda-context';
import { reconcilerEnvironment } from '../local/local-stack';
import { handler as onFunctionChange, type EventSummary } from '../handlers/on-function-change';
import { busRulesFromServerless, describeVariants, LocalBus, readServerlessRules, resolveVariants, SeededRandom, startEmulator, type Variants } from '../emulator/index';
import { runtimeFromEnvironment } from '../lib/runtime';
import type { Outcome } from '../lib/reconcile';
import { instrument } from './instrument';
import { associateAll, LATENCY_MS, pick, RATE, ROOT, SEED } from './common';
import { join } from 'node:path';

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

const CODE = 'function handler(event) { return event.request; }';

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
  env?: Record<string, string>;
  variants?: Partial<Variants>;
}): Promise<BurstResult> {
  const n = options.functions;
  const emulator = await startEmulator({ functionQuota: n + 10, latency: LATENCY_MS, rateLimit: RATE, ...(options.variants ? { variants: options.variants } : {}) });
  const restoreEnvironment = reconcilerEnvironment(emulator, options.env);
  emulator.controls.setActor('AKIDCIJOB', 'ci-job');
  try {
    const etags = new Map<string, string>();
    const names = Array.from({ length: n }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    for (const name of names) {
      const seeded = emulator.state.seed({ name, code: `${CODE} // ${name}`, tags: { 'auto-publish': 'true' }, publish: true });
      etags.set(name, seeded.developmentEtag);
    }
    const random = new SeededRandom(SEED);
    const associated = [...pick(n, Math.round(n * 0.3), () => random.next())].sort((a, b) => a - b);
    associateAll(emulator, associated.map((i) => emulator.state.model.arnFor(names[i]!)));

    // The reconciler's client is the one its handler will use (runtimeFromEnvironment caches it).
    const reconciler = instrument(runtimeFromEnvironment().cloudFrontClient);
    const ci = new CloudFrontClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDCIJOB', secretAccessKey: 'local' },
      retryMode: 'adaptive',
      maxAttempts: 20,
    });
    const updater = instrument(ci);

    const outcomes: Outcome[] = [];
    const account = emulator.accountId;
    const lambda = limited(options.concurrency, async (event: unknown) => {
      const summary = (await onFunctionChange(event, lambdaContext('onFunctionChange', account, 30_000))) as EventSummary;
      outcomes.push(...summary.outcomes);
      return summary;
    });
    const bus = new LocalBus({
      seed: SEED,
      duplicateProbability: 0.2,
      delayMs: { min: 0, max: 200 },
      retry: { maxRetries: 2, delayMs: 1_000 },
    });
    for (const rule of busRulesFromServerless(readServerlessRules(join(ROOT, 'serverless.yml')), { onFunctionChange: lambda.target })) bus.addRule(rule);
    emulator.onCloudTrailEvent((event) => bus.put(event));
    emulator.controls.resetCalls();

    const started = performance.now();
    const gap = options.windowMs / n;
    const updates = names.map(async (name, i) => {
      await new Promise((r) => setTimeout(r, i * gap));
      await ci.send(
        new UpdateFunctionCommand({
          Name: name,
          IfMatch: etags.get(name),
          FunctionConfig: { Comment: 'ci deploy', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: new TextEncoder().encode(`${CODE} // ${name} v2`),
        }),
      );
    });
    const updateErrors = (await Promise.allSettled(updates)).filter((r) => r.status === 'rejected');
    if (updateErrors.length) throw new Error(`${updateErrors.length} CI updates failed: ${String((updateErrors[0] as PromiseRejectedResult).reason)}`);

    // In sync = every function's LIVE equals its (updated) DEVELOPMENT.
    const inSync = () => emulator.state.snapshot().every((f) => f.live?.etag === f.development.etag);
    while (!inSync() && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
    const wallMs = performance.now() - started;
    await bus.drain();

    const deliveries = bus.deliveries();
    const actions: Record<string, number> = {};
    for (const o of outcomes) actions[o.action] = (actions[o.action] ?? 0) + 1;
    const publishes = emulator.controls.publishLog().filter((p) => p.actor === 'cf-autopublish').length;
    const counts = reconciler.counts();
    bus.dispose();
    return {
      variants: describeVariants(resolveVariants(options.variants)),
      functions: n,
      associated: associated.length,
      calls: reconciler.total(),
      callsByOperation: counts.sent,
      publishes,
      callsPerPublish: publishes ? reconciler.total() / publishes : Number.POSITIVE_INFINITY,
      throttled: reconciler.throttled(),
      failures: bus.deadLetters().length + outcomes.filter((o) => o.action === 'failed').length,
      wallMs,
      events: new Set(deliveries.map((d) => d.eventId)).size,
      deliveries: deliveries.filter((d) => d.attempt === 1).length,
      duplicates: deliveries.filter((d) => d.copy === 1 && d.attempt === 1).length,
      updaterCalls: updater.total(),
      updaterThrottled: updater.throttled(),
      emulatorCalls: Object.values(emulator.controls.calls()).reduce((a, b) => a + b, 0),
      actions,
      inSync: inSync(),
      maxInFlight: lambda.maxInFlight(),
    };
  } finally {
    await emulator.close();
    restoreEnvironment();
  }
}
