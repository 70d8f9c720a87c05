/**
 * Convergence and safety, property-based: fast-check generates histories of edits by other actors
 * (functions associated with a distribution among them; versions that throw or run over the publish
 * gate's compute maximum among the edits, so some opted-in functions must stay blocked), unreliable
 * CloudTrail delivery and
 * CloudFront faults, each under one reading of the unconfirmed CloudFront behaviours (a combination
 * of emulator variants, emulator/VARIANTS.md); the real handlers run against the emulator;
 * then the faults stop, the bus settles, one final sweep runs (faults off: it must succeed at once),
 * and the invariants of harness.ts `Rig.check` are verified on what the emulator saw.
 *
 *   CI:    300 histories (CONVERGENCE_RUNS overrides), then every one of the 24 combinations of the
 *          CloudFront behaviours (cloudFrontCombinations) with an aimed history and a sampled one, and
 *          every one of the 8 CloudTrail record shapes with a sampled one, and every one of the 39
 *          connection-function readings with a sampled history whose fleet mixes both kinds, whatever
 *          CONVERGENCE_RUNS says. Every history's fleet draws each function's kind.
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
import {
  cloudFrontCombinations,
  connectionCombinations,
  connectionRecordShapeCombinations,
  DEFAULT_VARIANTS,
  describeVariants,
  recordShapeCombinations,
  TIMEOUT_MESSAGE,
  VARIANT_VALUES,
  type Variants,
} from '../../emulator';
import { RECONCILER_ACTOR } from '../../local/local-stack';
import { answerFailed, type CodeKind, codeKindOf, type FunctionKind, type History, MAX_COMPUTE, type ModelCall, NAMES, Rig, type Step } from './harness';
import { repeated, versionKey } from '../support/versions';

const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 300);
const TIME_LIMIT_MS = process.env.CONVERGENCE_TIME_LIMIT_MS ? Number(process.env.CONVERGENCE_TIME_LIMIT_MS) : undefined;
const SEED = process.env.CONVERGENCE_SEED ? Number(process.env.CONVERGENCE_SEED) : undefined;
const PATH = process.env.CONVERGENCE_PATH || undefined;
const REPEAT = Number(process.env.CONVERGENCE_REPEAT ?? 1);

const fnIndex = fc.integer({ min: 0, max: NAMES.length - 1 });
const tagValue = fc.constantFrom('true', 'TRUE', ' true ', 'false', 'yes', '');
/**
 * A version's code under the publish gate: mostly good; a throwing or too slow one blocks its publish.
 * A slow one costs ~0.1 s per TestFunction (two for a function no distribution uses), and a blocked
 * function is tested again by every later event and sweep, so slow ones are the rarest.
 */
const codeKind: fc.Arbitrary<CodeKind> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<CodeKind>('good') },
  { weight: 3, arbitrary: fc.constant<CodeKind>('throws') },
  { weight: 2, arbitrary: fc.constant<CodeKind>('slow') },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('create' as const), fn: fnIndex, tag: fc.option(tagValue, { nil: null }), code: codeKind }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('update' as const), fn: fnIndex, code: codeKind }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), fn: fnIndex }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('tag' as const), fn: fnIndex, value: tagValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('untag' as const), fn: fnIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tagOther' as const), fn: fnIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('publishOther' as const), fn: fnIndex }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('race' as const),
      fn: fnIndex,
      writers: fc.integer({ min: 2, max: 3 }),
      publisher: fc.boolean(),
      mixed: fc.boolean(),
    }),
  },
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
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('throttle' as const), burst: fc.integer({ min: 1, max: 3 }), ratePerSecond: fc.constantFrom(20, 100) }),
  },
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
  overBudget: fc.constantFrom(...VARIANT_VALUES.overBudget),
  cloudTrailFunctionName: fc.constantFrom(...VARIANT_VALUES.cloudTrailFunctionName),
  cloudTrailEventName: fc.constantFrom(...VARIANT_VALUES.cloudTrailEventName),
  // The fleet mixes both kinds (`kinds` below): the connection-function readings are drawn too.
  connectionCloudTrailIdentifier: fc.constantFrom(...VARIANT_VALUES.connectionCloudTrailIdentifier),
  connectionLiveEtag: fc.constantFrom(...VARIANT_VALUES.connectionLiveEtag),
  connectionDevelopmentStatus: fc.constantFrom(...VARIANT_VALUES.connectionDevelopmentStatus),
  connectionIdentifier: fc.constantFrom(...VARIANT_VALUES.connectionIdentifier),
  connectionArn: fc.constantFrom(...VARIANT_VALUES.connectionArn),
});

