/**
 * History end to end: the real SDK over HTTP against the emulator's CloudFront and S3, CloudTrail
 * events on the local bus, the real handlers. LIVE is saved before the publish that replaces it; a
 * refused write publishes nothing and is retried (Lambda's retries, then the sweep).
 */
import './support';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { code, create, HISTORY_BUCKET, reconcilerPublishes, recordReconcilerCalls, savedRecords, stateOf, update, withStack } from './support';

const settings = { HISTORY_BUCKET };

test('history: LIVE is read with GetFunction and saved to the bucket before the publish replaces it', () =>
  withStack({ settings }, async (stack) => {
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    const console = stack.clientFor('console-user');
    await create(console, 'url-rewrite', true);
    await stack.settle();
    const v1 = stateOf(stack, 'url-rewrite').live;
    assert.ok(v1, 'published on create');
    assert.deepEqual(await savedRecords(stack), [], 'a function never published has nothing to save');

    const calls = recordReconcilerCalls(stack);
    const v2 = await update(console, 'url-rewrite', 'v2');
    await stack.settle();
    assert.equal(stateOf(stack, 'url-rewrite').live, v2);
    const ops = calls.map((c) => c.operation);
    assert.ok(ops.indexOf('GetFunction') < ops.indexOf('PutObject'), ops.join(','));
    assert.ok(ops.indexOf('PutObject') < ops.indexOf('PublishFunction'), `saved before the publish: ${ops.join(',')}`);
    assert.equal(ops.filter((o) => o === 'GetFunction').length, 1);
    assert.equal(ops.filter((o) => o === 'PutObject').length, 1);

    const saved = await savedRecords(stack);
    assert.equal(saved.length, 1);
    const [{ key, record }] = saved as [(typeof saved)[number]];
    assert.equal(key, `${stack.emulator.accountId}/url-rewrite/${record.savedAt}-${v1}.json`);
    assert.equal(record.etag, v1);
    assert.equal(Buffer.from(record.code, 'base64').toString(), Buffer.from(code('v1')).toString(), 'the code LIVE held');
    assert.deepEqual(record.config, { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreAssociations: [] });
    assert.equal(record.replacedBy.etag, v2);
    assert.equal(record.replacedBy.trigger, 'UpdateFunction');
    assert.match(record.replacedBy.actor ?? '', /console-user/, 'who made the edit, from the CloudTrail record');
    assert.ok(record.replacedBy.eventId, 'the CloudTrail eventID');
    assert.equal(stack.outcomes.at(-1)?.history, key);
  }));

test('history: a refused write publishes nothing; the failure is retried, and the sweep publishes once the bucket takes writes', () =>
  withStack({ settings, bus: { retry: { maxRetries: 2, delayMs: 5 } } }, async (stack) => {
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    const ci = stack.clientFor('ci-job');
    await create(ci, 'geo-redirect', true);
    await stack.settle();
    const v1 = stateOf(stack, 'geo-redirect').live;

    stack.emulator.controls.refuseS3Writes('AccessDenied');
    const v2 = await update(ci, 'geo-redirect', 'v2');
    await stack.settle();
    assert.equal(stateOf(stack, 'geo-redirect').live, v1, 'LIVE untouched: no publish without its history');
    assert.equal(reconcilerPublishes(stack).length, 1, 'only the create was published');
    const failures = stack.bus.deliveries().filter((d) => d.status === 'failed');
    assert.equal(failures.length, 3, 'retryable: Lambda tried it 3 times');
    assert.match(failures[0]?.error ?? '', /could not save LIVE .* so it was not replaced: AccessDenied/);
    assert.deepEqual(stack.failureQueue, [], 'not sent to the failure queue at once (that is for failures no retry can mend)');

    stack.emulator.controls.refuseS3Writes(undefined);
    const swept = await stack.sweep();
    assert.deepEqual(swept.counts, { published: 1 });
    assert.equal(stateOf(stack, 'geo-redirect').live, v2);
    const saved = await savedRecords(stack);
    assert.deepEqual(
      saved.map((s) => [s.record.etag, s.record.replacedBy.etag, s.record.replacedBy.trigger]),
      [[v1, v2, 'sweep']],
    );
  }));
