/** The sample events in events/ as the event handler's parser reads them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { interpretEvent, normaliseEventName } from '../lib/cloudtrail';

const sample = (file: string): unknown => JSON.parse(readFileSync(new URL(`../events/${file}`, import.meta.url), 'utf8'));

test('eventName suffixes are stripped', () => {
  assert.equal(normaliseEventName('UpdateFunction2020_05_31'), 'UpdateFunction');
  assert.equal(normaliseEventName('CreateFunction'), 'CreateFunction');
  assert.equal(normaliseEventName('TagResource2019_03_26'), 'TagResource');
});

test('the samples: update, create and tag-function reconcile the right function', () => {
  const update = interpretEvent(sample('update-function.json'), { account: '123456789012' });
  assert.equal(update.kind, 'reconcile');
  assert.equal(update.kind === 'reconcile' && update.fn.name, 'url-rewrite');
  assert.equal(update.kind === 'reconcile' && update.fn.arn, 'arn:aws:cloudfront::123456789012:function/url-rewrite');
  assert.equal(update.kind === 'reconcile' && update.trigger, 'UpdateFunction');

  const create = interpretEvent(sample('create-function.json'));
  assert.equal(create.kind === 'reconcile' && create.trigger, 'CreateFunction');

  const tag = interpretEvent(sample('tag-function.json'));
  assert.equal(tag.kind === 'reconcile' && tag.fn.name, 'url-rewrite');
  assert.equal(tag.kind === 'reconcile' && tag.trigger, 'TagResource');
});

test('the samples: a distribution tag, a failed call, a publish and a schedule are ignored', () => {
  for (const file of ['tag-distribution.json', 'failed-update.json', 'publish-function.json', 'scheduled.json']) {
    const intent = interpretEvent(sample(file));
    assert.equal(intent.kind, 'ignore', file);
  }
});

test('the ARN is built in the partition of the event region when the record does not carry it', () => {
  const event = sample('create-function.json') as { region: string; detail: Record<string, unknown> };
  event.detail.responseElements = null;
  event.detail.awsRegion = 'cn-north-1';
  const intent = interpretEvent(event);
  assert.match(intent.kind === 'reconcile' ? intent.fn.arn : '', /^arn:aws-cn:cloudfront::\d{12}:function\//);
});