/** The kind of each of NAMES: ordinary or connection function, so every history's fleet may mix both (shrinks to all ordinary). */
const kinds: fc.Arbitrary<FunctionKind[]> = fc.array(fc.constantFrom<FunctionKind>('function', 'connection'), {
  minLength: NAMES.length,
  maxLength: NAMES.length,
});

const history: fc.Arbitrary<History> = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  variants,
  kinds,
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

test(`convergence: ${SEED !== undefined ? 'replay' : `${RUNS} histories`} against the emulator`, {
  timeout: TIME_LIMIT_MS ? TIME_LIMIT_MS + 120_000 : undefined,
}, async (t) => {
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
    t.diagnostic(
      `${s.histories} histories in ${seconds.toFixed(1)} s (mean ${(s.ms / Math.max(1, s.histories)).toFixed(0)} ms); dry-run ${s.dryRun}, guarded ${s.guarded}`,
    );
    t.diagnostic(`histories with each step kind: ${JSON.stringify(s.historiesWith)}`);
    t.diagnostic(`histories per variant value: ${JSON.stringify(s.variants)}`);
    t.diagnostic(
      `histories whose fleet held each kind: ${JSON.stringify(s.historiesWithKind)}; reconciler publishes per kind: ${JSON.stringify(s.publishesByKind)}`,
    );
    t.diagnostic(
      `associations ${s.associations}, updates of associated functions ${s.associatedUpdates}, DEVELOPMENT read DEPLOYED while LIVE differed ${s.deployedWhileStale}, publishes while DEVELOPMENT said DEPLOYED ${s.publishesOfDeployed} (by a sweep ${s.sweepPublishesOfDeployed}), reads answered IN_PROGRESS ${s.inProgressReads}`,
    );
    t.diagnostic(
      `publish gate: reconciler TestFunction calls ${s.reconcilerTests} ${JSON.stringify(s.testsByKind)}, answered failing ${s.failedTests}; opted-in functions left blocked at the end ${s.blockedAtEnd}; good versions starved ${s.starvedTests} (highest ComputeUtilization of a good version ${s.goodUtilizationMax}), final sweeps run again ${s.finalSweepRetries}; publishes that met a function deleted and created again since its test ${s.recreatedUnderPublish}`,
    );
    t.diagnostic(`steps: ${JSON.stringify(s.steps)}`);
    t.diagnostic(`slowest: ${JSON.stringify(s.slowest)}`);
    t.diagnostic(`answers: ${JSON.stringify(s.responses)}`);
    t.diagnostic(
      `reconciler publishes ${s.reconcilerPublishes}, reconciler 412s ${s.reconciler412} (publishes retried after one: ${s.publishesAfter412}), reads that outlived their invocation ${s.strayReads}, crashes ${s.crashes}, failed deliveries ${s.failedDeliveries}, dead letters ${s.deadLetters}, duplicated ${s.duplicates}, lost ${s.lost}`,
    );
  }
});

/**
 * A history aimed at the variants: fn-a, fn-b (opted in) and fn-ab (not) are published and associated
 * with a distribution, so they are DEPLOYED; fn_d (opted in) is not associated. Then, with the
 * reconciler idle before each edit: fn-a is updated with its event delivered, fn-b is updated with its
 * event lost, fn-a again with its event lost, fn-ab is updated, fn_d gets an update CloudFront refuses,
 * and a sweep runs. Only a sweep can publish the two lost updates; under
 * developmentStatusAfterAssociatedUpdate=DEPLOYED the status does not say they differ.
 */
/**
 * What the aimed histories share: no dry run, no guard, and a bus that neither loses nor duplicates on
 * its own (two copies of one event handled at once may both, rightly, try the same publish).
 */
function aimed(v: Variants, seed: number): Pick<History, 'seed' | 'variants' | 'dryRun' | 'guarded' | 'maxAttempts' | 'bus'> {
  return { seed, variants: v, dryRun: false, guarded: false, maxAttempts: 2, bus: { delayMaxMs: 1, duplicate: 0, loss: 0, reorderWindow: 0 } };
}

function aimedHistory(v: Variants, seed: number): History {
  const [a, b, ab, d] = [0, 1, 2, 3];
  return {
    ...aimed(v, seed),
    initial: [
      { fn: a, tag: 'true', associate: true },
      { fn: b, tag: 'true', associate: true },
      { fn: ab, tag: null, associate: true },
      { fn: d, tag: 'true', associate: false },
    ],
    steps: [
      { kind: 'settle' },
      { kind: 'update', fn: a },
      { kind: 'settle' },
      { kind: 'loseNext' },
      { kind: 'update', fn: b },
      { kind: 'settle' },
      { kind: 'loseNext' },
      { kind: 'update', fn: a },
      { kind: 'update', fn: ab },
      { kind: 'badUpdate', fn: d },
      { kind: 'settle' },
      { kind: 'sweep' },
    ],
  };
}

