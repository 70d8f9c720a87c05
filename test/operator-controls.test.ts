/**
 * Issue 18 on the Lambda handlers, with the AWS clients mocked: the pause on the event path and the
 * sweep, the audit fields of every outcome line and announcement, the alarm topic's messages (each
 * blocked or failed version once), and the out-of-sync count after a sweep.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeCloudFront, type FakeCloudFront } from './support/fake-cloudfront';
import { captureLogs, eventHandlerWith, lambdaContext, sweepHandlerWith } from './support/lambda';
import { updateEvent } from './support/events';
import { PauseReadError } from '../lib/ssm-gateway';
import type { SweepSummary } from '../lib/sweep';

const opted = { 'auto-publish': 'true' };
const PARAMETER = '/cloudfront-autopublish/test/pause';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';
const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
const eb = mockClient(EventBridgeClient);
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
let cf: FakeCloudFront;

const settings = { EVENT_BUS_NAME: 'platform-bus', PAUSE_PARAMETER: PARAMETER, PAUSE_CACHE_SECONDS: '0', ALARM_TOPIC_ARN: TOPIC };
const announced = () => eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
const notified = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
const pauseIs = (value: string) => ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Name: PARAMETER, Value: value } });

/** An UpdateFunction record made by a console user, as CloudTrail writes it. */
const consoleEdit = (name: string) => {
  const event = updateEvent(name);
  return {
    ...event,
    detail: {
      ...event.detail,
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' },
      sourceIPAddress: '203.0.113.7',
    },
  };
};

