/** Outcomes announced on a bus: which ones, their shape, batching by 10 and FailedEntryCount retries. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeCloudFront, type FakeCloudFront, arnOf } from './support/fake-cloudfront';
import { captureLogs, eventHandlerWith, lambdaContext, type Settings, sweepHandlerWith } from './support/lambda';
import { updateEvent } from './support/events';
import { eventBridgeGateway } from '../lib/eventbridge-gateway';

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
  assert.equal(eb.commandCalls(PutEventsCommand).length, 3);
  assert.ok(r.lines.some((l) => l.message === 'announcement failed' && /AccessDeniedException/.test(String(l.error))));
  assert.ok(r.lines.some((l) => l['announce-failed'] === 1));
});