/**
 * The CloudFront behaviours, each with the default record shape: the aimed history below counts on
 * the events naming their functions (a record that names none makes the event path sweep, which would
 * publish the updates whose events were lost). `overBudget` only changes a TestFunction that runs past
 * the whole budget, which these histories' versions do not (the slow one holds 90% of it): the sampled
 * histories draw it, and test/e2e/flows.test.ts blocks an over-budget version under both readings.
 */
const CLOUDFRONT_READINGS = cloudFrontCombinations({ overBudget: ['error'] });

test(`every combination of the CloudFront behaviours (${CLOUDFRONT_READINGS.length}): an aimed history and a sampled one each`, async (t) => {
  const started = performance.now();
  assert.equal(CLOUDFRONT_READINGS.length, 24);
  for (const [i, v] of CLOUDFRONT_READINGS.entries()) {
    await t.test(describeVariants(v), async () => {
      const { violations } = await rig.run(aimedHistory(v, 7_000 + i));
      assert.deepEqual(violations, [], 'aimed history: invariants');
      const calls = [...rig.calls];
      const ours = calls.filter((c) => c.actor === RECONCILER_ACTOR);
      const updates = (name: string) => calls.filter((c) => c.op === 'updateFunction' && c.ok && c.name === name && c.actor !== RECONCILER_ACTOR);
      const publishesAfter = (c: ModelCall) => ours.filter((p) => p.op === 'publishFunction' && p.ok && p.name === c.name && p.seq > c.seq);

      // The setup did associate: every update of fn-a, fn-b and fn-ab landed on an associated function.
      for (const name of ['fn-a', 'fn-b', 'fn-ab'])
        assert.ok(updates(name).length > 0 && updates(name).every((u) => u.associated), `${name} updated while associated`);
      // The update whose event arrived was published by the event path.
      const [aFirst, aLost] = updates('fn-a');
      assert.ok(aFirst && aLost);
      assert.ok(
        ours.some(
          (p) => p.op === 'publishFunction' && p.ok && p.name === 'fn-a' && p.seq > aFirst.seq && p.seq < aLost.seq && p.invocation?.startsWith('event'),
        ),
        'fn-a: the event path published the first edit',
      );
      // The updates whose events were lost were published by a sweep, once, while DEVELOPMENT's status
      // read as the variant says: with DEPLOYED, only the ETags told the reconciler they differed.
      for (const lost of [updates('fn-b')[0]!, aLost]) {
        const after = publishesAfter(lost);
        assert.equal(after.length, 1, `${lost.name}: one publish after the lost update`);
        assert.match(after[0]!.invocation ?? '', /sweep/, `${lost.name}: published by a sweep`);
        assert.equal(after[0]!.status, v.developmentStatusAfterAssociatedUpdate, `${lost.name}: DEVELOPMENT's status when the sweep published`);
      }
      // Not opted in: the reconciler never published fn-ab.
      assert.equal(ours.filter((p) => p.op === 'publishFunction' && p.name === 'fn-ab').length, 0);
      // The refused update answered the variant's error.
      const refused = calls.filter((c) => c.op === 'updateFunction' && c.name === 'fn_d' && !c.ok);
      assert.deepEqual(
        refused.map((c) => c.error),
        [v.validationError],
      );
      // No version published twice (IN_PROGRESS is not "differs"): keyed on function + ETag, since
      // fn-a, fn-b and fn_d share their version 1 ETag, and fn-a and fn-b their version 2 one.
      const attempts = ours.filter((p) => p.op === 'publishFunction').map((p) => versionKey(p.name, p.ifMatch));
      assert.deepEqual(repeated(attempts), [], 'a version the reconciler sent twice');
      assert.ok(
        repeated(ours.filter((p) => p.op === 'publishFunction').map((p) => p.ifMatch ?? '')).length > 0,
        'ETags repeat across functions here, so an ETag-only key would have cried "published twice"',
      );

      // Once the publishes have settled (the final sweep's two listings used up reads:2; duration: wait
      // it out), a sweep costs the in-sync associated functions no call: only fn-ab, updated but not
      // opted in (so never in sync), is looked at, and only its tags are read.
      const settling = v.statusAfterPublish;
      if (settling.kind === 'duration') await new Promise((r) => setTimeout(r, settling.ms));
      const mark = rig.calls.length;
      await rig.sweep('quiet-sweep');
      const quiet = rig.calls.slice(mark).filter((c) => c.invocation?.startsWith('quiet-sweep'));
      assert.deepEqual(
        quiet.map((c) => `${c.op} ${c.name}`),
        ['listTagsForResource fn-ab'],
      );
    });
    await t.test(`${describeVariants(v)}: sampled`, async () => {
      const [sampled] = fc.sample(history, { seed: 9_000 + i, numRuns: 1 });
      const { violations } = await rig.run({ ...sampled!, variants: v });
      assert.deepEqual(violations, [], `sampled history (fc seed ${9_000 + i}): invariants`);
    });
  }
  t.diagnostic(`${CLOUDFRONT_READINGS.length * 2} histories in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

/** Where the record names the function (or not), and whether eventName is suffixed: 4 × 2 shapes. */
const RECORD_SHAPES = recordShapeCombinations();

test(`every CloudTrail record shape (${RECORD_SHAPES.length}): a sampled history each`, async (t) => {
  assert.equal(RECORD_SHAPES.length, 8);
  for (const [i, v] of RECORD_SHAPES.entries()) {
    await t.test(describeVariants(v), async () => {
      const [sampled] = fc.sample(history, { seed: 9_500 + i, numRuns: 1 });
      const { violations } = await rig.run({ ...sampled!, variants: v });
      assert.deepEqual(violations, [], `sampled history (fc seed ${9_500 + i}): invariants`);
    });
  }
});

/**
 * Every connection-function reading (its 16 readings of CloudFront's answers, its 24 record shapes):
 * a sampled history each, its fleet forced to mix both kinds (fn-a and fn-ab connection functions,
 * fn-b and fn_d ordinary ones).
 */
const CONNECTION_READINGS = [...connectionCombinations(), ...connectionRecordShapeCombinations()].filter(
  (v, i, all) => all.findIndex((w) => describeVariants(w) === describeVariants(v)) === i,
);
const MIXED: FunctionKind[] = ['connection', 'function', 'connection', 'function'];

test(`every connection-function reading (${CONNECTION_READINGS.length}): a sampled history each, with a fleet of both kinds`, async (t) => {
  assert.equal(CONNECTION_READINGS.length, 39);
  for (const [i, v] of CONNECTION_READINGS.entries()) {
    await t.test(describeVariants(v), async () => {
      const [sampled] = fc.sample(history, { seed: 9_700 + i, numRuns: 1 });
      const { violations } = await rig.run({ ...sampled!, variants: v, kinds: MIXED });
      assert.deepEqual(violations, [], `sampled history (fc seed ${9_700 + i}): invariants`);
    });
  }
});

/**
 * A history aimed at the publish gate: fn-a (opted in, associated: one viewer-request smoke case) is
 * edited to throw, then fixed; fn-b (opted in, used by no distribution: both event types are tried)
 * is edited to run over the compute maximum; fn_d (opted in) is edited to throw with its event lost,
 * so only a sweep sees it; fn-ab (not opted in) is edited to throw. The reconciler is idle before each
 * edit, so every verdict can be told apart.
 */
function gateHistory(v: Variants, seed: number): History {
  const [a, b, ab, d] = [0, 1, 2, 3];
  return {
    ...aimed(v, seed),
    initial: [
      { fn: a, tag: 'true', associate: true },
      { fn: b, tag: 'true', associate: false },
      { fn: ab, tag: null, associate: true },
      { fn: d, tag: 'true', associate: false },
    ],
    steps: [
      { kind: 'settle' },
      { kind: 'update', fn: a, code: 'throws' },
      { kind: 'settle' },
      { kind: 'update', fn: b, code: 'slow' },
      { kind: 'settle' },
      { kind: 'update', fn: a, code: 'good' },
      { kind: 'settle' },
      { kind: 'loseNext' },
      { kind: 'update', fn: d, code: 'throws' },
      { kind: 'settle' },
      { kind: 'update', fn: ab, code: 'throws' },
      { kind: 'settle' },
      { kind: 'sweep' },
    ],
  };
}

/** Why a `slow` version is blocked: over the compute maximum, or stopped at the budget. */
const OVER_BUDGET = new RegExp(`ComputeUtilization \\d+ is above the maximum ${MAX_COMPUTE}|${TIMEOUT_MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

const GATE_READINGS: Variants[] = [
  DEFAULT_VARIANTS,
  { ...DEFAULT_VARIANTS, developmentStatusAfterAssociatedUpdate: 'DEPLOYED', statusAfterPublish: { kind: 'reads', reads: 2 } },
];

test('the publish gate in a history: bad versions are tested and never published, fixes are, and the final state says which is which', async (t) => {
  for (const [i, v] of GATE_READINGS.entries()) {
    await t.test(describeVariants(v), async () => {
      const { violations } = await rig.run(gateHistory(v, 8_000 + i));
      assert.deepEqual(violations, [], 'invariants');
      const calls = [...rig.calls];
      const ours = calls.filter((c) => c.actor === RECONCILER_ACTOR);
      const writes = (name: string) => calls.filter((c) => (c.op === 'updateFunction' || c.op === 'createFunction') && c.ok && c.name === name);
      const testsOf = (name: string, etag: string | undefined) => ours.filter((c) => c.op === 'testFunction' && c.ok && c.name === name && c.ifMatch === etag);
      const publishesOf = (name: string, etag: string | undefined) =>
        ours.filter((c) => c.op === 'publishFunction' && c.ok && c.name === name && c.etag === etag);
      const state = (name: string) => rig.emulator.state.snapshot().find((f) => f.name === name)!;

      // fn-a: the throwing edit was tested once by its event, failed, and never went live; the fix did.
      const [aV1, aThrows, aFixed] = writes('fn-a');
      assert.ok(aV1 && aThrows && aFixed);
      assert.equal(codeKindOf(state('fn-a').development.code), 'good');
      const aTests = testsOf('fn-a', aThrows.etag);
      assert.equal(aTests.length, 1, 'one smoke case (viewer-request, from the association), run by the event');
      assert.match(aTests[0]!.invocation ?? '', /^event-/);
      assert.equal(answerFailed(aTests[0]!.answer), true);
      assert.match(JSON.stringify(aTests[0]!.answer), /broken v/);
      assert.deepEqual(publishesOf('fn-a', aThrows.etag), [], 'the throwing version never went live');
      assert.equal(publishesOf('fn-a', aFixed.etag).length, 1, 'the fix went live');
      assert.equal(state('fn-a').live?.etag, aFixed.etag);

      // fn-b: over the compute maximum under both event types (no distribution uses it), every time.
      const [bV1, bSlow] = writes('fn-b');
      assert.ok(bV1 && bSlow);
      const bTests = testsOf('fn-b', bSlow.etag);
      assert.ok(bTests.length >= 4, `the event, the sweep and the final sweep each tried both event types (${bTests.length} tests)`);
      assert.equal(bTests.length % 2, 0, 'both event types each time: neither passes');
      for (const test of bTests) {
        assert.ok(test.answer && 'computeUtilization' in test.answer);
        assert.ok(Number(test.answer.computeUtilization) > 70 || test.answer.errorMessage !== '', JSON.stringify(test.answer));
      }
      assert.equal(state('fn-b').live?.etag, bV1.etag, 'LIVE unchanged');

      // fn_d: its event lost, the sweep tested it and blocked it.
      const [dV1, dThrows] = writes('fn_d');
      assert.ok(dV1 && dThrows);
      const dTests = testsOf('fn_d', dThrows.etag);
      assert.ok(
        dTests.some((c) => /^sweep-/.test(c.invocation ?? '')),
        'the sweep tested it',
      );
      assert.ok(!dTests.some((c) => /^event-/.test(c.invocation ?? '')), 'no event did: it was lost');
      assert.equal(state('fn_d').live?.etag, dV1.etag, 'LIVE unchanged');

      // fn-ab: not opted in, so never even tested.
      assert.deepEqual(
        ours.filter((c) => c.op === 'testFunction' && c.name === 'fn-ab'),
        [],
      );

      // The final sweep (faults off) succeeded and says why the two are held back.
      const final = rig.finalSweep;
      assert.ok(final, 'the final sweep succeeded');
      const byName = Object.fromEntries(final.outcomes.map((o) => [o.functionName, o]));
      assert.equal(byName['fn-b']?.action, 'blocked');
      // The same two outcomes the per-run check of fn-b's tests accepts: a reading over the maximum, or,
      // on a loaded machine, a run the emulator stopped at the budget (TIMEOUT_MESSAGE, utilization 100).
      assert.match(byName['fn-b']?.blocked?.reason ?? '', OVER_BUDGET);
      assert.equal(byName.fn_d?.action, 'blocked');
      assert.match(byName.fn_d?.blocked?.reason ?? '', /threw: broken v/);
    });
  }
});