beforeEach(() => {
  eb.reset();
  ssm.reset();
  sns.reset();
  eb.on(PutEventsCommand).callsFake(async (input) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
});
afterEach(() => cf?.restore());

test('paused: the event path reads tags and DEVELOPMENT, then neither tests nor publishes; the outcome says paused with the text, and is announced', async () => {
  pauseIs('  paused: incident 4711 ');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const { result, lines } = await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  assert.equal(cf.count('TestFunction'), 0);
  assert.equal(cf.count('PublishFunction'), 0);
  assert.ok(cf.count('DescribeFunction') >= 1 && cf.count('ListTagsForResource') === 1, 'the reads that decide still happen');
  assert.equal(result?.outcomes[0]?.action, 'paused');
  const line = lines.find((l) => l.message === 'outcome');
  assert.equal(line?.action, 'paused');
  assert.equal(line?.pause, 'paused: incident 4711');
  const [entry] = announced();
  assert.equal(entry?.DetailType, 'CloudFront Function Publish Paused');
  assert.equal(JSON.parse(entry?.Detail ?? '{}').pause, 'paused: incident 4711');
});

test('a value that is neither active nor paused… pauses, and a warning names it', async () => {
  pauseIs('maintenance');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const { lines } = await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  assert.equal(cf.count('PublishFunction'), 0);
  const warning = lines.find((l) => /pause parameter value not recognised/.test(String(l.message)));
  assert.equal(warning?.value, 'maintenance');
  assert.equal(warning?.parameter, PARAMETER);
});

test('active (any case), or no parameter at all, publishes as usual', async () => {
  pauseIs(' Active ');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  assert.equal(cf.count('PublishFunction'), 1);
  cf.restore();
  ssm.reset();
  ssm.on(GetParameterCommand).rejects(Object.assign(new Error('no such parameter'), { name: 'ParameterNotFound' }));
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  assert.equal(cf.count('PublishFunction'), 1);
});

test('an unreadable pause parameter fails the invocation, retryably, before anything is read or published', async () => {
  ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const { error } = await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  assert.ok(error instanceof PauseReadError, String(error));
  assert.equal(cf.count('PublishFunction'), 0);
  assert.equal(cf.count(), 0, 'no CloudFront call at all');
});

test('audit: the outcome line carries actor, eventId and sourceIPAddress; the announcement actor and eventId only', async () => {
  pauseIs('active');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const { lines } = await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  const line = lines.find((l) => l.message === 'outcome');
  assert.equal(line?.actor, 'arn:aws:sts::123456789012:assumed-role/Admin/alice');
  assert.equal(line?.eventId, 'e-1');
  assert.equal(line?.sourceIPAddress, '203.0.113.7');
  const detail = JSON.parse(announced()[0]?.Detail ?? '{}');
  assert.equal(detail.actor, 'arn:aws:sts::123456789012:assumed-role/Admin/alice');
  assert.equal(detail.eventId, 'e-1');
  assert.ok(!('sourceIPAddress' in detail), 'the address stays in the log');
});

test('audit: a failed reconcile on the event path says who and which record too', async () => {
  pauseIs('active');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  cf.hooks.PublishFunction = () => {
    throw Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  };
  const { lines } = await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  const line = lines.find((l) => l.message === 'outcome');
  assert.equal(line?.action, 'failed');
  assert.equal(line?.actor, 'arn:aws:sts::123456789012:assumed-role/Admin/alice');
  assert.equal(line?.eventId, 'e-1');
});

test('alarm topic: a blocked version on the event path is sent once, naming the function, ETag, reason and test case', async () => {
  pauseIs('active');
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1', test: () => ({ error: 'TypeError: boom' }) } });
  await captureLogs(async () => eventHandlerWith(settings)(consoleEdit('f'), lambdaContext()));
  const [message, ...more] = notified();
  assert.equal(more.length, 0);
  assert.equal(message?.TopicArn, TOPIC);
  assert.match(message?.Subject ?? '', /f blocked \(E2\)/);
  assert.match(message?.Message ?? '', /Function: f\nETag: E2\nReason: .*TypeError: boom/);
  assert.match(message?.Message ?? '', /Test case: /);
  assert.match(message?.Message ?? '', /Changed by: arn:aws:sts::123456789012:assumed-role\/Admin\/alice/);
});

test('sweep: paused candidates are held and counted; resume needs no replay, the next sweep publishes them', async () => {
  pauseIs('paused: freeze');
  cf = fakeCloudFront({
    a: { tags: opted, devEtag: 'A2', liveEtag: 'A1' },
    b: { tags: opted, devEtag: 'B2', liveEtag: 'B1' },
    c: { tags: {}, devEtag: 'C2', liveEtag: 'C1' },
  });
  const held = await captureLogs(async () => sweepHandlerWith(settings)(scheduled, lambdaContext(600_000)));
  assert.equal(cf.count('PublishFunction') + cf.count('TestFunction'), 0);
  assert.equal((held.result as SweepSummary).counts.paused, 2);
  assert.equal(held.lines.find((l) => l.message === 'sweep finished')?.held, 2);
  ssm.reset();
  pauseIs('active');
  await captureLogs(async () => sweepHandlerWith(settings)(scheduled, lambdaContext(600_000)));
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['a', 'b']);
});

test('sweep: a blocked version is sent only when the previous sweep could not have seen it; out-of-sync counts stuck ones older than OUT_OF_SYNC_MINUTES', async () => {
  pauseIs('active');
  const now = Date.now();
  const failing = () => ({ error: 'TypeError: boom' });
  cf = fakeCloudFront({
    // Edited a minute ago: first seen by this sweep.
    fresh: { tags: opted, devEtag: 'F2', liveEtag: 'F1', devModified: now - 60_000, liveModified: now - 3_600_000, test: failing },
    // Edited two hours ago: every sweep since has blocked (and sent) it already; out of sync.
    stale: { tags: opted, devEtag: 'S2', liveEtag: 'S1', devModified: now - 7_200_000, liveModified: now - 9_000_000, test: failing },
  });
  const { result, lines } = await captureLogs(async () => sweepHandlerWith(settings)(scheduled, lambdaContext(600_000)));
  const summary = (result ?? {}) as SweepSummary;
  assert.deepEqual(
    notified().map((n) => n.Subject),
    ['cloudfront-autopublish: fresh blocked (F2)'],
  );
  assert.deepEqual(summary.outOfSync, ['stale']);
  assert.equal(lines.find((l) => l.message === 'sweep finished')?.outOfSync?.toString(), 'stale');
});
