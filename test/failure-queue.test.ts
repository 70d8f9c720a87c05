/**
 * Which failures Lambda retries and which go to the failure queue at once: a failure no retry can
 * mend (an event we cannot understand, a refused call) is put on the queue in Lambda's destination
 * shape and the invocation succeeds; a retryable one (throttling, 5xx) is rethrown for Lambda's
 * retries; and if the queue cannot take it, the invocation fails so nothing is lost.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeCloudFront, type FakeCloudFront } from './support/fake-cloudfront';
import { updateEvent } from './support/events';
import { captureLogs, eventHandlerWith, lambdaContext } from './support/lambda';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/cloudfront-autopublish-failed';
const opted = { 'auto-publish': 'true' };
const sqs = mockClient(SQSClient);
let cf: FakeCloudFront;
const sentRecords = () =>
  sqs.commandCalls(SendMessageCommand).map((c) => ({ url: c.args[0].input.QueueUrl, body: JSON.parse(c.args[0].input.MessageBody ?? '{}') }));
const invoke = (event: unknown) => captureLogs(async () => eventHandlerWith({ FAILURE_QUEUE_URL: QUEUE })(event, lambdaContext()));

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
});
afterEach(() => cf.restore());

test('an event we cannot understand goes to the queue at once, in the destination record shape, and the invocation succeeds', async () => {
  const bad = { source: 'aws.cloudfront', 'detail-type': 'AWS API Call via CloudTrail', detail: 'not an object' };
  const r = await invoke(bad);
  assert.equal(r.error, undefined, 'no Lambda retry: it would read the event the same way');
  const [record] = sentRecords();
  assert.equal(record?.url, QUEUE);
  assert.deepEqual(record?.body.requestPayload, bad);
  assert.equal(record?.body.requestContext.condition, 'NotRetryable');
  assert.match(record?.body.requestContext.functionArn, /^arn:aws:lambda:us-east-1:\d{12}:function:/);
  assert.equal(record?.body.responsePayload.errorType, 'BadEventError');
  assert.match(record?.body.responsePayload.errorMessage, /not a JSON object/);
  assert.equal(cf.count(), 0);
  assert.ok(r.lines.some((l) => l.message === 'sent to the failure queue without retries' && l.errorName === 'BadEventError'));
  assert.ok(
    r.lines.some((l) => l['sent-to-failure-queue'] === 1),
    'counted',
  );
});

test('a refused call (AccessDenied) is not retried either: the failed outcome is reported, the event queued', async () => {
  cf.hooks.PublishFunction = () => {
    throw new AccessDenied({ message: 'denied by an SCP', $metadata: { httpStatusCode: 403 } });
  };
  const r = await invoke(updateEvent('f'));
  assert.equal(r.error, undefined);
  assert.equal(sentRecords().length, 1);
  assert.equal(sentRecords()[0]?.body.responsePayload.errorType, 'ReconcileError');
  const failed = r.lines.find((l) => l.message === 'outcome' && l.action === 'failed');
  assert.equal(failed?.publishAttempts, 1);
  assert.equal(failed?.etag, 'E2');
});

test('a retryable failure (throttling that outlasted the SDK) is rethrown for Lambda, and nothing is queued', async () => {
  cf.hooks.DescribeFunction = () => {
    throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  };
  const r = await invoke(updateEvent('f'));
  assert.ok(r.error instanceof Error);
  assert.equal((r.error as { retryable?: boolean }).retryable, true);
  assert.equal(sentRecords().length, 0);
  assert.ok(r.lines.some((l) => l.message === 'invocation failed'));
});

test('when the queue cannot take the record, the invocation fails with the original error, so Lambda keeps the event', async () => {
  sqs.on(SendMessageCommand).rejects(Object.assign(new Error('queue gone'), { name: 'QueueDoesNotExist' }));
  const r = await invoke({ source: 'aws.cloudfront', 'detail-type': 'x', detail: 42 });
  assert.ok(r.error instanceof Error);
  assert.equal(r.error.name, 'BadEventError');
  assert.ok(r.lines.some((l) => l.message === 'invocation failed' && /queue gone/.test(String(l.error))));
});

test('without a failure queue (FAILURE_QUEUE_URL unset), a bad event fails the invocation as before', async () => {
  const r = await captureLogs(async () => eventHandlerWith()({ detail: 1 }, lambdaContext()));
  assert.ok(r.error instanceof Error);
  assert.equal(sqs.commandCalls(SendMessageCommand).length, 0);
});
