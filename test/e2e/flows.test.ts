/**
 * End to end: the real AWS SDK over HTTP against the emulator, CloudTrail events on the local bus
 * with the rule from serverless.yml, and the real handlers as targets.
 */
import './support';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type CloudFrontClient, CreateFunctionCommand, PublishFunctionCommand, DescribeFunctionCommand } from '@aws-sdk/client-cloudfront';
import { cloudFrontCombinations, describeVariants, type PublishSettling, recordShapeCombinations } from '../../emulator';
import { type LocalStack, RECONCILER_ACTOR } from '../../local/local-stack';
import { associate, create, reconcilerPublishes, recordReconcilerCalls, stateOf, statusOf, tag, untag, update, withStack } from './support';
import { repeated, versionKey } from '../support/versions';
import { apiCall } from '../support/events';
import { editFunction } from '../../local/console-edit';

test('console-style update → CloudTrail event → bus → handler → published', () =>
  withStack({}, async (stack) => {
    const console = stack.clientFor('console-user');
    await create(console, 'url-rewrite', true);
    await stack.settle();
    const etag = await update(console, 'url-rewrite', 'v2');
    await stack.settle();
    assert.deepEqual(stateOf(stack, 'url-rewrite'), { dev: etag, live: etag, inSync: true, tags: { 'auto-publish': 'true' } });
    const deliveries = stack.bus.deliveries().filter((d) => d.status === 'delivered');
    assert.deepEqual(
      deliveries.map((d) => (d.event.detail as { eventName: string }).eventName),
      ['CreateFunction2020_05_31', 'UpdateFunction2020_05_31'],
      'only Create and Update reach the handler; our own PublishFunction events do not',
    );
    assert.deepEqual(
      reconcilerPublishes(stack)
        .map((p) => p.etag)
        .at(-1),
      etag,
    );
    assert.deepEqual(
      stack.outcomes.map((o) => [o.trigger, o.action, o.decidedBy]),
      [
        ['CreateFunction', 'published', 'event'],
        ['UpdateFunction', 'published', 'event'],
      ],
    );
  }));

test('a tag added after the update publishes the function (TagResource event)', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'auth-check', false);
    const etag = await update(ci, 'auth-check', 'v2');
    await stack.settle();
    assert.equal(stateOf(stack, 'auth-check').live, undefined, 'untagged: never published');
    await tag(ci, stack, 'auth-check');
    await stack.settle();
    assert.equal(stateOf(stack, 'auth-check').live, etag);
    assert.equal(stack.outcomes.at(-1)?.trigger, 'TagResource');
  }));

test('a lost event is repaired by the sweep', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'cache-key', true);
    await stack.settle();
    stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction'));
    const etag = await update(ci, 'cache-key', 'v2');
    await stack.settle();
    assert.notEqual(stateOf(stack, 'cache-key').live, etag, 'the event was lost, nothing published yet');
    const summary = await stack.sweep();
    assert.equal(summary.counts.published, 1);
    assert.equal(stateOf(stack, 'cache-key').live, etag);
    assert.equal(stack.outcomes.at(-1)?.decidedBy, 'sweep');
  }));

test('an update that lands during our publish: the 412 is re-read and the newest version goes live', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'geo', true);
    await stack.settle();
    stack.hold();
    await update(ci, 'geo', 'v2');
    // The moment the reconciler's publish arrives, another writer's update lands first.
    let raced = false;
    const model = stack.emulator.state.model;
    stack.emulator.controls.setAuthorizer((request) => {
      if (request.operation === 'PublishFunction' && request.actor === 'cf-autopublish' && !raced) {
        raced = true;
        const current = model.describeFunction('geo', 'DEVELOPMENT');
        model.updateFunction({
          name: 'geo',
          ifMatch: current.etag,
          config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
          code: Buffer.from('function handler(e){return e.request} // v3'),
        });
      }
      return true;
    });
    stack.release();
    await stack.settle();
    assert.ok(raced);
    const state = stateOf(stack, 'geo');
    assert.equal(state.inSync, true, 'v3 (the racing write) is live');
    const failedPublishes = stack.emulator
      .cloudTrailEvents()
      .filter((e) => e.detail.eventName.startsWith('Publish') && e.detail.errorCode === 'PreconditionFailed');
    assert.equal(failedPublishes.length, 1, 'exactly one 412, then a publish with the fresh ETag');
    assert.equal(stack.outcomes.at(-1)?.publishAttempts, 2);
  }));

