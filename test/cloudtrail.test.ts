/** The sample events in events/ as the event handler's parser reads them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CloudFrontClient, CreateFunctionCommand, TagResourceCommand, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';
import { startEmulator, VARIANT_VALUES } from '../emulator';
import { interpretEvent, normaliseEventName } from '../lib/cloudtrail';
import { TEST_CREDENTIALS } from './support/lambda';

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

/**
 * Every record shape the emulator can write (emulator/VARIANTS.md: cloudTrailFunctionName ×
 * cloudTrailEventName), read by the parser: a record that names its function reconciles it; one that
 * names none is `unnamed` (its account is swept), never ignored and never a reconcile of a guess.
 */
test('every CloudTrail record shape: named records reconcile their function, unnamed ones ask for a sweep of their account', async (t) => {
  const emulator = await startEmulator({ accountId: '123456789012' });
  const cf = new CloudFrontClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  t.after(async () => {
    cf.destroy();
    await emulator.close();
  });
  const config = { Comment: 'c', Runtime: 'cloudfront-js-2.0' as const };
  const code = new TextEncoder().encode('function handler(e) { return e.request; }');
  const arn = 'arn:aws:cloudfront::123456789012:function/f1';
  for (const shape of VARIANT_VALUES.cloudTrailFunctionName) {
    for (const eventName of VARIANT_VALUES.cloudTrailEventName) {
      await t.test(`cloudTrailFunctionName=${shape} cloudTrailEventName=${eventName}`, async () => {
        emulator.state.reset();
        emulator.clearCloudTrailEvents();
        emulator.controls.setVariants({ cloudTrailFunctionName: shape, cloudTrailEventName: eventName });
        const created = await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: code }));
        await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: code }));
        await cf.send(new TagResourceCommand({ Resource: arn, Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] } }));
        const intents = emulator.cloudTrailEvents().map((e) => interpretEvent(e, { account: '123456789012', partition: 'aws' }));
        assert.deepEqual(
          intents.map((i) => (i.kind === 'ignore' ? `ignore` : i.trigger)),
          ['CreateFunction', 'UpdateFunction', 'TagResource'],
          'the operation is read from either eventName form',
        );
        // The create and update records name the function unless neither place carries it; the
        // tag record names it in requestParameters only (TagResource answers no body).
        const writesNamed = shape !== 'neither';
        const tagNamed = shape === 'both' || shape === 'requestParameters';
        for (const [intent, named] of [
          [intents[0], writesNamed],
          [intents[1], writesNamed],
          [intents[2], tagNamed],
        ] as const) {
          if (named) {
            assert.equal(intent?.kind, 'reconcile');
            assert.deepEqual(intent?.kind === 'reconcile' && intent.fn, { name: 'f1', arn });
          } else {
            assert.equal(intent?.kind, 'unnamed');
            assert.equal(intent?.kind === 'unnamed' && intent.account, '123456789012');
            assert.equal(intent?.kind === 'unnamed' && intent.error.name, 'BadEventError');
            assert.match(intent?.kind === 'unnamed' ? intent.error.message : '', /record has no (function name|requestParameters\.resource)/);
          }
        }
      });
    }
  }
});

test('a record naming no function, of another account or partition, stays ignored with its reason', () => {
  const unnamed = sample('update-function.json') as { account: string; detail: Record<string, unknown> };
  unnamed.detail.requestParameters = 'HIDDEN_DUE_TO_SECURITY_REASONS';
  unnamed.detail.responseElements = null;
  const ours = interpretEvent(unnamed, { account: '123456789012', partition: 'aws' });
  assert.equal(ours.kind, 'unnamed');

  const other = interpretEvent(unnamed, { account: '210987654321', partition: 'aws' });
  assert.equal(other.kind, 'ignore');
  assert.match(other.kind === 'ignore' ? other.reason : '', /naming no function, from account 123456789012, not 210987654321/);

  const china = interpretEvent(unnamed, { account: '123456789012', partition: 'aws-cn' });
  assert.equal(china.kind, 'ignore');
  assert.match(china.kind === 'ignore' ? china.reason : '', /from partition aws, not aws-cn/);

  // An event that is not a function change stays ignored whatever its parameters hold.
  const publish = sample('publish-function.json') as { detail: Record<string, unknown> };
  publish.detail.requestParameters = 'HIDDEN_DUE_TO_SECURITY_REASONS';
  assert.equal(interpretEvent(publish, { account: '123456789012' }).kind, 'ignore');

  // No account anywhere: nothing to sweep, so only the error.
  unnamed.account = 'none';
  unnamed.detail.recipientAccountId = undefined;
  assert.throws(() => interpretEvent(unnamed), /has no function name.*names no 12-digit account/);
});
