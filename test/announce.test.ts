/**
 * Outcomes announced on a bus: which ones, their shape, calls that fit PutEvents (10 entries, under
 * 256 KB), and refused entries sent once more, the rest counted as announce-failed.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeCloudFront, type FakeCloudFront, arnOf } from './support/fake-cloudfront';
import { captureLogs, eventHandlerWith, lambdaContext, type Settings, sweepHandlerWith } from './support/lambda';
import { updateEvent } from './support/events';
import { ENTRY_TOO_LARGE, eventBridgeGateway } from '../lib/eventbridge-gateway';
import { announcementFor, countingMetrics, createReporter } from '../lib/report';
import type { Outcome } from '../lib/reconcile';

const opted = { 'auto-publish': 'true' };
let cf: FakeCloudFront;
const eb = mockClient(EventBridgeClient);
const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
const sent = () => eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);

let settings: Settings = {};
const eventHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => eventHandlerWith(settings)(event, context);
const sweepHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => sweepHandlerWith(settings)(event, context);

beforeEach(() => {
  eb.reset();
  settings = { EVENT_BUS_NAME: 'platform-bus' };
});
afterEach(() => cf?.restore());

test('a publish is announced with source, detail-type and the detail fields', async () => {
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  await captureLogs(async () => eventHandler(updateEvent('f'), lambdaContext()));
  const [entry] = sent();
  assert.equal(entry?.EventBusName, 'platform-bus');
  assert.equal(entry?.Source, 'cloudfront-autopublish');
  assert.equal(entry?.DetailType, 'CloudFront Function Published');
  // The CloudTrail record's eventID rides along (issue 18, audit); updateEvent has no userIdentity, so no actor.
  assert.deepEqual(JSON.parse(entry?.Detail ?? '{}'), {
    functionName: 'f',
    functionArn: arnOf('f'),
    etag: 'E2',
    trigger: 'UpdateFunction',
    dryRun: false,
    eventId: 'e-1',
  });
});

test('skips are not announced; dry run announces Would Publish; failures Publish Failed', async () => {
  eb.on(PutEventsCommand).callsFake(async (input) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E2' } });
  await captureLogs(async () => eventHandler(updateEvent('f'), lambdaContext()));
  assert.equal(sent().length, 0);
  cf.restore();

  settings = { ...settings, DRY_RUN: 'true' };
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  await captureLogs(async () => eventHandler(updateEvent('f'), lambdaContext()));
  assert.deepEqual(
    sent().map((e) => e.DetailType),
    ['CloudFront Function Would Publish'],
  );
  assert.equal(JSON.parse(sent()[0]?.Detail ?? '{}').dryRun, true);
  cf.restore();

  settings = { EVENT_BUS_NAME: 'platform-bus' };
  eb.resetHistory();
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  cf.hooks.PublishFunction = () => cf.update('f');
  const r = await captureLogs(async () => eventHandler(updateEvent('f'), lambdaContext()));
  assert.ok(r.error);
  assert.deepEqual(
    sent().map((e) => e.DetailType),
    ['CloudFront Function Publish Failed'],
  );
});

test('a sweep announces in calls of at most 10 entries', async () => {
  eb.on(PutEventsCommand).callsFake(async (input) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
  const fleet: Parameters<typeof fakeCloudFront>[0] = {};
  for (let i = 0; i < 23; i++) fleet[`f${i}`] = { tags: opted, devEtag: 'E2' };
  cf = fakeCloudFront(fleet);
  await captureLogs(async () => sweepHandler(scheduled, lambdaContext()));
  const calls = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
  assert.deepEqual(calls, [10, 10, 3]);
  assert.equal(new Set(sent().map((e) => JSON.parse(e.Detail ?? '{}').functionName)).size, 23);
});

test('failed entries (FailedEntryCount) are sent again, and only they', async () => {
  let round = 0;
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    round++;
    if (round === 1) {
      return {
        FailedEntryCount: 1,
        Entries: input.Entries.map((_e, i) => (i === 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { EventId: 'ok' })),
      };
    }
    return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'ok' })) };
  });
  const gateway = eventBridgeGateway(new EventBridgeClient({ region: 'us-east-1' }), 'bus');
  await gateway.announce([0, 1, 2].map((n) => ({ detailType: 'T', detail: { n } })));
  const batches = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.map((e) => JSON.parse(e.Detail ?? '{}').n));
  assert.deepEqual(batches, [[0, 1, 2], [1]]);
});

test('entries that never get through are logged and counted, and do not undo the publish', async () => {
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: input.Entries.length,
    Entries: input.Entries.map(() => ({ ErrorCode: 'AccessDeniedException' })),
  }));
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const r = await captureLogs(async () => eventHandler(updateEvent('f'), lambdaContext()));
  assert.equal(r.error, undefined);
  assert.equal(cf.publishes.length, 1);
  assert.equal(eb.commandCalls(PutEventsCommand).length, 2, 'sent, then sent once more');
  assert.ok(r.lines.some((l) => l.message === 'announcement failed' && /AccessDeniedException/.test(String(l.error))));
  assert.ok(r.lines.some((l) => l['announce-failed'] === 1));
});

/** An entry's size as EventBridge counts it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html). */
const sizeOf = (e: PutEventsRequestEntry) =>
  [e.Source, e.DetailType, e.Detail, ...(e.Resources ?? [])].reduce((sum, text) => sum + Buffer.byteLength(text ?? ''), e.Time ? 14 : 0);

