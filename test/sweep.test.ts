/** The drift sweep's decisions and costs, against the stateful fake. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeCloudFront, type FakeCloudFront, type FakeFunction } from './support/fake-cloudfront';
import { captureLogs, lambdaContext, type Settings, sweepHandlerWith, TEST_CREDENTIALS } from './support/lambda';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import type { SweepSummary } from '../lib/sweep';
import { summariseSweep, sweep, SweepDeadlineError, withDeadline } from '../lib/sweep';
import { cloudFrontGateway, type CloudFrontGateway, createCloudFrontClient, Pacer } from '../lib/cloudfront-gateway';
import { policyFor } from '../lib/runtime';
import { loadConfig } from '../lib/config';
import type { S3Gateway } from '../lib/s3-gateway';

const opted = { 'auto-publish': 'true' };
let cf: FakeCloudFront;
const scheduled = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
let settings: Settings = {};
const run = (remainingMs?: number) => captureLogs(async () => sweepHandlerWith(settings)(scheduled, lambdaContext(remainingMs)));

beforeEach(() => {
  settings = {};
});
afterEach(() => cf?.restore());

/** n functions: every 10th opted in, every 4th unpublished. */
function fleet(n: number): Record<string, FakeFunction> {
  const out: Record<string, FakeFunction> = {};
  for (let i = 0; i < n; i++) {
    const name = `fn-${String(i).padStart(4, '0')}`;
    out[name] = { tags: i % 10 < 3 ? opted : { team: 'x' }, devEtag: `D${i}`, ...(i % 4 === 0 ? { liveEtag: `L${i}` } : { liveEtag: `D${i}` }) };
  }
  return out;
}

test('follows NextMarker through every page and publishes every opted-in unpublished function', async () => {
  cf = fakeCloudFront(fleet(250));
  const r = await run();
  assert.equal(r.error, undefined);
  assert.equal(r.result?.listed, 250);
  assert.equal(cf.count('ListFunctions'), 6);
  assert.deepEqual(
    cf.calls
      .filter((c) => c.op === 'ListFunctions')
      .map((c) => c.input.Stage)
      .sort(),
    [...Array(3).fill('DEVELOPMENT'), ...Array(3).fill('LIVE')],
  );
  const expected = Object.entries(fleet(250))
    .filter(([, f]) => f.tags['auto-publish'] && f.liveEtag !== f.devEtag)
    .map(([n]) => n);
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), expected.sort());
  for (const name of expected) assert.equal(cf.functions.get(name)?.liveEtag, cf.functions.get(name)?.devEtag);
});

test('sits on the lower bound: both listings, tags only for candidates, Describe+Test+Publish only for opted-in ones, associations read once', async () => {
  const functions = fleet(400);
  cf = fakeCloudFront(functions);
  const r = await run();
  const unpublished = Object.values(functions).filter((f) => f.liveEtag !== f.devEtag);
  const optedUnpublished = unpublished.filter((f) => f.tags['auto-publish']);
  assert.equal(r.result?.candidates, unpublished.length);
  assert.equal(cf.count('ListTagsForResource'), unpublished.length);
  assert.equal(cf.count('DescribeFunction'), optedUnpublished.length);
  assert.equal(cf.count('PublishFunction'), optedUnpublished.length);
  assert.equal(cf.count('TestFunction'), optedUnpublished.length, 'one smoke case each');
  assert.equal(cf.count('ListDistributions'), 1, 'read once, shared by every candidate');
  // ceil(400/100) ListFunctions pages per stage, and one (empty) ListConnectionFunctions page per stage.
  assert.equal(cf.count('ListConnectionFunctions'), 2);
  assert.equal(cf.count(), 2 * 4 + 2 * 1 + unpublished.length + 3 * optedUnpublished.length + 1);
});

