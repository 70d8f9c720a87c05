/**
 * The associations the publish gate reads (lib/associations.ts): kept per account in the container for
 * ASSOCIATIONS_TTL_SECONDS on the event path, read fresh by the sweep, dropped by a distribution event.
 * The first half drives the cache over a counting gateway and a clock of its own; the second runs
 * the real handlers over the mocked CloudFront client and counts ListDistributions.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { associationsCache } from '../lib/associations';
import type { CloudFrontGateway, FunctionListing } from '../lib/cloudfront-gateway';
import type { EventType } from '../lib/gate';
import { interpretEvent } from '../lib/cloudtrail';
import { makeOnFunctionChange } from '../handlers/on-function-change';
import { makeDriftSweep } from '../handlers/drift-sweep';
import { arnOf, fakeCloudFront, type FakeCloudFront } from './support/fake-cloudfront';
import { apiCall, updateEvent } from './support/events';
import { captureLogs, lambdaContext, type Settings, testRuntime } from './support/lambda';

/** An account as the cache sees it: its functions and their associations, and the reads it answered. */
function account(functions: Record<string, EventType[]>) {
  const state = { functions: { ...functions }, distributionReads: 0, functionReads: 0, fail: false };
  const gateway = {
    async listFunctionAssociations() {
      state.distributionReads++;
      if (state.fail) throw new Error('ListDistributions: throttled');
      const map = new Map<string, ReadonlySet<EventType>>();
      for (const [name, types] of Object.entries(state.functions)) if (types.length) map.set(arnOf(name), new Set(types));
      return map;
    },
    async *listFunctions() {
      state.functionReads++;
      yield Object.keys(state.functions).map((name) => ({ name, arn: arnOf(name) }) as FunctionListing);
    },
  } as unknown as CloudFrontGateway;
  return { state, gateway };
}

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};
const typesOf = (set: ReadonlySet<EventType> | undefined) => [...(set ?? [])].sort();

