/**
 * Found by the convergence property (invariant 4): a sweep whose ListFunctions failed rejected with
 * the bare SDK message ("Rate exceeded", "We encountered an internal error"), naming neither the call
 * nor the stage, so the alarm's log line said nothing about what failed.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListFunctionsCommand } from '@aws-sdk/client-cloudfront';
import { handler } from '../../handlers/drift-sweep';
import { fakeCloudFront, type FakeCloudFront } from '../support/fake-cloudfront';
import { captureStdout, lambdaContext } from '../support/lambda';

let cf: FakeCloudFront;
const scheduled = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

beforeEach(() => {
  for (const key of ['DRY_RUN', 'AUTO_PUBLISH_ALLOWED_NAMES']) delete process.env[key];
  process.env.CLOUDFRONT_MAX_ATTEMPTS = '1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterEach(() => cf?.restore());

test('a sweep that cannot list functions fails with an error naming ListFunctions and the cause', async () => {
  cf = fakeCloudFront({});
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  cf.mock.on(ListFunctionsCommand).rejects(throttled);
  const r = await captureStdout(() => handler(scheduled, lambdaContext()));
  assert.ok(r.error instanceof Error, 'the invocation fails');
  assert.match(r.error.message, /ListFunctions/);
  assert.match(r.error.message, /Throttling/);
  assert.match(r.error.message, /Rate exceeded/);
  const failed = r.lines.find((l) => l.message === 'invocation failed');
  assert.match(String(failed?.error), /ListFunctions.*Rate exceeded/);
});