test('an associated function edited while DEVELOPMENT keeps saying DEPLOYED is a candidate (LastModifiedTime) and published', async () => {
  cf = fakeCloudFront({
    edited: { tags: opted, devEtag: 'E3', liveEtag: 'E2', status: 'DEPLOYED', devModified: 5, liveModified: 4 },
    untouched: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'DEPLOYED', devModified: 3, liveModified: 4 },
    'never-published': { tags: opted, devEtag: 'E1', status: 'UNASSOCIATED' },
  });
  const r = await run();
  assert.equal(r.error, undefined);
  assert.equal(r.result?.candidates, 2);
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['edited', 'never-published']);
  assert.ok(!cf.calls.some((c) => JSON.stringify(c.input).includes('untouched')), 'an untouched function costs no per-function call');
});

test('unknown statuses are candidates too; untouched UNASSOCIATED and DEPLOYED cost nothing', async () => {
  cf = fakeCloudFront({
    a: { tags: opted, devEtag: 'E2', liveEtag: 'E1', status: 'IN_PROGRESS' },
    b: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'DEPLOYED' },
    c: { tags: opted, devEtag: 'E2', liveEtag: 'E2' },
  });
  const r = await run();
  assert.equal(r.result?.candidates, 1);
  assert.deepEqual(
    cf.publishes.map((p) => p.name),
    ['a'],
  );
  assert.equal(cf.count('ListTagsForResource'), 1);
});

test('one failure does not stop the others; afterwards the sweep throws, naming the failed functions', async () => {
  cf = fakeCloudFront({
    a: { tags: opted, devEtag: 'E2' },
    broken: { tags: opted, devEtag: 'E2' },
    z: { tags: opted, devEtag: 'E2' },
  });
  cf.hooks.ListTagsForResource = (input) => {
    if (String(input.Resource).endsWith('/broken')) throw new AccessDenied({ message: 'denied', $metadata: { httpStatusCode: 403 } });
  };
  const r = await run();
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['a', 'z']);
  assert.ok(r.error instanceof Error);
  assert.equal(r.error.name, 'SweepFailedError');
  assert.match(r.error.message, /1 function\(s\): broken$/);
  assert.ok(r.lines.some((l) => l.action === 'failed' && l.function === 'broken' && /AccessDenied/.test(String(l.error))));
  assert.ok(
    r.lines.some((l) => l.message === 'sweep finished'),
    'the summary is logged before the error',
  );
});

test('dry run lists and decides, and publishes nothing', async () => {
  settings = { ...settings, DRY_RUN: 'TRUE' };
  cf = fakeCloudFront(fleet(40));
  const r = await run();
  assert.equal(cf.count('PublishFunction'), 0);
  assert.ok((r.result?.counts['would-publish'] ?? 0) > 0);
});

test('the time budget: no new candidate starts under the reserve; the rest is reported as deferred', async () => {
  settings = { ...settings, SWEEP_RESERVE_MS: '10000' };
  settings = { ...settings, SWEEP_CONCURRENCY: '1' };
  cf = fakeCloudFront(fleet(80));
  // 10.3 s left and each call takes 100 ms: a few candidates fit before the reserve is reached.
  cf.hooks.ListTagsForResource = () => new Promise((r) => setTimeout(r, 100));
  const r = await run(10_300);
  assert.equal(r.error, undefined);
  const summary = r.result as SweepSummary;
  assert.ok(summary.deferred.length > 0, 'some candidates were deferred');
  assert.ok(summary.outcomes.length > 0 && summary.outcomes.length <= 4, `started ${summary.outcomes.length}`);
  assert.equal(summary.outcomes.length + summary.deferred.length, summary.candidates);
  assert.ok(r.lines.some((l) => l.message === 'sweep finished' && Array.isArray(l.deferred)));
});