test('concurrent updates from two writers while events flow: the last version ends live', () =>
  withStack({ emulator: { latency: { min: 1, max: 8 }, latencySeed: 3 }, bus: { seed: 11, delayMs: { min: 0, max: 15 } } }, async (stack) => {
    const a = stack.clientFor('writer-a');
    const b = stack.clientFor('writer-b');
    await create(a, 'shared', true);
    await stack.settle();
    const write = async (client: typeof a, label: string) => {
      for (let i = 0; i < 6; i++) {
        try {
          await update(client, 'shared', `${label}${i}`);
        } catch (error) {
          if ((error as Error).name !== 'PreconditionFailed') throw error; // the writers race each other too
        }
      }
    };
    await Promise.all([write(a, 'a'), write(b, 'b')]);
    await stack.settle();
    assert.equal(stateOf(stack, 'shared').inSync, true);
    assert.equal(stack.bus.deadLetters().length, 0);
    const failed = stack.outcomes.filter((o) => o.action === 'failed');
    assert.deepEqual(failed, []);
  }));

test('duplicated and reordered deliveries publish once per version and never go backwards', () =>
  withStack({ bus: { seed: 5, duplicateProbability: 0.5, reorderWindow: 4, reorderFlushMs: 10 } }, async (stack) => {
    const ci = stack.clientFor('ci-job');
    for (const name of ['a', 'b', 'c', 'd']) await create(ci, name, true);
    for (const name of ['a', 'b', 'c', 'd']) await update(ci, name, 'v2');
    await stack.settle();
    const copies = stack.bus.deliveries().filter((d) => d.copy === 1);
    assert.ok(copies.length > 0, 'some deliveries were duplicated');
    for (const name of ['a', 'b', 'c', 'd']) assert.equal(stateOf(stack, name).inSync, true, name);
    // Every reconciler publish is of the then-current DEVELOPMENT version: never a stale one.
    // Keyed on function + ETag: the four functions walk the same ETag sequence.
    const etags = reconcilerPublishes(stack).map((p) => versionKey(p.name, p.etag));
    assert.deepEqual(repeated(etags), [], 'no version published twice');
    assert.ok(etags.length <= 8, `at most one publish per version, saw ${etags.length}`);
  }));

test('dry run leaves LIVE untouched and reports would-publish', () =>
  withStack({ settings: { DRY_RUN: 'true' } }, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'x', true);
    await update(ci, 'x', 'v2');
    await stack.settle();
    await stack.sweep();
    assert.equal(stateOf(stack, 'x').live, undefined);
    assert.equal(reconcilerPublishes(stack).length, 0);
    assert.equal(stack.emulator.controls.calls().PublishFunction ?? 0, 0, 'not even a refused publish');
    assert.ok(stack.outcomes.every((o) => o.action === 'would-publish'));
    assert.ok(stack.outcomes.some((o) => o.decidedBy === 'sweep'));
  }));

test('untagged, untagged-later and wrongly tagged functions are never published by the reconciler', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'plain', false);
    await create(ci, 'falsy', false);
    await tag(ci, stack, 'falsy', 'false');
    await create(ci, 'dropped', true);
    await stack.settle();
    await untag(ci, stack, 'dropped');
    for (const name of ['plain', 'falsy', 'dropped']) await update(ci, name, 'v2');
    await stack.settle();
    await stack.sweep();
    assert.deepEqual(
      reconcilerPublishes(stack).map((p) => p.name),
      ['dropped'],
      'only while it was tagged',
    );
    assert.equal(stateOf(stack, 'plain').live, undefined);
    assert.equal(stateOf(stack, 'falsy').live, undefined);
    assert.equal(stateOf(stack, 'dropped').inSync, false);
  }));

test('another actor publishing first ends as already-published or in sync, never as a failure', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    await create(ci, 'p', true);
    await stack.settle();
    stack.hold();
    const etag = await update(ci, 'p', 'v2');
    await ci.send(new PublishFunctionCommand({ Name: 'p', IfMatch: etag }));
    stack.release();
    await stack.settle();
    const last = stack.outcomes.at(-1);
    assert.equal(last?.action, 'skipped-in-sync');
    const live = await ci.send(new DescribeFunctionCommand({ Name: 'p', Stage: 'LIVE' }));
    assert.equal(live.ETag, etag);
  }));

// ------------------------------------------------------------------------------ associated functions

/**
 * An associated function (published, then used by a distribution: DEPLOYED) edited by a console user,
 * under both readings of DEVELOPMENT's status after that edit, crossed with both readings of LIVE's
 * LastModifiedTime. Under developmentStatusAfterAssociatedUpdate=DEPLOYED the status no longer says
 * that DEVELOPMENT differs: only the ETags (event path) and the LastModifiedTimes (sweep) can.
 */
const ASSOCIATED_READINGS = cloudFrontCombinations({ statusAfterPublish: [{ kind: 'immediate' }], validationError: ['MalformedXML'] });

/** Creates an opted-in function, lets the reconciler publish it, and associates it: DEPLOYED on both stages. */
async function associatedFunction(stack: LocalStack, client: CloudFrontClient, name: string): Promise<void> {
  await create(client, name, true);
  await stack.settle();
  assert.equal(stateOf(stack, name).inSync, true, `${name}: published on creation`);
  associate(stack, name);
  assert.deepEqual(statusOf(stack, name), { development: 'DEPLOYED', live: 'DEPLOYED' }, `${name}: associated`);
}