/** The cap on free text in an announcement: 1 KB. */
const MAX_TEXT_BYTES = 1024;

/** A bus that refuses a call over 256 KB whole: the stricter reading (docs/cloudfront-api.md#quotas-and-rate-limits). */
function busThatChecksSize(refuses: (detail: Record<string, unknown>) => boolean = () => false) {
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    const total = input.Entries.reduce((sum, e) => sum + sizeOf(e), 0);
    if (input.Entries.length > 10 || total >= 256 * 1024) {
      throw Object.assign(new Error('Total size of the entries in the request is over the limit.'), { name: 'ValidationException' });
    }
    const results = input.Entries.map((e) => (refuses(JSON.parse(e.Detail ?? '{}')) ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { EventId: 'ok' }));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  });
}

function blockedOutcome(name: string, reason: string, testCase = 'case'): Outcome {
  return {
    functionName: name,
    functionArn: arnOf(name),
    trigger: 'sweep',
    action: 'blocked',
    etag: 'E2',
    dryRun: false,
    publishAttempts: 0,
    blocked: { reason, testCase, computeUtilization: undefined },
  };
}

function reporterOnBus() {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields: fields ?? {} });
  const metrics = countingMetrics();
  const reporter = createReporter({
    logger: { info: log, warn: log, error: log, addContext: () => undefined } as never,
    metrics,
    eventBridge: eventBridgeGateway(new EventBridgeClient({ region: 'us-east-1' }), 'bus'),
  });
  const failedCount = () => {
    metrics.publishStoredMetrics();
    return metrics.totals.get('announce-failed') ?? 0;
  };
  return { reporter, lines, failedCount };
}

test('a reason, error or case name over 1 KB is cut, so every announcement fits PutEvents and none is dropped', async () => {
  busThatChecksSize();
  const huge = 'x'.repeat(300 * 1024);
  const { reporter, lines, failedCount } = reporterOnBus();
  await reporter.outcomes([blockedOutcome('a', 'fine'), blockedOutcome('big', huge, huge), blockedOutcome('c', 'fine')]);
  assert.equal(failedCount(), 0);
  assert.deepEqual(
    sent().map((e) => JSON.parse(e.Detail ?? '{}').functionName),
    ['a', 'big', 'c'],
  );
  const big = JSON.parse(sent()[1]?.Detail ?? '{}');
  assert.ok(Buffer.byteLength(big.reason) <= MAX_TEXT_BYTES && Buffer.byteLength(big.testCase) <= MAX_TEXT_BYTES);
  assert.match(big.reason, /cut from 307200 bytes/);
  const warned = lines.find((l) => l.fields.function === 'big');
  assert.equal(warned?.fields.reason, big.reason, 'the log line carries the same cut reason');
  const failed = announcementFor({ ...blockedOutcome('f', 'r'), action: 'failed', blocked: undefined, error: `Boom: ${huge}` });
  assert.ok(Buffer.byteLength(String(failed?.detail.error)) <= MAX_TEXT_BYTES);
});

test('calls are packed under 256 KB; an entry too big to send alone is refused without dropping the others', async () => {
  busThatChecksSize();
  const gateway = eventBridgeGateway(new EventBridgeClient({ region: 'us-east-1' }), 'bus');
  const of = (n: number, kb: number) => ({ detailType: 'T', detail: { n, pad: 'p'.repeat(kb * 1024) } });
  const refused = await gateway.announce([of(0, 100), of(1, 100), of(2, 300), of(3, 100)]);
  assert.deepEqual(
    refused.map((r) => [r.announcement.detail.n, r.errorCode]),
    [[2, ENTRY_TOO_LARGE]],
  );
  const calls = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.map((e) => JSON.parse(e.Detail ?? '{}').n));
  assert.deepEqual(calls, [[0, 1], [3]]);
});

test('one refused entry does not drop the others of its batch: it alone is sent once more, then counted and logged, not thrown', async () => {
  busThatChecksSize((detail) => detail.functionName === 'b');
  const { reporter, lines, failedCount } = reporterOnBus();
  await reporter.outcomes(['a', 'b', 'c'].map((n) => blockedOutcome(n, 'r')));
  const calls = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.map((e) => JSON.parse(e.Detail ?? '{}').functionName));
  assert.deepEqual(calls, [['a', 'b', 'c'], ['b']]);
  assert.equal(failedCount(), 1, 'only the announcement the bus refused twice');
  const line = lines.find((l) => l.message === 'announcement failed');
  assert.match(String(line?.fields.error), /1 of 3.*InternalFailure/);
  assert.deepEqual(line?.fields.refused, [{ detailType: 'CloudFront Function Publish Blocked', resources: [arnOf('b')], errorCode: 'InternalFailure' }]);
});

test('a call that fails whole after the SDK retries leaves the other calls sent; its entries are sent once more', async () => {
  let calls = 0;
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    calls++;
    if (calls === 1) throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'ok' })) };
  });
  const gateway = eventBridgeGateway(new EventBridgeClient({ region: 'us-east-1', maxAttempts: 1 }), 'bus');
  const refused = await gateway.announce(Array.from({ length: 12 }, (_, n) => ({ detailType: 'T', detail: { n } })));
  assert.deepEqual(refused, []);
  const sizes = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
  assert.deepEqual(sizes, [10, 2, 10]);
});
