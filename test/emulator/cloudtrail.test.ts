// CloudTrail events the emulator hands to subscribers, checked against the shapes in docs/cloudfront-api.md#cloudtrail-events
// (docs/cloudfront-api.md, "CloudTrail records and EventBridge") and the rule
// pattern it recommends.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DescribeFunctionCommand,
  ListFunctionsCommand,
  PublishFunctionCommand,
  TagResourceCommand,
  TestFunctionCommand,
  UntagResourceCommand,
  UpdateFunctionCommand,
  type CloudFrontClient,
} from '@aws-sdk/client-cloudfront';
import { matchesPattern } from '../../local/event-pattern';
import { startEmulator, type CloudTrailEvent, type Emulator } from '../../emulator';
import { CODE, clientFor, emulatorForSuite, encode, errorOf } from './helpers';
import { SHARED_DOC_PATTERN } from '../support/rule-pattern';

const config = { Comment: 'c', Runtime: 'cloudfront-js-2.0' as const };
const ARN = 'arn:aws:cloudfront::123456789012:function/f1';

describe('CloudTrail events', () => {
  let emulator: Emulator;
  let cf: CloudFrontClient;
  let received: CloudTrailEvent[];

  emulatorForSuite(
    { actors: { AKIDALICE: 'alice' } },
    (e, c) => {
      emulator = e;
      cf = c;
      emulator.onCloudTrailEvent((event) => received.push(event));
    },
    { accessKeyId: 'AKIDALICE' },
  );
  beforeEach(() => {
    emulator.state.reset();
    emulator.clearCloudTrailEvents();
    received = [];
  });

  it('one event per mutating call, suffixed eventName, none for reads and TestFunction', async () => {
    const created = await cf.send(
      new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE), Tags: { Items: [{ Key: 'a', Value: '1' }] } }),
    );
    const updated = await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
    await cf.send(new DescribeFunctionCommand({ Name: 'f1', Stage: 'DEVELOPMENT' }));
    await cf.send(new ListFunctionsCommand({}));
    await cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: updated.ETag, EventObject: encode('{}') }));
    await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: updated.ETag }));
    await cf.send(new TagResourceCommand({ Resource: ARN, Tags: { Items: [{ Key: 'b', Value: '2' }] } }));
    await cf.send(new UntagResourceCommand({ Resource: ARN, TagKeys: { Items: ['a'] } }));
    await cf.send(new DeleteFunctionCommand({ Name: 'f1', IfMatch: updated.ETag }));
    assert.deepEqual(
      received.map((e) => e.detail.eventName),
      [
        'CreateFunction2020_05_31',
        'UpdateFunction2020_05_31',
        'PublishFunction2020_05_31',
        'TagResource2020_05_31',
        'UntagResource2020_05_31',
        'DeleteFunction2020_05_31',
      ],
    );
    assert.deepEqual(emulator.cloudTrailEvents(), received);
  });

  it('envelope and identity look like EventBridge CloudTrail records', async () => {
    await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE) }));
    const [event] = received;
    assert.ok(event);
    assert.equal(event.version, '0');
    assert.equal(event['detail-type'], 'AWS API Call via CloudTrail');
    assert.equal(event.source, 'aws.cloudfront');
    assert.equal(event.account, '123456789012');
    assert.equal(event.region, 'us-east-1');
    assert.deepEqual(event.resources, []);
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const d = event.detail;
    assert.equal(d.eventVersion, '1.09');
    assert.equal(d.eventSource, 'cloudfront.amazonaws.com');
    assert.equal(d.awsRegion, 'us-east-1');
    assert.equal(d.eventTime, event.time);
    assert.equal(d.readOnly, false);
    assert.equal(d.eventType, 'AwsApiCall');
    assert.equal(d.managementEvent, true);
    assert.equal(d.eventCategory, 'Management');
    assert.equal(d.recipientAccountId, '123456789012');
    assert.equal(d.sourceIPAddress, '127.0.0.1');
    assert.match(d.userAgent, /aws-sdk-js/);
    assert.deepEqual(
      { type: d.userIdentity.type, accessKeyId: d.userIdentity.accessKeyId, arn: d.userIdentity.arn, accountId: d.userIdentity.accountId },
      { type: 'IAMUser', accessKeyId: 'AKIDALICE', arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012' },
    );
    assert.match(d.requestID, /^[0-9a-f-]{36}$/);
    assert.notEqual(d.eventID, event.id);
    assert.equal('errorCode' in d, false);
  });

  it('create/update carry camelCase parameters with redacted code and a functionSummary response', async () => {
    const created = await cf.send(
      new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE), Tags: { Items: [{ Key: 'a', Value: '1' }] } }),
    );
    const updated = await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
    const [create, update] = received;
    assert.deepEqual(create?.detail.requestParameters, {
      name: 'f1',
      functionConfig: { comment: 'c', runtime: 'cloudfront-js-2.0' },
      functionCode: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      tags: { items: [{ key: 'a', value: '1' }] },
    });
    assert.deepEqual(update?.detail.requestParameters, {
      name: 'f1',
      ifMatch: created.ETag,
      functionConfig: { comment: 'c', runtime: 'cloudfront-js-2.0' },
      functionCode: 'HIDDEN_DUE_TO_SECURITY_REASONS',
    });
    const response = update?.detail.responseElements as { functionSummary: Record<string, any>; eTag: string };
    assert.equal(response.eTag, updated.ETag);
    assert.equal(response.functionSummary.name, 'f1');
    assert.equal(response.functionSummary.status, 'UNPUBLISHED');
    assert.deepEqual(response.functionSummary.functionConfig, { comment: 'c', runtime: 'cloudfront-js-2.0' });
    assert.equal(response.functionSummary.functionMetadata.functionARN, ARN);
    assert.equal(response.functionSummary.functionMetadata.stage, 'DEVELOPMENT');
    assert.match(response.functionSummary.functionMetadata.lastModifiedTime, /Z$/);
  });

  describe('the record-shape variants: where the name is, and the eventName form (emulator/VARIANTS.md)', () => {
    const write = async () => {
      const created = await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE) }));
      await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      await cf.send(new TagResourceCommand({ Resource: ARN, Tags: { Items: [{ Key: 'k', Value: 'v' }] } }));
      return received.map((e) => e.detail);
    };
    const summaryName = (d: CloudTrailEvent['detail']) => (d.responseElements as { functionSummary?: { name?: string } } | null)?.functionSummary?.name;
    const requestField = (d: CloudTrailEvent['detail'], field: string) =>
      typeof d.requestParameters === 'object' && d.requestParameters !== null ? d.requestParameters[field] : undefined;

    for (const eventName of ['suffixed', 'plain'] as const) {
      const suffix = eventName === 'suffixed' ? '2020_05_31' : '';
      it(`cloudTrailEventName=${eventName}: ${['CreateFunction', 'UpdateFunction', 'TagResource'].map((o) => o + suffix).join(', ')}`, async () => {
        emulator.controls.setVariants({ cloudTrailEventName: eventName });
        try {
          const details = await write();
          assert.deepEqual(
            details.map((d) => d.eventName),
            ['CreateFunction', 'UpdateFunction', 'TagResource'].map((o) => o + suffix),
          );
        } finally {
          emulator.controls.setVariants({ cloudTrailEventName: 'suffixed' });
        }
      });
    }

    it('cloudTrailFunctionName=both (default): the name in requestParameters and in the functionSummary', async () => {
      const [create, update, tag] = await write();
      for (const d of [create!, update!]) {
        assert.equal(requestField(d, 'name'), 'f1');
        assert.equal(summaryName(d), 'f1');
      }
      assert.equal(requestField(tag!, 'resource'), ARN);
    });

    it('cloudTrailFunctionName=requestParameters: the name in requestParameters only, responseElements null', async () => {
      emulator.controls.setVariants({ cloudTrailFunctionName: 'requestParameters' });
      try {
        const [create, update, tag] = await write();
        for (const d of [create!, update!]) {
          assert.equal(requestField(d, 'name'), 'f1');
          assert.equal(d.responseElements, null);
        }
        assert.equal(requestField(tag!, 'resource'), ARN);
      } finally {
        emulator.controls.setVariants({ cloudTrailFunctionName: 'both' });
      }
    });

    it('cloudTrailFunctionName=responseElements: the name in the functionSummary only; TagResource (no response body) names nothing', async () => {
      emulator.controls.setVariants({ cloudTrailFunctionName: 'responseElements' });
      try {
        const [create, update, tag] = await write();
        for (const d of [create!, update!]) {
          assert.equal(requestField(d, 'name'), undefined);
          assert.equal(requestField(d, 'functionCode'), 'HIDDEN_DUE_TO_SECURITY_REASONS', 'the other parameters stay');
          assert.equal(summaryName(d), 'f1');
        }
        assert.equal(requestField(tag!, 'resource'), undefined);
        assert.deepEqual(requestField(tag!, 'tags'), { items: [{ key: 'k', value: 'v' }] });
        assert.equal(tag!.responseElements, null);
      } finally {
        emulator.controls.setVariants({ cloudTrailFunctionName: 'both' });
      }
    });

    it('cloudTrailFunctionName=neither: requestParameters is the redaction string, responseElements null', async () => {
      emulator.controls.setVariants({ cloudTrailFunctionName: 'neither' });
      try {
        for (const d of await write()) {
          assert.equal(d.requestParameters, 'HIDDEN_DUE_TO_SECURITY_REASONS');
          assert.equal(d.responseElements, null);
        }
      } finally {
        emulator.controls.setVariants({ cloudTrailFunctionName: 'both' });
      }
    });

    it('a failed call stays null/null under every shape', async () => {
      emulator.controls.setVariants({ cloudTrailFunctionName: 'responseElements', cloudTrailEventName: 'plain' });
      try {
        await errorOf(() => cf.send(new UpdateFunctionCommand({ Name: 'nope', IfMatch: 'E1', FunctionConfig: config, FunctionCode: encode(CODE) })));
        const [failed] = received;
        assert.equal(failed?.detail.eventName, 'UpdateFunction');
        assert.equal(failed?.detail.requestParameters, null);
        assert.equal(failed?.detail.responseElements, null);
      } finally {
        emulator.controls.setVariants({ cloudTrailFunctionName: 'both', cloudTrailEventName: 'suffixed' });
      }
    });
  });

  it('publish/delete carry {name, ifMatch}; tagging carries resource and items; tag/untag/delete have null responses', async () => {
    const { developmentEtag } = emulator.state.seed({ name: 'f1', code: CODE });
    await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: developmentEtag }));
    await cf.send(new TagResourceCommand({ Resource: ARN, Tags: { Items: [{ Key: 'k', Value: 'v' }] } }));
    await cf.send(new UntagResourceCommand({ Resource: ARN, TagKeys: { Items: ['k'] } }));
    await cf.send(new DeleteFunctionCommand({ Name: 'f1', IfMatch: developmentEtag }));
    const [publish, tag, untag, del] = received.map((e) => e.detail);
    assert.deepEqual(publish?.requestParameters, { name: 'f1', ifMatch: developmentEtag });
    assert.equal((publish?.responseElements as any)?.functionSummary.functionMetadata.stage, 'LIVE');
    assert.deepEqual(tag?.requestParameters, { resource: ARN, tags: { items: [{ key: 'k', value: 'v' }] } });
    assert.deepEqual(untag?.requestParameters, { resource: ARN, tagKeys: { items: ['k'] } });
    assert.deepEqual(del?.requestParameters, { name: 'f1', ifMatch: developmentEtag });
    assert.equal(tag?.responseElements, null);
    assert.equal(untag?.responseElements, null);
    assert.equal(del?.responseElements, null);
  });

  it('failed calls are logged with errorCode/errorMessage and null parameters (docs/cloudfront-api.md#cloudtrail-events)', async () => {
    await errorOf(() => cf.send(new UpdateFunctionCommand({ Name: 'ghost', IfMatch: 'EAAAA', FunctionConfig: config, FunctionCode: encode(CODE) })));
    await errorOf(() => cf.send(new TagResourceCommand({ Resource: ARN, Tags: { Items: [{ Key: 'k', Value: 'v' }] } })));
    const [update, tag] = received.map((e) => e.detail);
    assert.equal(update?.eventName, 'UpdateFunction2020_05_31');
    assert.equal(update?.errorCode, 'NoSuchFunctionExists');
    assert.ok(update?.errorMessage);
    assert.equal(update?.requestParameters, null);
    assert.equal(update?.responseElements, null);
    assert.equal(tag?.errorCode, 'NoSuchResource');
  });

  it('the documented rule pattern matches create/update/tag events and never publish', async () => {
    const created = await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE) }));
    await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: created.ETag }));
    await cf.send(new TagResourceCommand({ Resource: ARN, Tags: { Items: [{ Key: 'k', Value: 'v' }] } }));
    assert.deepEqual(
      received.map((e) => matchesPattern(SHARED_DOC_PATTERN, e)),
      [true, false, true],
    );
  });

  it('a throwing subscriber neither breaks the response nor the other subscribers', async () => {
    const off = emulator.onCloudTrailEvent(() => {
      throw new Error('subscriber bug');
    });
    const later: string[] = [];
    const offLater = emulator.onCloudTrailEvent((e) => later.push(e.detail.eventName));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const out = await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.equal(out.$metadata.httpStatusCode, 201);
      assert.equal(received.length, 1);
      assert.deepEqual(later, ['CreateFunction2020_05_31'], 'a subscriber registered after the broken one still runs');
      await new Promise((r) => setImmediate(r));
      assert.ok(warnings.some((w) => /subscriber bug/.test(w)));
    } finally {
      off();
      offLater();
      process.off('warning', onWarning);
    }
  });

  it('seeding state directly produces no events', () => {
    emulator.state.seed({ name: 'seeded', code: CODE, publish: true, tags: { a: 'b' } });
    assert.equal(received.length, 0);
    assert.equal(emulator.state.snapshot()[0]?.live?.etag, emulator.state.snapshot()[0]?.development.etag);
  });
});

describe('CloudTrail events for throttled calls', () => {
  it('a throttled mutating call is logged as failed with errorCode Throttling', async () => {
    const emulator = await startEmulator({ rateLimit: { ratePerSecond: 0.001, burst: 1 } });
    const cf = clientFor(emulator);
    try {
      await cf.send(new CreateFunctionCommand({ Name: 'a', FunctionConfig: config, FunctionCode: encode(CODE) }));
      await errorOf(() => cf.send(new CreateFunctionCommand({ Name: 'b', FunctionConfig: config, FunctionCode: encode(CODE) })));
      assert.deepEqual(
        emulator.cloudTrailEvents().map((e) => e.detail.errorCode ?? 'ok'),
        ['ok', 'Throttling'],
      );
    } finally {
      cf.destroy();
      await emulator.close();
    }
  });
});