for (const variants of ASSOCIATED_READINGS) {
  const reading = `developmentStatusAfterAssociatedUpdate=${variants.developmentStatusAfterAssociatedUpdate} liveLastModifiedTime=${variants.liveLastModifiedTime}`;
  const afterEdit = variants.developmentStatusAfterAssociatedUpdate;

  test(`associated function edited in the console: the event path publishes the edit [${reading}]`, () =>
    withStack({ emulator: { variants } }, async (stack) => {
      const console = stack.clientFor('console-user');
      await associatedFunction(stack, console, 'edge-auth');
      stack.hold();
      const etag = await update(console, 'edge-auth', 'v2');
      assert.equal(statusOf(stack, 'edge-auth').development, afterEdit, 'DEVELOPMENT reads as the variant says');
      assert.notEqual(stateOf(stack, 'edge-auth').live, etag);
      stack.release();
      await stack.settle();
      assert.equal(stateOf(stack, 'edge-auth').live, etag);
      assert.deepEqual(stack.outcomes.map((o) => [o.trigger, o.action, o.decidedBy, o.etag]).at(-1), ['UpdateFunction', 'published', 'event', etag]);
      assert.deepEqual(
        reconcilerPublishes(stack)
          .map((p) => versionKey(p.name, p.etag))
          .at(-1),
        versionKey('edge-auth', etag),
      );
    }));

  test(`associated function edited with its CloudTrail event lost: the sweep finds and publishes it, and an untouched associated function costs no call [${reading}]`, () =>
    withStack({ emulator: { variants } }, async (stack) => {
      const console = stack.clientFor('console-user');
      await associatedFunction(stack, console, 'edge-auth');
      await associatedFunction(stack, console, 'untouched');
      stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction'));
      const etag = await update(console, 'edge-auth', 'v2');
      await stack.settle();
      assert.equal(statusOf(stack, 'edge-auth').development, afterEdit, 'DEVELOPMENT reads as the variant says');
      assert.notEqual(stateOf(stack, 'edge-auth').live, etag, 'the event was lost: nothing published yet');
      const calls = recordReconcilerCalls(stack);
      const summary = await stack.sweep();
      assert.equal(summary.candidates, 1, 'only the edited function is a candidate');
      assert.equal(summary.counts.published, 1);
      assert.deepEqual(
        summary.outcomes.map((o) => [o.functionName, o.action, o.etag]),
        [['edge-auth', 'published', etag]],
      );
      assert.equal(stateOf(stack, 'edge-auth').live, etag);
      assert.equal(stateOf(stack, 'untouched').inSync, true);
      assert.deepEqual(
        calls.filter((c) => c.name === 'untouched'),
        [],
        'the untouched associated function: no per-function call',
      );
      assert.ok(calls.some((c) => c.operation === 'PublishFunction' && c.name === 'edge-auth'));
    }));

  test(`in-sync associated functions cost the sweep nothing but the listings, of both kinds [${reading}]`, () =>
    withStack({ emulator: { variants } }, async (stack) => {
      const console = stack.clientFor('console-user');
      await associatedFunction(stack, console, 'edge-auth');
      // An edit published by the event path, then the function is left alone.
      await update(console, 'edge-auth', 'v2');
      await stack.settle();
      assert.equal(stateOf(stack, 'edge-auth').inSync, true);
      assert.equal(statusOf(stack, 'edge-auth').development, 'DEPLOYED');
      await associatedFunction(stack, console, 'untouched');
      const calls = recordReconcilerCalls(stack);
      const summary = await stack.sweep();
      assert.equal(summary.listed, 2);
      assert.equal(summary.candidates, 0);
      // Both stages of both kinds, listed in parallel (so in no set order), and nothing else.
      assert.deepEqual(calls.map((c) => `${c.operation} ${c.name}`).sort(), [
        'ListConnectionFunctions ',
        'ListConnectionFunctions ',
        'ListFunctions ',
        'ListFunctions ',
      ]);
    }));
}

/**
 * Just after a publish the status may say IN_PROGRESS for a while (unconfirmed). Windows long enough
 * that every read in the flow falls inside one: six reads, or a minute.
 */
const IN_PROGRESS_WINDOWS: PublishSettling[] = [
  { kind: 'reads', reads: 6 },
  { kind: 'duration', ms: 60_000 },
];

