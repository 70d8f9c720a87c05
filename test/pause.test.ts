/**
 * The brake (issue 18, section 1): what the pause parameter's value means, how `decide` answers while
 * paused (the reads still happen, no TestFunction, no PublishFunction), and how the SSM read behaves
 * through Powertools' cache: ParameterNotFound publishes, any other failure fails retryably.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { decide, type Policy } from '../lib/decide';
import { interpretPause, pauseValue } from '../lib/pause';
import { PauseReadError, ssmPauseSwitch } from '../lib/ssm-gateway';
import { isRetryable } from '../lib/errors';
import { loadConfig } from '../lib/config';

const policy: Policy = { optedIn: (t) => t['auto-publish'] === 'true', nameAllowed: () => true, dryRun: false, gate: true };
const on = { 'auto-publish': 'true' };

test('the value, trimmed and case-insensitive: active, empty or missing publish; paused… pauses; anything else pauses, flagged', () => {
  for (const value of [undefined, '', '  ', 'active', ' ACTIVE \n', 'Active']) assert.deepEqual(interpretPause(value), { paused: false }, String(value));
  assert.deepEqual(interpretPause('paused: incident 4711'), { paused: true, reason: 'paused: incident 4711' });
  assert.deepEqual(interpretPause('  PAUSED '), { paused: true, reason: 'PAUSED' });
  assert.deepEqual(interpretPause('stop'), { paused: true, reason: 'stop', unrecognised: true });
  assert.deepEqual(interpretPause('activ'), { paused: true, reason: 'activ', unrecognised: true });
  assert.equal(pauseValue('  incident   4711 '), 'paused: incident 4711');
  assert.deepEqual(interpretPause(pauseValue('x')), { paused: true, reason: 'paused: x' });
});

test('paused: tags and both stages are still read, then neither the gate nor a publish (dry run too)', () => {
  const held = { paused: 'paused: incident 4711' };
  assert.deepEqual(decide('f', { ...held }, policy), { kind: 'read-tags' });
  assert.deepEqual(decide('f', { ...held, tags: on }, policy), { kind: 'read', stage: 'DEVELOPMENT' });
  const differs = { ...held, tags: on, development: { etag: 'E2', status: 'UNPUBLISHED' } };
  assert.deepEqual(decide('f', differs, policy), { kind: 'done', action: 'paused', etag: 'E2' });
  assert.deepEqual(decide('f', differs, { ...policy, gate: false }), { kind: 'done', action: 'paused', etag: 'E2' });
  assert.deepEqual(decide('f', differs, { ...policy, dryRun: true }), { kind: 'done', action: 'paused', etag: 'E2' });
  // In sync or not opted in is what it always was: a pause holds only what would have been published.
  assert.deepEqual(decide('f', { ...differs, live: { etag: 'E2', status: 'UNASSOCIATED' } }, policy), { kind: 'done', action: 'skipped-in-sync', etag: 'E2' });
  assert.equal((decide('f', { ...held, tags: {} }, policy) as { action?: string }).action, 'skipped-not-opted-in');
});

test('the SSM read: cached for PAUSE_CACHE_SECONDS, read every time with 0; ParameterNotFound publishes; other failures are retryable errors', async () => {
  const ssm = mockClient(SSMClient);
  try {
    const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    ssm.on(GetParameterCommand, { Name: '/p' }).resolves({ Parameter: { Name: '/p', Value: 'paused: deploy freeze' } });
    const cached = ssmPauseSwitch(client, '/p', 30);
    assert.deepEqual(await cached.read(), { paused: true, reason: 'paused: deploy freeze' });
    await cached.read();
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 1, 'the second read comes from the cache');
    const uncached = ssmPauseSwitch(client, '/p', 0);
    await uncached.read();
    await uncached.read();
    assert.equal(ssm.commandCalls(GetParameterCommand).length, 3, 'PAUSE_CACHE_SECONDS=0 reads every time');

    ssm.reset();
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    assert.deepEqual(await ssmPauseSwitch(client, '/p', 0).read(), { paused: false });

    ssm.reset();
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException' }));
    const error = await ssmPauseSwitch(client, '/p', 0)
      .read()
      .then(
        () => assert.fail('a refused read must not resolve'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof PauseReadError);
    assert.ok(isRetryable(error), 'retryable: nothing is published on a guess, and Lambda tries again');
    assert.match(error.message, /pause parameter \/p: AccessDeniedException.*ssm:GetParameter/);
  } finally {
    ssm.restore();
  }
});

test('settings: PAUSE_PARAMETER unset reads nothing; PAUSE_CACHE_SECONDS defaults to 30; bad values name the variable', () => {
  const plain = loadConfig({});
  assert.equal(plain.pauseParameter, undefined);
  assert.equal(plain.pauseCacheSeconds, 30);
  assert.equal(loadConfig({ PAUSE_PARAMETER: '/cloudfront-autopublish/dev/pause', PAUSE_CACHE_SECONDS: '0' }).pauseCacheSeconds, 0);
  assert.throws(() => loadConfig({ PAUSE_PARAMETER: 'no spaces please' }), /PAUSE_PARAMETER: "no spaces please" is not an SSM parameter name/);
  assert.throws(() => loadConfig({ PAUSE_CACHE_SECONDS: '-1' }), /PAUSE_CACHE_SECONDS: "-1" is not a whole number from 0 to 3600/);
  assert.throws(() => loadConfig({ ALARM_TOPIC_ARN: 'ops-alarms' }), /ALARM_TOPIC_ARN: "ops-alarms" is not the ARN of a standard SNS topic/);
});
