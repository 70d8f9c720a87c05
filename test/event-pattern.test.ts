import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesPattern, PatternError } from '../local/event-pattern';
import { SHARED_DOC_PATTERN as rule } from './support/rule-pattern';

const event = (eventName: string, extra: Record<string, unknown> = {}) => ({
  source: 'aws.cloudfront',
  'detail-type': 'AWS API Call via CloudTrail',
  detail: { eventSource: 'cloudfront.amazonaws.com', eventName, ...extra },
});

test('prefix alternatives match plain and suffixed names, and nothing else', () => {
  assert.equal(matchesPattern(rule, event('UpdateFunction2020_05_31')), true);
  assert.equal(matchesPattern(rule, event('CreateFunction')), true);
  assert.equal(matchesPattern(rule, event('TagResource2020_05_31')), true);
  assert.equal(matchesPattern(rule, event('PublishFunction2020_05_31')), false);
  assert.equal(matchesPattern(rule, event('DeleteFunction')), false);
  assert.equal(matchesPattern(rule, event('UntagResource')), false);
});

test('every key must match, and a missing field fails', () => {
  assert.equal(matchesPattern(rule, { ...event('CreateFunction'), source: 'aws.s3' }), false);
  assert.equal(matchesPattern(rule, { source: 'aws.cloudfront', 'detail-type': 'AWS API Call via CloudTrail' }), false);
  assert.equal(matchesPattern(rule, { ...event('CreateFunction'), detail: 'CreateFunction' }), false);
  assert.equal(matchesPattern(rule, null), false);
});

test('an event array matches when any element does', () => {
  assert.equal(matchesPattern({ resources: [{ prefix: 'arn:aws:cloudfront' }] }, { resources: ['x', 'arn:aws:cloudfront::1:function/f'] }), true);
  assert.equal(matchesPattern({ resources: ['a'] }, { resources: ['b', 'c'] }), false);
});

test('exists, anything-but, suffix, equals-ignore-case, wildcard and numeric', () => {
  assert.equal(matchesPattern({ detail: { errorCode: [{ exists: false }] } }, event('CreateFunction')), true);
  assert.equal(matchesPattern({ detail: { errorCode: [{ exists: false }] } }, event('CreateFunction', { errorCode: 'AccessDenied' })), false);
  assert.equal(matchesPattern({ detail: { errorCode: [{ exists: true }] } }, event('CreateFunction', { errorCode: 'AccessDenied' })), true);
  assert.equal(matchesPattern({ detail: { eventName: [{ 'anything-but': ['PublishFunction'] }] } }, event('PublishFunction')), false);
  assert.equal(matchesPattern({ detail: { eventName: [{ 'anything-but': { prefix: 'Publish' } }] } }, event('UpdateFunction')), true);
  assert.equal(matchesPattern({ detail: { eventName: [{ suffix: '2020_05_31' }] } }, event('UpdateFunction2020_05_31')), true);
  assert.equal(matchesPattern({ detail: { eventName: [{ 'equals-ignore-case': 'updatefunction' }] } }, event('UpdateFunction')), true);
  assert.equal(matchesPattern({ detail: { eventName: [{ wildcard: '*Function*' }] } }, event('UpdateFunction2020_05_31')), true);
  assert.equal(matchesPattern({ n: [{ numeric: ['>', 1, '<=', 5] }] }, { n: 5 }), true);
  assert.equal(matchesPattern({ n: [{ numeric: ['>', 1, '<=', 5] }] }, { n: 6 }), false);
});

test('a malformed pattern is an error, not a silent mismatch', () => {
  assert.throws(() => matchesPattern({ source: 'aws.cloudfront' } as never, event('CreateFunction')), PatternError);
  assert.throws(() => matchesPattern({ source: [{ nope: 1 }] }, { source: 'x' }), /unsupported operator "nope"/);
});