for (const statusAfterPublish of IN_PROGRESS_WINDOWS) {
  test(`IN_PROGRESS after each publish (${JSON.stringify(statusAfterPublish)}): the reconciler converges and publishes each version once`, () =>
    withStack({ emulator: { variants: { statusAfterPublish } } }, async (stack) => {
      const ci = stack.clientFor('ci-job');
      const calls = recordReconcilerCalls(stack);
      await create(ci, 'slow', true);
      await stack.settle();
      assert.equal(stateOf(stack, 'slow').inSync, true, 'published on creation');
      assert.deepEqual(statusOf(stack, 'slow'), { development: 'IN_PROGRESS', live: 'IN_PROGRESS' });

      // A sweep in the window: IN_PROGRESS is no known status, so the function is a candidate, but
      // LIVE's ETag equals DEVELOPMENT's: nothing to publish.
      const first = await stack.sweep();
      assert.deepEqual(
        first.outcomes.map((o) => [o.functionName, o.action]),
        [['slow', 'skipped-in-sync']],
      );

      // An edit inside the window: DEVELOPMENT is UNPUBLISHED, LIVE still IN_PROGRESS.
      const etag = await update(ci, 'slow', 'v2');
      await stack.settle();
      assert.equal(stateOf(stack, 'slow').live, etag);
      assert.equal(statusOf(stack, 'slow').live, 'IN_PROGRESS', 'the new publish opened a new window');
      const second = await stack.sweep();
      assert.deepEqual(
        second.outcomes.map((o) => [o.functionName, o.action]),
        [['slow', 'skipped-in-sync']],
      );

      // Once per version: two versions, two publishes, no attempt on a version already LIVE (the no-op 412).
      const attempts = stack.emulator
        .cloudTrailEvents()
        .filter((e) => e.detail.eventName.startsWith('PublishFunction') && e.detail.userIdentity.userName === RECONCILER_ACTOR);
      assert.equal(attempts.filter((e) => e.detail.errorCode !== undefined).length, 0, 'no refused publish');
      const published = reconcilerPublishes(stack).map((p) => versionKey(p.name, p.etag));
      assert.equal(published.length, 2);
      assert.deepEqual(repeated(published), []);
      assert.equal(calls.filter((c) => c.operation === 'PublishFunction').length, 2);
    }));
}

test('two functions at the same version share an ETag: "no version published twice" holds only keyed on function + ETag', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    for (const name of ['left', 'right']) await create(ci, name, true);
    await stack.settle();
    for (const name of ['left', 'right']) await update(ci, name, 'v2');
    await stack.settle();
    const publishes = reconcilerPublishes(stack);
    assert.equal(publishes.length, 4, 'each function published at versions 1 and 2');
    assert.equal(stateOf(stack, 'left').live, stateOf(stack, 'right').live, 'the same ETag on two functions');
    assert.deepEqual(repeated(publishes.map((p) => p.etag)).length, 2, 'keyed on the ETag alone, both versions look published twice');
    assert.deepEqual(repeated(publishes.map((p) => versionKey(p.name, p.etag))), []);
  }));

/**
 * Known gap, reported rather than fixed here (lib/ belongs to others): the sweep takes a function
 * whose DEVELOPMENT status is a settled one only when DEVELOPMENT's LastModifiedTime is strictly later
 * than LIVE's (lib/decide.ts isSweepCandidate). When an edit lands in the same millisecond as the
 * publish before it (or if CloudFront's times are coarser than ms), the two times are equal; under
 * developmentStatusAfterAssociatedUpdate=DEPLOYED nothing else in the listings tells, so with the
 * edit's event lost no sweep ever publishes it. Treating "equal" as a candidate would make every
 * in-sync function a candidate under liveLastModifiedTime=copied-from-development. A frozen clock
 * makes the collision certain. The regular sweep cannot see it; the daily full sweep (every function
 * a candidate) does.
 */
test('an associated function edited in the same millisecond as its last publish, event lost: the daily full sweep finds it', () => {
  const frozen = new Date();
  return withStack({ emulator: { variants: { developmentStatusAfterAssociatedUpdate: 'DEPLOYED' }, now: () => frozen } }, async (stack) => {
    const console = stack.clientFor('console-user');
    await associatedFunction(stack, console, 'same-ms');
    stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction'));
    const etag = await update(console, 'same-ms', 'v2');
    await stack.settle();
    const regular = await stack.sweep();
    assert.equal(regular.candidates, 0, 'equal LastModifiedTimes: the listings show nothing');
    assert.notEqual(stateOf(stack, 'same-ms').live, etag);
    const full = await stack.sweep({ full: true });
    assert.equal(full.counts.published, 1);
    assert.equal(stateOf(stack, 'same-ms').live, etag);
  });
});

// ------------------------------------------------------------------------------------ publish gate

/**
 * The publish gate end to end: PUBLISH_GATE=smoke (the default), TestFunction run for real by the
 * emulator (a worker per run, against its compute budget), test cases read from the emulator's S3.
 */
const GOOD = (label: string) => `function handler(event) { /* ${label} */ return event.request; }`;
const THROWS = (label: string) => `function handler(event) { throw new Error('broken by ${label}'); }`;
/** A real busy loop, for `ms` of the budget: ComputeUtilization ≥ 100 × ms / budget. */
const BUSY = (label: string, ms: number) =>
  `function handler(event) { /* ${label} */ var end = Date.now() + ${ms}; while (Date.now() < end) {} return event.request; }`;