test('concurrency is bounded by SWEEP_CONCURRENCY', async () => {
  settings = { ...settings, SWEEP_CONCURRENCY: '3' };
  cf = fakeCloudFront(fleet(60));
  let inFlight = 0;
  let max = 0;
  cf.hooks.ListTagsForResource = async () => {
    max = Math.max(max, ++inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
  };
  await run();
  assert.equal(max, 3);
});

test('a sweep that repeats finds nothing more to do (idempotent)', async () => {
  cf = fakeCloudFront(fleet(100));
  await run();
  const published = cf.count('PublishFunction');
  cf.calls.length = 0;
  const again = await run();
  assert.ok(published > 0);
  assert.equal(cf.count('PublishFunction'), 0);
  assert.equal(again.result?.candidates, Object.values(fleet(100)).filter((f) => f.liveEtag !== f.devEtag && !f.tags['auto-publish']).length);
});

test('a function deleted mid-sweep is gone, not failed', async () => {
  cf = fakeCloudFront({ a: { tags: opted, devEtag: 'E2' }, b: { tags: opted, devEtag: 'E2' } });
  cf.hooks.ListTagsForResource = (input) => {
    if (String(input.Resource).endsWith('/b')) cf.functions.delete('b');
  };
  const r = await run();
  assert.equal(r.error, undefined);
  assert.equal(r.result?.counts.gone, 1);
  assert.equal(r.result?.counts.published, 1);
});

test('sweep() reports progress per candidate (for the CLI)', async () => {
  cf = fakeCloudFront(fleet(20));
  const seen: number[] = [];
  const report = await sweep({
    cloudfront: cloudFrontGateway(createCloudFrontClient({ maxAttempts: 1, credentials: TEST_CREDENTIALS })),
    policy: policyFor(loadConfig({})),
    concurrency: 2,
    onOutcome: (_o, done, total) => seen.push(done / total),
  });
  assert.equal(seen.length, report.candidates);
  assert.equal(seen.at(-1), 1);
});

test('the hard stop: calls still in flight near the timeout are abandoned and their candidates deferred', async () => {
  const listing = [
    { name: 'slow', arn: 'arn:aws:cloudfront::123456789012:function/slow', status: 'UNPUBLISHED', lastModified: undefined, keyValueStores: [] },
    { name: 'later', arn: 'arn:aws:cloudfront::123456789012:function/later', status: 'UNPUBLISHED', lastModified: undefined, keyValueStores: [] },
  ];
  const signals: (AbortSignal | undefined)[] = [];
  const hanging: CloudFrontGateway = {
    // A call stuck in throttling backoff: it never answers by itself.
    readTags: (_arn, signal) => {
      signals.push(signal);
      return new Promise(() => undefined);
    },
    describe: async () => null,
    getCode: async () => null,
    publish: async () => 'published',
    testFunction: async () => 'gone',
    listFunctionAssociations: async () => new Map(),
    // Ordinary functions only: the connection listing is empty.
    async *listFunctions(_stage, _signal, kind) {
      if (kind !== 'connection') yield listing;
    },
  };
  const deadline = Date.now() + 1_000;
  const started = Date.now();
  const report = await sweep({
    cloudfront: hanging,
    policy: policyFor(loadConfig({})),
    concurrency: 1,
    remainingMs: () => deadline - Date.now(),
    reserveMs: 600,
  });
  const took = Date.now() - started;
  // At the hard stop (300 ms before the end), never before; the upper bound allows a loaded machine.
  assert.ok(took >= 600 && took < 5_000, `returned after ${took} ms`);
  assert.deepEqual(report.outcomes, []);
  assert.deepEqual(report.interrupted, ['slow']);
  assert.deepEqual([...report.deferred].sort(), ['later', 'slow']);
  assert.ok(signals[0]?.aborted, 'the gateway call got the abort signal, so the SDK stops retrying');
  assert.equal(summariseSweep(report).failed.length, 0, 'abandoned is deferred, not failed');
});

/** One UNPUBLISHED opted-in function, and a gateway whose publish the test controls. */
function onePublish(publish: CloudFrontGateway['publish'], tags: Record<string, string> = opted): CloudFrontGateway {
  return {
    readTags: async () => tags,
    describe: async (_name, stage) =>
      stage === 'DEVELOPMENT' ? { etag: 'E2', status: 'UNPUBLISHED', arn: 'arn:aws:cloudfront::123456789012:function/f' } : null,
    getCode: async () => {
      throw new Error('getCode: this gateway has no LIVE stage');
    },
    publish,
    testFunction: async () => ({ computeUtilization: '5', errorMessage: '', output: '{"request":{}}', logs: [] }),
    listFunctionAssociations: async () => new Map(),
    async *listFunctions(stage, _signal, kind) {
      if (stage === 'DEVELOPMENT' && kind !== 'connection')
        yield [{ name: 'f', arn: 'arn:aws:cloudfront::123456789012:function/f', status: 'UNPUBLISHED', lastModified: undefined, keyValueStores: [] }];
    },
  } as CloudFrontGateway;
}

test('a publish sent before the hard stop is awaited: when it answers in time, it is reported as published', { timeout: 15_000 }, async () => {
  const deadline = Date.now() + 3_000;
  const remainingMs = () => deadline - Date.now();
  // Answers only once the hard stop (1 000 ms left) has passed, well before the last stop (500 ms).
  const publish = async (_name: string, _etag: string, signal?: AbortSignal) => {
    while (remainingMs() > 900) await new Promise((r) => setTimeout(r, 10));
    return signal?.aborted ? Promise.reject(signal.reason) : ('published' as const);
  };
  const report = await sweep({
    cloudfront: onePublish(publish),
    policy: policyFor(loadConfig({ PUBLISH_GATE: 'off' })),
    concurrency: 1,
    remainingMs,
    reserveMs: 2_000,
  });
  assert.deepEqual(
    report.outcomes.map((o) => [o.functionName, o.action, o.etag]),
    [['f', 'published', 'E2']],
  );
  assert.deepEqual(report.interrupted, []);
});

test('a publish still unanswered at the last stop is reported as failed, since it may have landed; none starts after the hard stop', {
  timeout: 15_000,
}, async () => {
  const deadline = Date.now() + 2_000;
  const remainingMs = () => deadline - Date.now();
  const signals: (AbortSignal | undefined)[] = [];
  const publish = (_name: string, _etag: string, signal?: AbortSignal) => {
    signals.push(signal);
    return new Promise<never>(() => undefined);
  };
  const started = Date.now();
  const report = await sweep({
    cloudfront: onePublish(publish),
    policy: policyFor(loadConfig({ PUBLISH_GATE: 'off' })),
    concurrency: 1,
    remainingMs,
    reserveMs: 1_000,
  });
  const took = Date.now() - started;
  assert.ok(took >= 1_600 && took < 5_000, `returned after ${took} ms (the last stop is 250 ms before the end)`);
  const [outcome] = report.outcomes;
  assert.equal(outcome?.action, 'failed');
  assert.equal(outcome?.etag, 'E2');
  assert.equal(outcome?.publishAttempts, 1);
  assert.match(outcome?.error ?? '', /f: the sweep ran out of time after PublishFunction of E2 was sent; it may have landed/);
  assert.ok(signals[0]?.aborted, 'the publish got the last stop signal');
  assert.equal(summariseSweep(report).failed.length, 1, 'the sweep fails, so the alarm fires');
  // After the hard stop, no publish is started at all, even with the last stop still ahead.
  const hardStop = new AbortController();
  hardStop.abort(new SweepDeadlineError());
  let publishes = 0;
  const bound = withDeadline(
    onePublish(async () => {
      publishes++;
      return 'published';
    }),
    hardStop.signal,
    new AbortController().signal,
  );
  await assert.rejects(bound.publish('f', 'E2'), SweepDeadlineError);
  assert.equal(publishes, 0);
});

test("the gate's S3 read honours the hard stop: a read that never answers leaves its candidate deferred, not the sweep hanging", {
  timeout: 15_000,
}, async () => {
  const { createPublishGate } = await import('../lib/publish-gate');
  const unused = {
    putJson: async () => assert.fail('the gate never writes'),
    listKeys: async () => assert.fail('the gate never lists'),
  };
  const hanging: S3Gateway = {
    ...unused,
    readText: (_b, _k, signal) => new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
  };
  const never: S3Gateway = { ...unused, readText: () => new Promise(() => undefined) };
  for (const s3 of [hanging, never]) {
    const deadline = Date.now() + 1_000;
    const started = Date.now();
    const report = await sweep({
      cloudfront: onePublish(async () => 'published', { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }),
      publishGate: (cloudfront) => createPublishGate(cloudfront, s3, { maxCompute: 70, testCasesBuckets: ['edge-tests'], readTimeoutMs: 60_000 }),
      policy: policyFor(loadConfig({})),
      concurrency: 1,
      remainingMs: () => deadline - Date.now(),
      reserveMs: 600,
    });
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(report.outcomes, []);
    assert.deepEqual(report.interrupted, ['f']);
  }
});

test('the hard stop during listing: what was listed is deferred, the listing is marked incomplete', async () => {
  const gateway: CloudFrontGateway = {
    readTags: async () => ({}),
    describe: async () => null,
    getCode: async () => null,
    publish: async () => 'published',
    testFunction: async () => 'gone',
    listFunctionAssociations: async () => new Map(),
    async *listFunctions(_stage, _signal, kind) {
      if (kind === 'connection') return;
      yield [{ name: 'a', arn: 'arn:aws:cloudfront::123456789012:function/a', status: 'UNPUBLISHED', lastModified: undefined, keyValueStores: [] }];
      await new Promise(() => undefined);
    },
  };
  const deadline = Date.now() + 400;
  const report = await sweep({
    cloudfront: gateway,
    policy: policyFor(loadConfig({})),
    concurrency: 1,
    remainingMs: () => deadline - Date.now(),
    reserveMs: 200,
  });
  assert.equal(report.listingComplete, false);
  assert.deepEqual(report.deferred, ['a']);
});

test('Pacer: a burst, then one call per 1/rate seconds, in arrival order', async () => {
  let now = 0;
  const slept: number[] = [];
  const pacer = new Pacer(
    10,
    3,
    () => now,
    async (ms) => {
      slept.push(ms);
      now += ms;
    },
  );
  const times: number[] = [];
  await Promise.all(Array.from({ length: 6 }, (_, i) => pacer.take().then(() => times.push(now) && i)));
  assert.deepEqual(times, [0, 0, 0, 100, 200, 300]);
});

test('SWEEP_RESERVE_MS at or above the time the sweep has fails the invocation naming the setting, before any call', async () => {
  settings = { ...settings, SWEEP_RESERVE_MS: '600000' };
  cf = fakeCloudFront(fleet(20));
  const r = await run(600_000);
  assert.ok(r.error instanceof Error, 'a reserve that leaves no time must not succeed silently');
  assert.match(r.error.message, /SWEEP_RESERVE_MS/);
  assert.equal(cf.count(), 0);
});

test('a sweep that deferred every candidate and reconciled none fails, so the alarm fires', async () => {
  settings = { ...settings, SWEEP_RESERVE_MS: '10000' };
  cf = fakeCloudFront(fleet(20));
  // Time is left at the start, but the listing uses it up: every candidate is deferred.
  cf.hooks.ListFunctions = () => new Promise((r) => setTimeout(r, 300));
  const r = await run(10_250);
  assert.ok(r.error instanceof Error, 'no progress at all must not look like success');
  assert.equal(r.error.name, 'SweepStalledError');
  assert.match(r.error.message, /deferred all \d+ candidates/);
  assert.match(r.error.message, /SWEEP_RESERVE_MS/);
  assert.equal(cf.count('PublishFunction'), 0);
  assert.ok(
    r.lines.some((l) => l.message === 'sweep finished'),
    'the summary is logged before the error',
  );
});

test('a full sweep ({"full": true}) takes every function as a candidate, whatever the listings say', async () => {
  cf = fakeCloudFront({
    // Equal times and a DEPLOYED status: nothing in the listings shows this edit.
    hidden: { tags: opted, devEtag: 'E3', liveEtag: 'E2', status: 'DEPLOYED', devModified: 4, liveModified: 4 },
    synced: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'DEPLOYED', devModified: 3, liveModified: 4 },
  });
  const regular = await run();
  assert.equal(regular.result?.candidates, 0);
  const full = await captureLogs(async () => sweepHandlerWith(settings)({ full: true }, lambdaContext()));
  assert.equal(full.result?.candidates, 2);
  assert.deepEqual(
    cf.publishes.map((p) => p.name),
    ['hidden'],
  );
  assert.equal(full.result?.counts['skipped-in-sync'], 1);
});
