/**
 * Found by the convergence property (invariant 4): a sweep whose ListFunctions failed rejected with
 * the bare SDK message ("Rate exceeded", "We encountered an internal error"), naming neither the call
 * nor the stage, so the alarm's log line said nothing about what failed.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListFunctionsCommand } from '@aws-sdk/client-cloudfront';
import { fakeCloudFront, type FakeCloudFront } from '../support/fake-cloudfront';
import { captureLogs, lambdaContext, sweepHandlerWith } from '../support/lambda';

let cf: FakeCloudFront;
const scheduled = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

afterEach(() => cf?.restore());

test('a sweep that cannot list functions fails with an error naming ListFunctions and the cause', async () => {
  cf = fakeCloudFront({});
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  cf.mock.on(ListFunctionsCommand).rejects(throttled);
  const r = await captureLogs(async () => sweepHandlerWith()(scheduled, lambdaContext()));
  assert.ok(r.error instanceof Error, 'the invocation fails');
  assert.match(r.error.message, /ListFunctions/);
  assert.match(r.error.message, /Throttling/);
  assert.match(r.error.message, /Rate exceeded/);
  const failed = r.lines.find((l) => l.message === 'invocation failed');
  assert.match(String(failed?.error), /ListFunctions.*Rate exceeded/);
});