async function createWith(client: CloudFrontClient, name: string, source: string, tags: Record<string, string> = { 'auto-publish': 'true' }): Promise<string> {
  const out = await client.send(
    new CreateFunctionCommand({
      Name: name,
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: new TextEncoder().encode(source),
      Tags: { Items: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    }),
  );
  return out.ETag as string;
}

const liveCode = (stack: LocalStack, name: string) => stack.emulator.state.snapshot().find((f) => f.name === name)?.live?.code;
const outcomesOf = (stack: LocalStack, name: string) => stack.outcomes.filter((o) => o.functionName === name);

test('gate: a console edit that makes an opted-in function throw is blocked, LIVE keeps the old code; the fix goes live', () =>
  withStack({}, async (stack) => {
    const console = stack.clientFor('console-user');
    const v1 = await createWith(console, 'edge-auth', GOOD('v1'));
    await stack.settle();
    assert.equal(stateOf(stack, 'edge-auth').live, v1, 'the good first version went live');

    const broken = await editFunction(console, 'edge-auth', THROWS('v2'));
    await stack.settle();
    assert.equal(stateOf(stack, 'edge-auth').live, v1, 'LIVE still holds v1');
    assert.equal(liveCode(stack, 'edge-auth'), GOOD('v1'));
    const blocked = outcomesOf(stack, 'edge-auth').at(-1);
    assert.equal(blocked?.action, 'blocked');
    assert.equal(blocked?.etag, broken);
    assert.equal(blocked?.decidedBy, 'event');
    // Used by no distribution: both smoke events were tried, and each failed; the first is named.
    assert.equal(blocked?.blocked?.testCase, 'smoke viewer-request');
    assert.match(blocked?.blocked?.reason ?? '', /smoke viewer-request: the function threw: broken by v2/);
    assert.match(blocked?.blocked?.reason ?? '', /smoke viewer-response: the function threw: broken by v2/);
    assert.equal(stack.emulator.controls.publishLog().filter((p) => p.etag === broken).length, 0, 'never published');

    const fixed = await editFunction(console, 'edge-auth', GOOD('v3'));
    await stack.settle();
    assert.equal(stateOf(stack, 'edge-auth').live, fixed);
    assert.equal(liveCode(stack, 'edge-auth'), GOOD('v3'));
    assert.deepEqual(
      outcomesOf(stack, 'edge-auth').map((o) => o.action),
      ['published', 'blocked', 'published'],
    );
  }));

test('gate: a function over the compute maximum (a busy loop) is blocked; under it, it is published', () =>
  // A small budget keeps the run short: 400 ms, so the loop below reads ≥ 90 (maximum 70), while a
  // function returning at once would need 280 ms to be blocked.
  withStack({ emulator: { testFunctionBudgetMs: 400 } }, async (stack) => {
    const ci = stack.clientFor('ci-job');
    const tags = { 'auto-publish': 'true', 'auto-publish-event-type': 'viewer-request' };
    const light = await createWith(ci, 'hot-path', BUSY('v1', 40), tags);
    await stack.settle();
    assert.equal(stateOf(stack, 'hot-path').live, light, 'a 40 ms loop reads ~10: published');

    const heavy = await editFunction(ci, 'hot-path', BUSY('v2', 360));
    await stack.settle();
    assert.equal(stateOf(stack, 'hot-path').live, light, 'LIVE unchanged');
    const blocked = outcomesOf(stack, 'hot-path').at(-1);
    assert.equal(blocked?.action, 'blocked');
    assert.equal(blocked?.etag, heavy);
    assert.equal(blocked?.blocked?.testCase, 'smoke viewer-request', 'the tag names one event type: one case');
    assert.ok((blocked?.blocked?.computeUtilization ?? 0) >= 90, `ComputeUtilization ${blocked?.blocked?.computeUtilization}`);
    // A loaded machine can stretch the 360 ms loop past the 400 ms budget: then the run times out,
    // which blocks it for the same cause (the timeout's own path is tested below).
    assert.match(blocked?.blocked?.reason ?? '', /ComputeUtilization \d+ is above the maximum 70|exceeded the maximum compute time/);
  }));

for (const overBudget of ['error', 'capped-100'] as const) {
  test(`gate: a function over its compute budget is blocked even with PUBLISH_GATE_MAX_COMPUTE=100 (overBudget=${overBudget})`, () =>
    // 300 ms of budget, a 420 ms loop: over it, yet within the 2× that capped-100 lets a run finish in.
    withStack({ emulator: { testFunctionBudgetMs: 300, variants: { overBudget } }, settings: { PUBLISH_GATE_MAX_COMPUTE: '100' } }, async (stack) => {
      const ci = stack.clientFor('ci-job');
      const tags = { 'auto-publish': 'true', 'auto-publish-event-type': 'viewer-request' };
      const light = await createWith(ci, 'over-budget', GOOD('v1'), tags);
      await stack.settle();
      assert.equal(stateOf(stack, 'over-budget').live, light);
      const heavy = await editFunction(ci, 'over-budget', BUSY('v2', 420));
      await stack.settle();
      assert.equal(stateOf(stack, 'over-budget').live, light, 'LIVE unchanged');
      const blocked = outcomesOf(stack, 'over-budget').at(-1);
      assert.equal(blocked?.action, 'blocked');
      assert.equal(blocked?.etag, heavy);
      assert.equal(blocked?.blocked?.computeUtilization, 100);
      assert.match(
        blocked?.blocked?.reason ?? '',
        overBudget === 'error'
          ? /smoke viewer-request: the function threw: The function exceeded the maximum compute time\./
          : /smoke viewer-request: ComputeUtilization 100: the function reached its compute limit/,
      );
    }));
}

test('gate: a function a distribution uses as viewer-response is tested with the response smoke event only', () =>
  withStack({}, async (stack) => {
    const console = stack.clientFor('console-user');
    // Passes only for a viewer-response event (it returns the response), throws for anything else.
    const responseOnly = (label: string) =>
      `function handler(event) { /* ${label} */ if (event.context.eventType !== 'viewer-response' || !event.response) throw new Error('got ' + event.context.eventType); return event.response; }`;
    await createWith(console, 'add-headers', responseOnly('v1'));
    await stack.settle();
    assert.equal(stateOf(stack, 'add-headers').inSync, true, 'no distribution yet: the response alternative passed');
    const d = stack.emulator.state.createDistribution({ comment: 'site' });
    stack.emulator.state.associateFunction({
      distributionId: d.id,
      functionArn: stack.emulator.state.model.arnFor('add-headers'),
      eventType: 'viewer-response',
    });
    // The emulator's control API records no CloudTrail event; a real UpdateDistribution does, and the
    // rule delivers it: the event handler's container drops the associations it keeps (lib/associations.ts).
    stack.bus.put(apiCall('UpdateDistribution2020_05_31', { requestParameters: { id: d.id } }));
    await stack.settle();

    const calls = recordReconcilerCalls(stack);
    const v2 = await editFunction(console, 'add-headers', responseOnly('v2'));
    await stack.settle();
    assert.equal(stateOf(stack, 'add-headers').live, v2);
    assert.equal(outcomesOf(stack, 'add-headers').at(-1)?.action, 'published');
    // One TestFunction: the response event, which is the only one this code passes. The emulator
    // does not record the EventObject it was sent; the request event would have thrown ("got
    // viewer-request") and been followed by a second call.
    assert.equal(calls.filter((c) => c.operation === 'TestFunction').length, 1);

    // And the other way round: code that passes a viewer-request event and throws on a response one
    // is blocked on the response case, with no viewer-request alternative tried.
    const requestOnly = `function handler(event) { if (event.context.eventType === 'viewer-response') throw new Error('no response handling'); return event.request; }`;
    const wrong = await editFunction(console, 'add-headers', requestOnly);
    await stack.settle();
    assert.equal(stateOf(stack, 'add-headers').live, v2, 'LIVE unchanged');
    const blocked = outcomesOf(stack, 'add-headers').at(-1);
    assert.deepEqual([blocked?.action, blocked?.etag, blocked?.blocked?.testCase], ['blocked', wrong, 'smoke viewer-response']);
    assert.match(blocked?.blocked?.reason ?? '', /^smoke viewer-response: the function threw: no response handling$/);
    assert.equal(calls.filter((c) => c.operation === 'TestFunction').length, 2, 'one more TestFunction: no viewer-request alternative was tried');
  }));

/** A viewer-request event for a user's case. */
const requestEvent = (uri: string) => ({
  version: '1.0',
  context: { eventType: 'viewer-request' },
  viewer: { ip: '198.51.100.7' },
  request: { method: 'GET', uri, querystring: {}, headers: { host: { value: 'www.example.com' } }, cookies: {} },
});
const REDIRECTS = (label: string) =>
  `function handler(event) { /* ${label} */ if (event.request.uri === '/old') return { statusCode: 301, statusDescription: 'Moved', headers: { location: { value: '/new' } } }; return event.request; }`;
const CASES = JSON.stringify([
  { name: 'redirects /old', event: requestEvent('/old'), expect: { response: { statusCode: 301, headers: { location: { value: '/new' } } } } },
  { name: 'passes /index.html through', event: requestEvent('/index.html'), expect: { request: { uri: '/index.html' } } },
]);

test('gate: user cases from S3 (a listed bucket) with expect: passing cases publish, a failed expect blocks naming the case', () =>
  withStack({ settings: { TEST_CASES_BUCKETS: 'gate-cases' } }, async (stack) => {
    assert.equal(stack.runtime.config.s3Endpoint, stack.emulator.endpoint, 'S3_ENDPOINT is the emulator');
    stack.emulator.state.putObject('gate-cases', 'redirects/cases.json', CASES, { contentType: 'application/json' });
    const ci = stack.clientFor('ci-job');
    const tags = { 'auto-publish': 'true', 'auto-publish-tests': 's3://gate-cases/redirects/cases.json' };
    const v1 = await createWith(ci, 'redirects', REDIRECTS('v1'), tags);
    await stack.settle();
    assert.equal(stateOf(stack, 'redirects').live, v1, 'both cases passed');
    assert.ok((stack.emulator.controls.calls().GetObject ?? 0) >= 1, 'the cases were read from S3');
    assert.equal(stack.emulator.controls.calls().TestFunction, 2, 'one TestFunction per case');

    // An edit that drops the redirect: smoke would pass it; the user's case does not.
    const v2 = await editFunction(ci, 'redirects', GOOD('v2 no redirect'));
    await stack.settle();
    assert.equal(stateOf(stack, 'redirects').live, v1, 'LIVE unchanged');
    const blocked = outcomesOf(stack, 'redirects').at(-1);
    assert.deepEqual([blocked?.action, blocked?.etag, blocked?.blocked?.testCase], ['blocked', v2, 'redirects /old']);
    assert.match(blocked?.blocked?.reason ?? '', /^redirects \/old: expect failed at \.response/);
  }));

test('gate: cases in a bucket not listed in TEST_CASES_BUCKETS block the publish, and the object is never read', () =>
  withStack({ settings: { TEST_CASES_BUCKETS: 'gate-cases' } }, async (stack) => {
    stack.emulator.state.putObject('other-team', 'cases.json', CASES);
    const ci = stack.clientFor('ci-job');
    const etag = await createWith(ci, 'redirects', REDIRECTS('v1'), { 'auto-publish': 'true', 'auto-publish-tests': 's3://other-team/cases.json' });
    await stack.settle();
    assert.equal(stateOf(stack, 'redirects').live, undefined, 'never published, though the code is fine');
    const blocked = outcomesOf(stack, 'redirects').at(-1);
    assert.deepEqual([blocked?.action, blocked?.etag, blocked?.blocked?.testCase], ['blocked', etag, 'auto-publish-tests']);
    assert.match(blocked?.blocked?.reason ?? '', /bucket other-team is not in TEST_CASES_BUCKETS/);
    assert.equal(stack.emulator.controls.calls().GetObject ?? 0, 0);
    assert.equal(stack.emulator.controls.calls().TestFunction ?? 0, 0);
  }));

test('gate: a dry run tests too: would-publish for a passing version, blocked for a failing one, and nothing is published', () =>
  withStack({ settings: { DRY_RUN: 'true' } }, async (stack) => {
    const ci = stack.clientFor('ci-job');
    const good = await createWith(ci, 'fine', GOOD('v1'));
    const bad = await createWith(ci, 'broken', THROWS('v1'));
    await stack.settle();
    await stack.sweep();
    for (const decidedBy of ['event', 'sweep'] as const) {
      const by = (name: string) => stack.outcomes.filter((o) => o.functionName === name && o.decidedBy === decidedBy).map((o) => [o.action, o.etag]);
      assert.deepEqual(by('fine'), [['would-publish', good]], decidedBy);
      assert.deepEqual(by('broken'), [['blocked', bad]], decidedBy);
    }
    assert.ok((stack.emulator.controls.calls().TestFunction ?? 0) >= 4, 'both functions tested by the event path and by the sweep');
    assert.equal(stack.emulator.controls.calls().PublishFunction ?? 0, 0, 'not even a refused publish');
    assert.equal(stateOf(stack, 'fine').live, undefined);
    assert.equal(stateOf(stack, 'broken').live, undefined);
  }));

test('gate: the sweep blocks too, and a blocked function does not fail the sweep', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    const fine1 = await createWith(ci, 'fine', GOOD('v1'));
    const broken1 = await createWith(ci, 'broken', GOOD('v1'));
    await stack.settle();
    assert.equal(stateOf(stack, 'fine').live, fine1);
    assert.equal(stateOf(stack, 'broken').live, broken1);
    // Both edits' events are lost: only the sweep sees them.
    stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction'));
    stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction'));
    const fine2 = await editFunction(ci, 'fine', GOOD('v2'));
    const broken2 = await editFunction(ci, 'broken', THROWS('v2'));
    await stack.settle();
    const summary = await stack.sweep(); // resolves: a blocked function is no failure
    assert.deepEqual(summary.failed, []);
    assert.deepEqual(summary.counts, { published: 1, blocked: 1 });
    const byName = Object.fromEntries(summary.outcomes.map((o) => [o.functionName, o]));
    assert.deepEqual([byName.fine?.action, byName.fine?.etag], ['published', fine2]);
    assert.deepEqual([byName.broken?.action, byName.broken?.etag], ['blocked', broken2]);
    assert.match(byName.broken?.blocked?.reason ?? '', /the function threw: broken by v2/);
    assert.equal(stateOf(stack, 'fine').live, fine2);
    assert.equal(stateOf(stack, 'broken').live, broken1, 'LIVE unchanged');
    assert.equal(liveCode(stack, 'broken'), GOOD('v1'));
  }));