describe('the associations cache', () => {
  test('read once per TTL per account: later invocations within the TTL read nothing', async () => {
    const { state, gateway } = account({ a: ['viewer-request'], b: [] });
    const time = clock();
    const cache = associationsCache({ ttlSeconds: 60, now: time.now });
    assert.deepEqual(typesOf(await cache.readerFor('', gateway).typesOf(arnOf('a'))), ['viewer-request']);
    time.advance(59_000);
    const later = cache.readerFor('', gateway);
    assert.deepEqual(typesOf(await later.typesOf(arnOf('a'))), ['viewer-request']);
    assert.equal(await later.typesOf(arnOf('b')), undefined, 'a listed function without associations is a hit, not a miss');
    assert.deepEqual([state.distributionReads, state.functionReads], [1, 1]);
  });

  test('the TTL runs out: the next invocation reads again, and sees what changed', async () => {
    const { state, gateway } = account({ a: ['viewer-request'] });
    const time = clock();
    const cache = associationsCache({ ttlSeconds: 60, now: time.now });
    await cache.readerFor('', gateway).typesOf(arnOf('a'));
    state.functions.a = ['viewer-request', 'viewer-response'];
    time.advance(59_999);
    assert.deepEqual(typesOf(await cache.readerFor('', gateway).typesOf(arnOf('a'))), ['viewer-request'], 'still within the TTL: the trade');
    time.advance(1);
    assert.deepEqual(typesOf(await cache.readerFor('', gateway).typesOf(arnOf('a'))), ['viewer-request', 'viewer-response']);
    assert.equal(state.distributionReads, 2);
  });

  test('TTL 0: every invocation reads, once, shared by its functions; no function listing', async () => {
    const { state, gateway } = account({ a: ['viewer-request'], b: ['viewer-response'] });
    const cache = associationsCache({ ttlSeconds: 0 });
    const first = cache.readerFor('', gateway);
    await first.typesOf(arnOf('a'));
    await first.typesOf(arnOf('b'));
    assert.equal(state.distributionReads, 1);
    await cache.readerFor('', gateway).typesOf(arnOf('a'));
    assert.equal(state.distributionReads, 2);
    assert.equal(state.functionReads, 0);
  });

  test('a function created since the read forces a fresh read; its own invocation reads at most once', async () => {
    const { state, gateway } = account({ a: [] });
    const time = clock();
    const cache = associationsCache({ ttlSeconds: 60, now: time.now });
    await cache.readerFor('', gateway).typesOf(arnOf('a'));
    // Created and associated since: the cached read cannot speak for it.
    state.functions.fresh = ['viewer-response'];
    time.advance(1_000);
    const reader = cache.readerFor('', gateway);
    assert.deepEqual(typesOf(await reader.typesOf(arnOf('fresh'))), ['viewer-response']);
    assert.equal(state.distributionReads, 2);
    // Not listed yet even by the fresh read (the listing lags): that read's answer stands.
    assert.equal(await reader.typesOf(arnOf('not-listed-yet')), undefined);
    assert.equal(state.distributionReads, 2, 'one fresh read per invocation');
    // The fresh read is the cache now: the next invocation for `fresh` reads nothing.
    assert.deepEqual(typesOf(await cache.readerFor('', gateway).typesOf(arnOf('fresh'))), ['viewer-response']);
    assert.equal(state.distributionReads, 2);
  });

  test('drop: the next invocation reads again; per account, or every account', async () => {
    const a = account({ f: ['viewer-request'] });
    const b = account({ g: ['viewer-response'] });
    const cache = associationsCache({ ttlSeconds: 60 });
    const read = () =>
      Promise.all([cache.readerFor('111111111111', a.gateway).typesOf(arnOf('f')), cache.readerFor('222222222222', b.gateway).typesOf(arnOf('g'))]);
    await read();
    await read();
    assert.deepEqual([a.state.distributionReads, b.state.distributionReads], [1, 1], 'one read per account');
    cache.drop('111111111111');
    await read();
    assert.deepEqual([a.state.distributionReads, b.state.distributionReads], [2, 1], 'only the named account is read again');
    cache.drop(undefined);
    await read();
    assert.deepEqual([a.state.distributionReads, b.state.distributionReads], [3, 2]);
  });

  test('accounts do not share what they read', async () => {
    const a = account({ f: ['viewer-request'] });
    const b = account({ f: ['viewer-response'] });
    const cache = associationsCache({ ttlSeconds: 60 });
    assert.deepEqual(typesOf(await cache.readerFor('111111111111', a.gateway).typesOf(arnOf('f'))), ['viewer-request']);
    assert.deepEqual(typesOf(await cache.readerFor('222222222222', b.gateway).typesOf(arnOf('f'))), ['viewer-response']);
  });

  test('a failed read is not kept: the next function tries again, and so does the next invocation', async () => {
    const { state, gateway } = account({ a: ['viewer-request'], b: [] });
    const cache = associationsCache({ ttlSeconds: 60 });
    state.fail = true;
    const reader = cache.readerFor('', gateway);
    await assert.rejects(reader.typesOf(arnOf('a')), /throttled/);
    state.fail = false;
    assert.deepEqual(typesOf(await reader.typesOf(arnOf('a'))), ['viewer-request']);
    assert.equal(await cache.readerFor('', gateway).typesOf(arnOf('b')), undefined);
    assert.equal(state.distributionReads, 2);
  });

  test('invocations at once share the read in flight', async () => {
    const { state, gateway } = account({ a: ['viewer-request'], b: [] });
    const cache = associationsCache({ ttlSeconds: 60 });
    await Promise.all([cache.readerFor('', gateway).typesOf(arnOf('a')), cache.readerFor('', gateway).typesOf(arnOf('b'))]);
    assert.equal(state.distributionReads, 1);
  });
});

describe('distribution events', () => {
  for (const name of ['CreateDistribution', 'UpdateDistribution2020_05_31', 'DeleteDistribution', 'CreateDistributionWithTags2020_05_31']) {
    test(`${name}: ignored, saying the associations are read afresh`, () => {
      const intent = interpretEvent(apiCall(name, { requestParameters: { id: 'E2QWRUHAPOMQZL' } }));
      assert.equal(intent.kind, 'ignore');
      assert.equal(intent.kind === 'ignore' && intent.associationsChanged, true);
      assert.match(intent.kind === 'ignore' ? intent.reason : '', /associations/);
    });
  }

  test('a failed distribution call, or another distribution operation, changes nothing', () => {
    const failed = interpretEvent(apiCall('UpdateDistribution', { errorCode: 'AccessDenied' }));
    assert.equal(failed.kind === 'ignore' && failed.associationsChanged, undefined);
    const other = interpretEvent(apiCall('GetDistribution'));
    assert.equal(other.kind === 'ignore' && other.associationsChanged, undefined);
  });
});

