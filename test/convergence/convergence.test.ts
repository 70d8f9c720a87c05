/**
 * Convergence and safety, property-based: fast-check generates histories of edits by other actors,
 * unreliable CloudTrail delivery and CloudFront faults; the real handlers run against the emulator;
 * then the faults stop, the bus settles, one final sweep runs (faults off: it must succeed at once),
 * and the invariants of harness.ts `Rig.check` are verified on what the emulator saw.
 *
 *   CI:    300 histories (CONVERGENCE_RUNS overrides)
 *   soak:  npm run soak  → 5,000 histories, or CONVERGENCE_TIME_LIMIT_MS=600000 npm run soak
 *   replay a failure: CONVERGENCE_SEED=<seed> CONVERGENCE_PATH=<path> npm run soak
 *
 * Every random choice (the history, the bus's delay/dup/loss/reorder, the emulator's faults) comes
 * from the fast-check seed, so a replay re-runs the same history with the same seeds. Thread timing
 * (latency, which request lands first) is real, so a failure that hinges on a narrow interleaving
 * may need a few replays: CONVERGENCE_REPEAT=20 runs the replayed history that many times.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VARIANT_VALUES, type Variants } from '../../emulator';
import { type History, NAMES, Rig, type Step } from './harness';

const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 300);
const TIME_LIMIT_MS = process.env.CONVERGENCE_TIME_LIMIT_MS ? Number(process.env.CONVERGENCE_TIME_LIMIT_MS) : undefined;
const SEED = process.env.CONVERGENCE_SEED ? Number(process.env.CONVERGENCE_SEED) : undefined;
const PATH = process.env.CONVERGENCE_PATH || undefined;
const REPEAT = Number(process.env.CONVERGENCE_REPEAT ?? 1);

const fnIndex = fc.integer({ min: 0, max: NAMES.length - 1 });
const tagValue = fc.constantFrom('true', 'TRUE', ' true ', 'false', 'yes', '');

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('create' as const), fn: fnIndex, tag: fc.option(tagValue, { nil: null }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('update' as const), fn: fnIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), fn: fnIndex }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('tag' as const), fn: fnIndex, value: tagValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('untag' as const), fn: fnIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tagOther' as const), fn: fnIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('publishOther' as const), fn: fnIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('race' as const), fn: fnIndex, writers: fc.integer({ min: 2, max: 3 }), publisher: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 6 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('faults' as const),
      probability: fc.constantFrom(0.1, 0.25, 0.5),
      afterCommitShare: fc.constantFrom(0, 0.5, 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('faultsOff' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('throttle' as const), burst: fc.integer({ min: 1, max: 3 }), ratePerSecond: fc.constantFrom(20, 100) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('throttleOff' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('latency' as const), maxMs: fc.integer({ min: 2, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('latencyOff' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crashNext' as const), afterCalls: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hold' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('loseNext' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('associate' as const), fn: fnIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disassociate' as const), fn: fnIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('badUpdate' as const), fn: fnIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
);

/** One reading of the unconfirmed CloudFront behaviours, from the emulator's own list (shrinks to the defaults). */
const variants: fc.Arbitrary<Variants> = fc.record({
  developmentStatusAfterAssociatedUpdate: fc.constantFrom(...VARIANT_VALUES.developmentStatusAfterAssociatedUpdate),
  liveLastModifiedTime: fc.constantFrom(...VARIANT_VALUES.liveLastModifiedTime),
  statusAfterPublish: fc.constantFrom(...VARIANT_VALUES.statusAfterPublish),
  validationError: fc.constantFrom(...VARIANT_VALUES.validationError),
});

const history: fc.Arbitrary<History> = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  variants,
  dryRun: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  guarded: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  maxAttempts: fc.constantFrom(1, 1, 1, 2),
  bus: fc.record({
    delayMaxMs: fc.integer({ min: 0, max: 4 }),
    duplicate: fc.constantFrom(0, 0, 0.2, 0.5),
    loss: fc.constantFrom(0, 0, 0.1, 0.3),
    reorderWindow: fc.constantFrom(0, 0, 2, 3),
  }),
  initial: fc.array(
    fc.record({ fn: fnIndex, tag: fc.option(fc.constant('true'), { nil: null, freq: 3 }), associate: fc.integer({ min: 0, max: 2 }).map((n) => n === 0) }),
    { minLength: 1, maxLength: 4 },
  ),
  steps: fc.array(step, { minLength: 1, maxLength: 20 }),
});

let rig: Rig;
before(async () => {
  rig = await Rig.start();
});
after(async () => {
  await rig.close();
});

test(`convergence: ${SEED !== undefined ? 'replay' : `${RUNS} histories`} against the emulator`, { timeout: TIME_LIMIT_MS ? TIME_LIMIT_MS + 120_000 : undefined }, async (t) => {
  const started = performance.now();
  const property = fc.asyncProperty(history, async (h) => {
    for (let i = 0; i < (SEED !== undefined ? REPEAT : 1); i++) {
      const { violations } = await rig.run(h);
      if (violations.length > 0) throw new Error(`invariants broken:\n  ${violations.join('\n  ')}`);
    }
  });
  try {
    await fc.assert(property, {
      // With a path, fast-check starts at that run and would go on for numRuns: replay just the one.
      numRuns: PATH ? 1 : RUNS,
      includeErrorInReport: true,
      ...(SEED !== undefined ? { seed: SEED } : {}),
      ...(PATH ? { path: PATH } : {}),
      ...(TIME_LIMIT_MS ? { interruptAfterTimeLimit: TIME_LIMIT_MS } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const seed = /seed: (-?\d+)/.exec(message)?.[1];
    const path = /path: "([^"]*)"/.exec(message)?.[1];
    assert.fail(`${message}\n\nReplay: CONVERGENCE_SEED=${seed ?? '?'} CONVERGENCE_PATH=${path ?? '?'} npm run soak`);
  } finally {
    const s = rig.stats;
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`${s.histories} histories in ${seconds.toFixed(1)} s (mean ${(s.ms / Math.max(1, s.histories)).toFixed(0)} ms); dry-run ${s.dryRun}, guarded ${s.guarded}`);
    t.diagnostic(`histories with each step kind: ${JSON.stringify(s.historiesWith)}`);
    t.diagnostic(`histories per variant value: ${JSON.stringify(s.variants)}`);
    t.diagnostic(
      `associations ${s.associations}, updates of associated functions ${s.associatedUpdates}, DEVELOPMENT read DEPLOYED while LIVE differed ${s.deployedWhileStale}, publishes while DEVELOPMENT said DEPLOYED ${s.publishesOfDeployed} (by a sweep ${s.sweepPublishesOfDeployed}), reads answered IN_PROGRESS ${s.inProgressReads}`,
    );
    t.diagnostic(`steps: ${JSON.stringify(s.steps)}`);
    t.diagnostic(`slowest: ${JSON.stringify(s.slowest)}`);
    t.diagnostic(`answers: ${JSON.stringify(s.responses)}`);
    t.diagnostic(
      `reconciler publishes ${s.reconcilerPublishes}, reconciler 412s ${s.reconciler412} (publishes retried after one: ${s.publishesAfter412}), reads that outlived their invocation ${s.strayReads}, crashes ${s.crashes}, failed deliveries ${s.failedDeliveries}, dead letters ${s.deadLetters}, duplicated ${s.duplicates}, lost ${s.lost}`,
    );
  }
});