/**
 * A documented limitation (docs/limitations.md, "Delete and re-create between test and publish"):
 * every function's first version has the same ETag, and PublishFunction is conditional on the ETag
 * only, so when a function is deleted and created again between the gate's TestFunction and the
 * PublishFunction, the publish's IfMatch matches the new function's version 1 and CloudFront publishes
 * it, untested, on a function that is not opted in. This test asserts exactly that, so a change in
 * the behaviour (a fix, or a wider gap) shows up here and the document is updated with it.
 */
test('gate, documented limitation: a function deleted and created again between its test and its publish gets its version 1 published', () =>
  withStack({}, async (stack) => {
    const ci = stack.clientFor('ci-job');
    const model = stack.emulator.state.model;
    let recreated = false;
    stack.emulator.controls.setAuthorizer((request) => {
      if (request.operation === 'PublishFunction' && request.actor === RECONCILER_ACTOR && !recreated) {
        recreated = true;
        const current = model.describeFunction('swapped', 'DEVELOPMENT');
        model.deleteFunction('swapped', current.etag);
        model.createFunction({
          name: 'swapped',
          config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
          code: Buffer.from(THROWS('the new function')),
        });
      }
      return true;
    });
    await createWith(ci, 'swapped', GOOD('v1'));
    await stack.settle();
    assert.ok(recreated);
    const state = stateOf(stack, 'swapped');
    assert.deepEqual(state.tags, {}, 'the new function is not opted in');
    // The limitation: the new function's version 1 has the tested function's first ETag, so the publish matched it.
    assert.equal(state.live, state.dev, 'the re-created version 1 went live');
    assert.equal(liveCode(stack, 'swapped'), THROWS('the new function'), 'its code was never tested');
    // Nothing afterwards publishes it again or undoes it: the reconciler never writes DEVELOPMENT.
    const publishes = stack.emulator.controls.publishLog().filter((p) => p.name === 'swapped' && p.actor === RECONCILER_ACTOR);
    assert.equal(publishes.length, 1);
  }));