describe('the handlers and the cache', () => {
  let cf: FakeCloudFront;
  afterEach(() => cf?.restore());
  const opted = { 'auto-publish': 'true' };
  const world = () =>
    fakeCloudFront({
      a: { tags: opted, devEtag: 'E2', liveEtag: 'E1', associations: ['viewer-request'] },
      b: { tags: opted, devEtag: 'E4', liveEtag: 'E3' },
    });
  const handlers = (settings: Settings = {}) => {
    const runtime = testRuntime(settings);
    return { onEvent: makeOnFunctionChange(runtime), sweep: makeDriftSweep(runtime) };
  };

  test('the event path: one read for the container; a distribution event drops it, with a log line and no failure', async () => {
    cf = world();
    const { onEvent } = handlers();
    await onEvent(updateEvent('a'), lambdaContext());
    await onEvent(updateEvent('b'), lambdaContext());
    assert.equal(cf.count('ListDistributions'), 1);
    assert.equal(cf.publishes.length, 2);
    const dropped = await captureLogs(() => onEvent(apiCall('UpdateDistribution2020_05_31', { requestParameters: { id: 'E1' } }), lambdaContext()));
    assert.equal(dropped.error, undefined);
    assert.deepEqual(dropped.result?.outcomes, []);
    assert.match(dropped.result?.ignored ?? '', /associations/);
    assert.ok(
      dropped.lines.some((l) => JSON.stringify(l).includes('UpdateDistribution')),
      'the ignored event is logged',
    );
    assert.equal(cf.count('ListDistributions'), 1, 'the distribution event itself reads nothing');
    cf.update('a');
    await onEvent(updateEvent('a'), lambdaContext());
    assert.equal(cf.count('ListDistributions'), 2, 'the next event reads afresh');
  });

  test('ASSOCIATIONS_TTL_SECONDS=0: every event reads', async () => {
    cf = world();
    const { onEvent } = handlers({ ASSOCIATIONS_TTL_SECONDS: '0' });
    await onEvent(updateEvent('a'), lambdaContext());
    await onEvent(updateEvent('b'), lambdaContext());
    assert.equal(cf.count('ListDistributions'), 2);
    assert.equal(cf.count('ListFunctions'), 0);
  });

  test('the sweep reads fresh, whatever the container keeps', async () => {
    cf = world();
    const { onEvent, sweep } = handlers();
    await onEvent(updateEvent('a'), lambdaContext());
    assert.equal(cf.count('ListDistributions'), 1);
    cf.update('a');
    cf.update('b');
    await sweep({ full: true }, lambdaContext(600_000));
    assert.equal(cf.count('ListDistributions'), 2);
    assert.equal(cf.publishes.length, 3);
  });
});

describe('organisation mode', () => {
  let cf: FakeCloudFront;
  afterEach(() => cf?.restore());

  test('the cache is keyed by member account: each reads its own, and a drop names one account', async () => {
    const A = '111111111111';
    const B = '222222222222';
    // One fake answers every member client (the mock replaces CloudFrontClient's send): what is
    // counted is when each account's gate reads. No credentials are resolved, so STS is never asked.
    cf = fakeCloudFront({ f: { tags: { 'auto-publish': 'true' }, devEtag: 'E2', liveEtag: 'E1' } });
    const runtime = testRuntime({ ORGANIZATION_MODE: 'true', MEMBER_ACCOUNTS: `${A},${B}` });
    const gateIn = async (account: string) => {
      const gate = runtime.publishGate(runtime.cloudfrontFor(account), {}, { account, cachedAssociations: true });
      assert.ok(gate);
      await gate.test({ name: 'f', arn: arnOf('f') }, 'E2', {});
    };
    await gateIn(A);
    await gateIn(B);
    await gateIn(A);
    await gateIn(B);
    assert.equal(cf.count('ListDistributions'), 2, 'one read per account');
    runtime.dropAssociations(A);
    await gateIn(B);
    assert.equal(cf.count('ListDistributions'), 2, "B's are kept");
    await gateIn(A);
    assert.equal(cf.count('ListDistributions'), 3, "A's are read again");
  });
});
