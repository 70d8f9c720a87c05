/**
 * ListFunctions paging against a misbehaving endpoint: a NextMarker that never advances, or that
 * cycles, must fail the listing (naming ListFunctions) instead of reporting a partial listing as
 * complete or looping until the Lambda's hard stop. The sweep and `status` (lib/inspect) share it.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListDistributionsCommand, ListFunctionsCommand, type ListFunctionsCommandInput } from '@aws-sdk/client-cloudfront';
import { arnOf, fakeCloudFront, type FakeCloudFront } from './support/fake-cloudfront';
import { captureLogs, lambdaContext, sweepHandlerWith, TEST_CREDENTIALS } from './support/lambda';
import { cloudFrontGateway, createCloudFrontClient, ListingError, MAX_LIST_PAGES } from '../lib/cloudfront-gateway';
import { inspectFunctions } from '../lib/inspect';

const opted = { 'auto-publish': 'true' };
const scheduled = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
let cf: FakeCloudFront;

beforeEach(() => {
  // Five opted-in, unpublished functions behind a listing that pages two at a time.
  cf = fakeCloudFront(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [n, { tags: opted, devEtag: 'E2', liveEtag: 'E1' }])));
});
afterEach(() => cf.restore());

/**
 * Answers ListFunctions from a table: marker (or '' for the first page) → names and next marker.
 * `stageOf` names a function's listed Stage when it is not the one asked for.
 */
function pages(table: Record<string, { names: string[]; next?: string }>, stageOf: Record<string, 'LIVE' | 'DEVELOPMENT'> = {}) {
  cf.mock.on(ListFunctionsCommand).callsFake(async (input: ListFunctionsCommandInput) => {
    cf.calls.push({ op: 'ListFunctions', input: { ...input } });
    if (input.Stage === 'LIVE') return { FunctionList: { Quantity: 0, MaxItems: 100, Items: [] } };
    const page = table[input.Marker ?? ''];
    assert.ok(page, `unexpected marker ${input.Marker}`);
    return {
      FunctionList: {
        Quantity: page.names.length,
        MaxItems: 100,
        ...(page.next ? { NextMarker: page.next } : {}),
        Items: page.names.map((Name) => ({
          Name,
          Status: 'UNPUBLISHED',
          FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' as const },
          FunctionMetadata: { FunctionARN: arnOf(Name), Stage: stageOf[Name] ?? ('DEVELOPMENT' as const), LastModifiedTime: new Date(0) },
        })),
      },
    };
  });
}

const runSweep = () => captureLogs(async () => sweepHandlerWith()(scheduled, lambdaContext()));
const gateway = () => cloudFrontGateway(createCloudFrontClient({ maxAttempts: 1, credentials: TEST_CREDENTIALS }));

test('a NextMarker that never advances fails the sweep naming ListFunctions, and nothing is published', async () => {
  pages({ '': { names: ['a', 'b'], next: 'M' }, M: { names: ['a', 'b'], next: 'M' } });
  const r = await runSweep();
  assert.ok(r.error instanceof Error, 'the sweep must not report a partial listing as complete');
  assert.equal(r.error.name, 'SweepListingError');
  assert.match(r.error.message, /ListFunctions/);
  assert.match(r.error.message, /NextMarker "M"/);
  assert.equal(cf.count('PublishFunction'), 0);
});

test('a NextMarker that cycles A/B fails after the cycle closes, not at the hard stop', { timeout: 10_000 }, async () => {
  pages({ '': { names: ['a', 'b'], next: 'A' }, A: { names: ['c'], next: 'B' }, B: { names: ['d'], next: 'A' } });
  const r = await runSweep();
  assert.ok(r.error instanceof Error);
  assert.equal(r.error.name, 'SweepListingError');
  assert.match(r.error.message, /ListFunctions/);
  const development = cf.calls.filter((c) => c.op === 'ListFunctions' && c.input.Stage === 'DEVELOPMENT');
  assert.equal(development.length, 3, 'three pages, then the repeated marker is refused');
  assert.equal(cf.count('PublishFunction'), 0);
});

test('names repeated across pages are listed once, so no function is reconciled twice', async () => {
  pages({ '': { names: ['a', 'b'], next: 'A' }, A: { names: ['b', 'c'], next: 'B' }, B: { names: ['c', 'd', 'e'] } });
  const r = await runSweep();
  assert.equal(r.error, undefined);
  assert.equal(r.result?.listed, 5);
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(r.result?.counts['already-published'], undefined);
});

test('an item whose Stage is not the stage asked for fails the listing (ListingError) and the sweep, and nothing is published', async () => {
  pages({ '': { names: ['a', 'b'], next: 'A' }, A: { names: ['c'] } }, { c: 'LIVE' });
  await assert.rejects(
    async () => {
      for await (const _page of gateway().listFunctions('DEVELOPMENT')) void _page;
    },
    (e: unknown) => e instanceof ListingError && !e.retryable && /ListFunctions \(DEVELOPMENT\).*"c".*LIVE/.test(e.message),
  );
  const r = await runSweep();
  assert.ok(r.error instanceof Error, 'a listing that mixes stages is not a listing of DEVELOPMENT');
  assert.equal(r.error.name, 'SweepListingError');
  assert.match(r.error.message, /ListFunctions/);
  assert.equal(cf.count('PublishFunction'), 0);
});

test('a listing that never ends is capped at MAX_LIST_PAGES pages', { timeout: 10_000 }, async () => {
  let n = 0;
  cf.mock.on(ListFunctionsCommand).callsFake(async () => {
    n += 1;
    return { FunctionList: { Quantity: 0, MaxItems: 100, NextMarker: `m${n}`, Items: [] } };
  });
  await assert.rejects(async () => {
    for await (const _page of gateway().listFunctions('DEVELOPMENT')) void _page;
  }, /ListFunctions \(DEVELOPMENT\).*pages/);
  assert.equal(n, MAX_LIST_PAGES);
});

test('status (lib/inspect) shares the protection: a cycling marker rejects instead of looping', { timeout: 10_000 }, async () => {
  pages({ '': { names: ['a'], next: 'A' }, A: { names: ['b'], next: 'B' }, B: { names: ['c'], next: 'A' } });
  await assert.rejects(inspectFunctions(gateway(), { optedIn: () => true }), /ListFunctions.*NextMarker "A"/);
});

test('ListDistributions pages through the same protection: a marker seen before fails the read', { timeout: 10_000 }, async () => {
  let n = 0;
  cf.mock.on(ListDistributionsCommand).callsFake(async () => {
    n += 1;
    return { DistributionList: { Marker: '', MaxItems: 100, IsTruncated: true, NextMarker: n % 2 ? 'A' : 'B', Quantity: 0, Items: [] } } as never;
  });
  await assert.rejects(gateway().listFunctionAssociations(), /ListDistributions: page 3 answered NextMarker "A"/);
  assert.equal(n, 3);
});
