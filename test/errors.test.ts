/** Every error has a literal name (bundles are minified), keeps its cause, and says whether a retry could help. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import { AutoPublishError, isRetryable } from '../lib/errors';
import { BadEventError } from '../lib/cloudtrail';
import { ConfigError } from '../lib/config';
import { ListingError } from '../lib/cloudfront-gateway';
import { failedOutcome, PublishConflictError, ReconcileError } from '../lib/reconcile';
import { SweepListingError } from '../lib/sweep';

const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
const denied = new AccessDenied({ message: 'denied by SCP', $metadata: { httpStatusCode: 403 } });

test('the retry class of each failure', () => {
  assert.equal(isRetryable(new BadEventError('event has no detail')), false, 'a bad event reads the same way next time');
  assert.equal(isRetryable(new ConfigError('DRY_RUN', '"maybe" is not true or false')), false);
  assert.equal(isRetryable(new ListingError('ListFunctions (DEVELOPMENT)', 'loop')), false);
  assert.equal(isRetryable(new ReconcileError('f', { publishAttempts: 0 }, throttled)), true, 'throttling that persisted may pass');
  assert.equal(isRetryable(new ReconcileError('f', { publishAttempts: 0 }, denied)), false, 'a refusal meets the same answer');
  assert.equal(isRetryable(new PublishConflictError('f', { publishAttempts: 3, etag: 'E3' })), true);
  assert.equal(isRetryable(new SweepListingError('LIVE', throttled)), true);
  assert.equal(isRetryable(new SweepListingError('LIVE', new ListingError('ListFunctions (LIVE)', 'loop'))), false);
  assert.equal(isRetryable(new TypeError('a bug')), true, 'unknown errors are retried, never dropped');
});

test('names are literals and causes pass through ErrorOptions', () => {
  const error = new ReconcileError('f', { publishAttempts: 1, etag: 'E2' }, denied);
  assert.ok(error instanceof AutoPublishError);
  assert.equal(error.name, 'ReconcileError');
  assert.equal(error.cause, denied);
  assert.match(error.message, /^f: AccessDenied \(HTTP 403\): denied by SCP$/);
  assert.equal(new PublishConflictError('f', { publishAttempts: 3 }).name, 'PublishConflictError');
  assert.equal(new SweepListingError('LIVE', throttled).cause, throttled);
});

test('a failed outcome reports how far the reconcile got: attempts and the last DEVELOPMENT ETag', () => {
  const fn = { name: 'f', arn: 'arn:aws:cloudfront::123456789012:function/f' };
  const outcome = failedOutcome(fn, 'UpdateFunction', false, new ReconcileError('f', { publishAttempts: 1, etag: 'E2' }, denied));
  assert.equal(outcome.publishAttempts, 1);
  assert.equal(outcome.etag, 'E2');
  assert.equal(failedOutcome(fn, 'sweep', false, new PublishConflictError('f', { publishAttempts: 3, etag: 'E4' })).etag, 'E4');
});