/**
 * Every CloudTrail record shape (emulator/VARIANTS.md: where the record names the function, and the
 * eventName form): a create, an update and a tag added later all go live without a scheduled sweep.
 * A record that names its function is reconciled from its name; one that names none makes the event
 * handler sweep the account, and still lands in the failure queue as a BadEventError.
 */
for (const variants of recordShapeCombinations()) {
  const shape = `cloudTrailFunctionName=${variants.cloudTrailFunctionName} cloudTrailEventName=${variants.cloudTrailEventName}`;
  test(`record shape ${shape}: create, update and a later tag go live at once; a record naming no function is swept and kept as a failure`, () =>
    withStack({ emulator: { variants } }, async (stack) => {
      assert.equal(describeVariants(stack.emulator.controls.variants()), describeVariants(variants));
      const ci = stack.clientFor('ci-job');
      await create(ci, 'edge-auth', true);
      await stack.settle();
      const edited = await update(ci, 'edge-auth', 'v2');
      await stack.settle();
      assert.equal(stateOf(stack, 'edge-auth').live, edited, 'the update is live without a scheduled sweep');

      await create(ci, 'late-tag', false);
      const lateEdit = await update(ci, 'late-tag', 'v2');
      await stack.settle();
      assert.equal(stateOf(stack, 'late-tag').live, undefined, 'not opted in: never published');
      await tag(ci, stack, 'late-tag');
      await stack.settle();
      assert.equal(stateOf(stack, 'late-tag').live, lateEdit, 'the tag opts it in at once');

      const suffix = variants.cloudTrailEventName === 'suffixed' ? '2020_05_31' : '';
      const delivered = stack.bus.deliveries().filter((d) => d.status === 'delivered');
      assert.deepEqual(
        delivered.map((d) => (d.event.detail as { eventName: string }).eventName),
        ['CreateFunction', 'UpdateFunction', 'CreateFunction', 'UpdateFunction', 'TagResource'].map((o) => o + suffix),
      );
      // Which records named their function: Create/Update unless neither place carries it;
      // TagResource (no response body) only when requestParameters keep its resource.
      const writesNamed = variants.cloudTrailFunctionName !== 'neither';
      const tagNamed = variants.cloudTrailFunctionName === 'both' || variants.cloudTrailFunctionName === 'requestParameters';
      const unnamed = [!writesNamed, !writesNamed, !writesNamed, !writesNamed, !tagNamed].filter(Boolean).length;
      assert.equal(stack.failureQueue.length, unnamed, 'each record naming no function, and only those, is kept as a failure');
      for (const record of stack.failureQueue) {
        assert.equal(record.responsePayload.errorType, 'BadEventError');
        assert.match(record.responsePayload.errorMessage, /record has no (function name|requestParameters\.resource)/);
      }
      // Every publish is the reconciler's, each version once.
      const publishes = reconcilerPublishes(stack).map((p) => versionKey(p.name, p.etag));
      assert.deepEqual(repeated(publishes), []);
      assert.equal(stack.bus.deadLetters().length, 0);
    }));
}
