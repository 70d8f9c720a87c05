// The emulator as the real AWS SDK v3 sees it, over HTTP: ETag lifecycle, error classes, listing,
// tags. Sources: docs/cloudfront-api.md; "model" = the SDK's API schema.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CloudFrontClient,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DescribeFunctionCommand,
  GetFunctionCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  PublishFunctionCommand,
  TagResourceCommand,
  TestFunctionCommand,
  UntagResourceCommand,
  UpdateFunctionCommand,
  type FunctionSummary,
} from '@aws-sdk/client-cloudfront';
import { FIRST_FUNCTION_ETAG, type Emulator } from '../../emulator';
import { CODE, emulatorForSuite, encode, errorOf } from './helpers';

const config = { Comment: 'test', Runtime: 'cloudfront-js-2.0' as const };
const arn = (name: string) => `arn:aws:cloudfront::123456789012:function/${name}`;

describe('emulator conformance through the AWS SDK', () => {
  let emulator: Emulator;
  let cf: CloudFrontClient;

  emulatorForSuite({ testFunctionBudgetMs: 100 }, (e, c) => {
    emulator = e;
    cf = c;
  });
  beforeEach(() => {
    emulator.state.reset();
    emulator.controls.clearPublishLog();
    emulator.controls.setNoopPublishPreconditionFailed(true);
    emulator.controls.setFunctionQuota(100);
  });

  const create = (name: string, code = CODE) => cf.send(new CreateFunctionCommand({ Name: name, FunctionConfig: config, FunctionCode: encode(code) }));
  const describeStage = (name: string, stage: 'DEVELOPMENT' | 'LIVE') => cf.send(new DescribeFunctionCommand({ Name: name, Stage: stage }));

  describe('ETag lifecycle (docs/cloudfront-api.md#stages-and-etags)', () => {
    it('create answers 201 with ETag, Location and an UNPUBLISHED DEVELOPMENT summary', async () => {
      const out = await create('f1');
      assert.equal(out.$metadata.httpStatusCode, 201);
      assert.equal(out.ETag, FIRST_FUNCTION_ETAG, 'version 1 of every function carries the ETag real accounts show');
      assert.match(out.Location ?? '', /\/2020-05-31\/function\/arn:aws:cloudfront::123456789012:function\/f1$/);
      assert.equal(out.FunctionSummary?.Status, 'UNPUBLISHED');
      assert.equal(out.FunctionSummary?.FunctionMetadata?.Stage, 'DEVELOPMENT');
      assert.equal(out.FunctionSummary?.FunctionMetadata?.FunctionARN, arn('f1'));
      assert.ok(out.FunctionSummary?.FunctionMetadata?.CreatedTime instanceof Date);
      assert.deepEqual(out.FunctionSummary?.FunctionConfig, config);
    });

    it('LIVE does not exist before the first publish', async () => {
      await create('f1');
      const error = await errorOf(() => describeStage('f1', 'LIVE'));
      assert.equal(error.name, 'NoSuchFunctionExists');
      assert.equal(error.$metadata?.httpStatusCode, 404);
      assert.equal((await errorOf(() => cf.send(new GetFunctionCommand({ Name: 'f1', Stage: 'LIVE' })))).name, 'NoSuchFunctionExists');
    });

    it('update gives a new ETag even for identical code; the SDK reads it from the ETtag header', async () => {
      const created = await create('f1');
      const updated = await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.ok(updated.ETag, 'UpdateFunction ETag must reach the SDK');
      assert.notEqual(updated.ETag, created.ETag);
      assert.equal(updated.FunctionSummary?.Status, 'UNPUBLISHED');
      assert.equal((await describeStage('f1', 'DEVELOPMENT')).ETag, updated.ETag);
    });

    it('publish copies DEVELOPMENT to LIVE and leaves the DEVELOPMENT ETag unchanged', async () => {
      const created = await create('f1', 'function handler(e) { return 1; }');
      const published = await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: created.ETag }));
      assert.equal(published.FunctionSummary?.FunctionMetadata?.Stage, 'LIVE');
      assert.equal(published.FunctionSummary?.Status, 'UNASSOCIATED');
      const dev = await describeStage('f1', 'DEVELOPMENT');
      const live = await describeStage('f1', 'LIVE');
      assert.equal(dev.ETag, created.ETag);
      assert.equal(live.ETag, created.ETag);
      assert.equal(dev.FunctionSummary?.Status, 'UNASSOCIATED');
      const liveCode = await cf.send(new GetFunctionCommand({ Name: 'f1', Stage: 'LIVE' }));
      assert.equal(new TextDecoder().decode(liveCode.FunctionCode), 'function handler(e) { return 1; }');
      assert.equal(liveCode.ContentType, 'application/octet-stream');
      assert.equal(liveCode.ETag, created.ETag);
    });

    it('an update after publish changes DEVELOPMENT only', async () => {
      const created = await create('f1', 'function handler(e) { return 1; }');
      await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: created.ETag }));
      const updated = await cf.send(
        new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode('function handler(e) { return 2; }') }),
      );
      const live = await describeStage('f1', 'LIVE');
      assert.equal(live.ETag, created.ETag);
      assert.notEqual(updated.ETag, live.ETag);
      assert.equal((await describeStage('f1', 'DEVELOPMENT')).FunctionSummary?.Status, 'UNPUBLISHED');
      const liveCode = await cf.send(new GetFunctionCommand({ Name: 'f1', Stage: 'LIVE' }));
      assert.equal(new TextDecoder().decode(liveCode.FunctionCode), 'function handler(e) { return 1; }');
    });

    it('ETags are version tokens, not content hashes: every function walks the same sequence (docs/cloudfront-api.md)', async () => {
      const a = await create('a', 'function handler(e) { return "a"; }');
      const b = await create('b', 'function handler(e) { return "b"; }');
      assert.equal(a.ETag, b.ETag, 'version 1 of two functions with different code: same ETag');
      const a2 = await cf.send(
        new UpdateFunctionCommand({ Name: 'a', IfMatch: a.ETag, FunctionConfig: config, FunctionCode: encode('function handler(e) { return 1; }') }),
      );
      assert.notEqual(a2.ETag, a.ETag);
      assert.match(a2.ETag ?? '', /^E[A-Z0-9]{12}$/);
      // b is still at version 1 while a is at version 2: an ETag names a version of one function only.
      assert.equal((await describeStage('b', 'DEVELOPMENT')).ETag, a.ETag);
      const b2 = await cf.send(
        new UpdateFunctionCommand({ Name: 'b', IfMatch: b.ETag, FunctionConfig: config, FunctionCode: encode('function handler(e) { return 2; }') }),
      );
      assert.equal(b2.ETag, a2.ETag, 'version 2 of both: same ETag, different code');
      const a3 = await cf.send(new UpdateFunctionCommand({ Name: 'a', IfMatch: a2.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.equal(new Set([a.ETag, a2.ETag, a3.ETag]).size, 3, 'versions of one function never repeat an ETag');
      // a's version-2 ETag is a valid If-Match for b's version 2: If-Match cannot tell functions apart.
      await cf.send(new PublishFunctionCommand({ Name: 'b', IfMatch: a2.ETag }));
      assert.equal((await describeStage('b', 'LIVE')).ETag, a2.ETag);
    });

    it('deleting and re-creating a function restarts its ETag sequence', async () => {
      const first = await create('f1');
      const v2 = await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: first.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      await cf.send(new DeleteFunctionCommand({ Name: 'f1', IfMatch: v2.ETag }));
      const again = await create('f1');
      assert.equal(again.ETag, first.ETag);
      assert.notEqual(again.ETag, v2.ETag);
    });

    it('delete answers 204 and removes the function and its tags', async () => {
      await cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE), Tags: { Items: [{ Key: 'k', Value: 'v' }] } }));
      const etag = (await describeStage('f1', 'DEVELOPMENT')).ETag;
      const out = await cf.send(new DeleteFunctionCommand({ Name: 'f1', IfMatch: etag }));
      assert.equal(out.$metadata.httpStatusCode, 204);
      assert.equal((await errorOf(() => describeStage('f1', 'DEVELOPMENT'))).name, 'NoSuchFunctionExists');
      assert.equal((await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: arn('f1') })))).name, 'NoSuchResource');
      await create('f1');
      const tags = await cf.send(new ListTagsForResourceCommand({ Resource: arn('f1') }));
      assert.deepEqual(tags.Tags?.Items ?? [], [], 're-created function starts without the old tags');
    });
  });

  describe('errors raise the SDK exception classes', () => {
    it('stale If-Match → PreconditionFailed 412 on Update, Publish and Delete', async () => {
      const created = await create('f1');
      await cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      for (const call of [
        () => cf.send(new UpdateFunctionCommand({ Name: 'f1', IfMatch: created.ETag, FunctionConfig: config, FunctionCode: encode(CODE) })),
        () => cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: created.ETag })),
        () => cf.send(new DeleteFunctionCommand({ Name: 'f1', IfMatch: created.ETag })),
      ]) {
        const error = await errorOf(call);
        assert.equal(error.name, 'PreconditionFailed');
        assert.equal(error.$metadata?.httpStatusCode, 412);
      }
    });

    it('missing or malformed If-Match → InvalidIfMatchVersion 400', async () => {
      await create('f1');
      // The SDK refuses to send without IfMatch, so an empty and a malformed header stand in.
      for (const ifMatch of ['', '"not an etag"']) {
        const error = await errorOf(() => cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: ifMatch })));
        assert.equal(error.name, 'InvalidIfMatchVersion', `If-Match ${JSON.stringify(ifMatch)}`);
        assert.equal(error.$metadata?.httpStatusCode, 400);
      }
      const raw = await fetch(`${emulator.endpoint}/2020-05-31/function/f1/publish`, { method: 'POST' });
      assert.equal(raw.status, 400);
      assert.match(await raw.text(), /<Code>InvalidIfMatchVersion<\/Code>/);
    });

    it('unknown function → NoSuchFunctionExists 404 on every per-function call', async () => {
      const calls = [
        () => describeStage('nope', 'DEVELOPMENT'),
        () => cf.send(new GetFunctionCommand({ Name: 'nope' })),
        () => cf.send(new UpdateFunctionCommand({ Name: 'nope', IfMatch: 'EAAAA', FunctionConfig: config, FunctionCode: encode(CODE) })),
        () => cf.send(new PublishFunctionCommand({ Name: 'nope', IfMatch: 'EAAAA' })),
        () => cf.send(new DeleteFunctionCommand({ Name: 'nope', IfMatch: 'EAAAA' })),
        () => cf.send(new TestFunctionCommand({ Name: 'nope', IfMatch: 'EAAAA', EventObject: encode('{}') })),
      ];
      for (const call of calls) {
        const error = await errorOf(call);
        assert.equal(error.name, 'NoSuchFunctionExists');
        assert.equal(error.$metadata?.httpStatusCode, 404);
      }
    });

    it('duplicate name → FunctionAlreadyExists 409', async () => {
      await create('f1');
      const error = await errorOf(() => create('f1'));
      assert.equal(error.name, 'FunctionAlreadyExists');
      assert.equal(error.$metadata?.httpStatusCode, 409);
    });

    it('quota → TooManyFunctions 400, raisable', async () => {
      emulator.controls.setFunctionQuota(2);
      await create('a');
      await create('b');
      const error = await errorOf(() => create('c'));
      assert.equal(error.name, 'TooManyFunctions');
      assert.equal(error.$metadata?.httpStatusCode, 400);
      emulator.controls.setFunctionQuota(3);
      await create('c');
    });

    it('code over 10 KB → FunctionSizeLimitExceeded 413 (docs/cloudfront-api.md#quotas-and-rate-limits)', async () => {
      const big = `function handler(e) { return e; } //${'x'.repeat(10 * 1024)}`;
      const error = await errorOf(() => create('big', big));
      assert.equal(error.name, 'FunctionSizeLimitExceeded');
      assert.equal(error.$metadata?.httpStatusCode, 413);
      await create('fits', `function handler(e){return e}//${'x'.repeat(10 * 1024 - 40)}`);
    });

    it('bad runtime, stage or MaxItems → InvalidArgument 400 (names: see the validationError variant)', async () => {
      const calls = [
        () => cf.send(new CreateFunctionCommand({ Name: 'r', FunctionConfig: { Comment: '', Runtime: 'nodejs20.x' as never }, FunctionCode: encode(CODE) })),
        () => cf.send(new DescribeFunctionCommand({ Name: 'f1', Stage: 'STAGING' as never })),
        () => cf.send(new ListFunctionsCommand({ MaxItems: 0 })),
        () => cf.send(new ListFunctionsCommand({ Marker: 'garbage' })),
      ];
      for (const [i, call] of calls.entries()) {
        const error = await errorOf(call);
        assert.equal(error.name, 'InvalidArgument', `call ${i}`);
        assert.equal(error.$metadata?.httpStatusCode, 400);
      }
      await create('x'.repeat(64));
    });

    it('a malformed body → InvalidArgument; an unknown route → UnsupportedOperation (both 400)', async () => {
      const bad = await fetch(`${emulator.endpoint}/2020-05-31/function`, { method: 'POST', body: '<CreateFunctionRequest><Name>x</Nam>' });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /<Code>InvalidArgument<\/Code>/);
      const unknown = await fetch(`${emulator.endpoint}/2020-05-31/cache-policy`);
      assert.equal(unknown.status, 400);
      assert.match(await unknown.text(), /<Code>UnsupportedOperation<\/Code>/);
    });

    it('a character reference XML does not allow (out of range, surrogate, NUL) → InvalidArgument 400, recorded in CloudTrail', async () => {
      emulator.clearCloudTrailEvents();
      const references = ['&#x110000;', '&#xD800;', '&#0;', '&#99999999999999999999;', '&#xFFFE;'];
      for (const reference of references) {
        const raw = await fetch(`${emulator.endpoint}/2020-05-31/function`, {
          method: 'POST',
          body: `<CreateFunctionRequest><Name>f${reference}</Name><FunctionConfig><Comment/><Runtime>cloudfront-js-2.0</Runtime></FunctionConfig><FunctionCode>eA==</FunctionCode></CreateFunctionRequest>`,
        });
        assert.equal(raw.status, 400, reference);
        const body = await raw.text();
        assert.match(body, /<Code>InvalidArgument<\/Code>/, reference);
        assert.doesNotMatch(body, /RangeError/, reference);
      }
      const trail = emulator.cloudTrailEvents().map((e) => [e.detail.eventName, e.detail.errorCode]);
      assert.deepEqual(
        trail,
        references.map(() => ['CreateFunction2020_05_31', 'InvalidArgument']),
      );
      // Valid references still decode.
      await cf.send(new CreateFunctionCommand({ Name: 'ok', FunctionConfig: { ...config, Comment: 'tab\there \u{1F600}' }, FunctionCode: encode(CODE) }));
      assert.equal((await describeStage('ok', 'DEVELOPMENT')).FunctionSummary?.FunctionConfig?.Comment, 'tab\there \u{1F600}');
    });

    it('the ErrorResponse body is what the SDK error parser reads', async () => {
      const raw = await fetch(`${emulator.endpoint}/2020-05-31/function/nope/describe?Stage=DEVELOPMENT`);
      assert.equal(raw.status, 404);
      assert.match(raw.headers.get('content-type') ?? '', /xml/);
      const body = await raw.text();
      assert.match(body, /^<\?xml[^>]*>\s*<ErrorResponse xmlns="http:\/\/cloudfront.amazonaws.com\/doc\/2020-05-31\/">/);
      assert.match(
        body,
        /<Error><Type>Sender<\/Type><Code>NoSuchFunctionExists<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId>/,
      );
    });
  });

  describe('no-op publish (docs/cloudfront-api.md#publish-412-quirk)', () => {
    it('publishing an in-sync function answers 412 by default', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f1', code: CODE, publish: true });
      const error = await errorOf(() => cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: developmentEtag })));
      assert.equal(error.name, 'PreconditionFailed');
      assert.equal(emulator.controls.publishLog().length, 0);
    });

    it('with the quirk off, the same publish succeeds', async () => {
      emulator.controls.setNoopPublishPreconditionFailed(false);
      const { developmentEtag } = emulator.state.seed({ name: 'f1', code: CODE, publish: true });
      const out = await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: developmentEtag }));
      assert.equal(out.FunctionSummary?.FunctionMetadata?.Stage, 'LIVE');
    });
  });

  describe('ListFunctions', () => {
    it('without Stage a published function appears once per stage; Stage filters', async () => {
      emulator.state.seed({ name: 'pub', code: CODE, publish: true });
      emulator.state.seed({ name: 'unpub', code: CODE });
      const all = await cf.send(new ListFunctionsCommand({}));
      const key = (s: FunctionSummary) => `${s.Name}:${s.FunctionMetadata?.Stage}`;
      assert.deepEqual(all.FunctionList?.Items?.map(key), ['pub:DEVELOPMENT', 'pub:LIVE', 'unpub:DEVELOPMENT']);
      assert.equal(all.FunctionList?.Quantity, 3);
      assert.equal(all.FunctionList?.MaxItems, 100);
      assert.equal(all.FunctionList?.NextMarker, undefined);
      const live = await cf.send(new ListFunctionsCommand({ Stage: 'LIVE' }));
      assert.deepEqual(live.FunctionList?.Items?.map(key), ['pub:LIVE']);
      const dev = await cf.send(new ListFunctionsCommand({ Stage: 'DEVELOPMENT' }));
      assert.deepEqual(dev.FunctionList?.Items?.map(key), ['pub:DEVELOPMENT', 'unpub:DEVELOPMENT']);
    });

    it('Marker/MaxItems page through everything exactly once, NextMarker absent on the last page', async () => {
      for (let i = 0; i < 7; i++) emulator.state.seed({ name: `fn-${i}`, code: CODE, publish: i % 2 === 0 });
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await cf.send(new ListFunctionsCommand({ MaxItems: 3, ...(marker ? { Marker: marker } : {}) }));
        pages += 1;
        assert.ok((page.FunctionList?.Quantity ?? 0) <= 3);
        for (const s of page.FunctionList?.Items ?? []) seen.push(`${s.Name}:${s.FunctionMetadata?.Stage}`);
        marker = page.FunctionList?.NextMarker;
      } while (marker);
      assert.equal(seen.length, 11);
      assert.equal(new Set(seen).size, 11);
      assert.equal(pages, 4);
    });

    it('an empty account lists Quantity 0', async () => {
      const out = await cf.send(new ListFunctionsCommand({}));
      assert.equal(out.FunctionList?.Quantity, 0);
      assert.deepEqual(out.FunctionList?.Items ?? [], []);
    });
  });

  describe('tags (docs/cloudfront-api.md#tags)', () => {
    it('CreateFunction tags, TagResource merges, UntagResource removes, ListTagsForResource reads', async () => {
      await cf.send(
        new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE), Tags: { Items: [{ Key: 'autopublish', Value: 'true' }] } }),
      );
      const tagged = await cf.send(
        new TagResourceCommand({
          Resource: arn('f1'),
          Tags: {
            Items: [
              { Key: 'team', Value: 'edge' },
              { Key: 'autopublish', Value: 'false' },
            ],
          },
        }),
      );
      assert.equal(tagged.$metadata.httpStatusCode, 204);
      let tags = await cf.send(new ListTagsForResourceCommand({ Resource: arn('f1') }));
      assert.deepEqual(tags.Tags?.Items, [
        { Key: 'autopublish', Value: 'false' },
        { Key: 'team', Value: 'edge' },
      ]);
      const untagged = await cf.send(new UntagResourceCommand({ Resource: arn('f1'), TagKeys: { Items: ['autopublish', 'absent'] } }));
      assert.equal(untagged.$metadata.httpStatusCode, 204);
      tags = await cf.send(new ListTagsForResourceCommand({ Resource: arn('f1') }));
      assert.deepEqual(tags.Tags?.Items, [{ Key: 'team', Value: 'edge' }]);
      assert.deepEqual(emulator.state.snapshot()[0]?.tags, { team: 'edge' });
    });

    it('an empty value, spaces, unicode letters and the allowed punctuation are valid', async () => {
      await create('f1');
      await cf.send(
        new TagResourceCommand({
          Resource: arn('f1'),
          Tags: {
            Items: [
              { Key: 'a b_.:/=+-@', Value: '' },
              { Key: 'Größe', Value: 'ß 1' },
            ],
          },
        }),
      );
      const tags = await cf.send(new ListTagsForResourceCommand({ Resource: arn('f1') }));
      assert.equal(tags.Tags?.Items?.length, 2);
    });

    it('invalid keys/values and more than 50 tags → InvalidTagging 400 (model: TagResource errors)', async () => {
      await create('f1');
      const bad = [
        [{ Key: '', Value: 'v' }],
        [{ Key: 'k'.repeat(129), Value: 'v' }],
        [{ Key: 'k', Value: 'v'.repeat(257) }],
        [{ Key: 'semi;colon', Value: 'v' }],
        [{ Key: 'k', Value: 'a*b' }],
        Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      ];
      for (const [i, items] of bad.entries()) {
        const error = await errorOf(() => cf.send(new TagResourceCommand({ Resource: arn('f1'), Tags: { Items: items } })));
        assert.equal(error.name, 'InvalidTagging', `case ${i}`);
        assert.equal(error.$metadata?.httpStatusCode, 400);
      }
      await cf.send(new TagResourceCommand({ Resource: arn('f1'), Tags: { Items: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] } }));
      assert.deepEqual(Object.keys(emulator.state.snapshot()[0]?.tags ?? {}), ['k'.repeat(128)], 'failed calls changed nothing');
    });

    it('invalid tags on CreateFunction → InvalidArgument (its model lists no InvalidTagging)', async () => {
      const error = await errorOf(() =>
        cf.send(new CreateFunctionCommand({ Name: 'f1', FunctionConfig: config, FunctionCode: encode(CODE), Tags: { Items: [{ Key: 'bad;', Value: '' }] } })),
      );
      assert.equal(error.name, 'InvalidArgument');
      assert.equal(emulator.state.snapshot().length, 0);
    });

    it('missing resource → NoSuchResource 404; non-CloudFront ARN → InvalidArgument 400', async () => {
      for (const resource of [arn('ghost'), 'arn:aws:cloudfront::999999999999:function/f1', 'arn:aws:cloudfront::123456789012:distribution/E123']) {
        const error = await errorOf(() => cf.send(new TagResourceCommand({ Resource: resource, Tags: { Items: [{ Key: 'k', Value: 'v' }] } })));
        assert.equal(error.name, 'NoSuchResource', resource);
        assert.equal(error.$metadata?.httpStatusCode, 404);
      }
      for (const resource of ['arn:aws:lambda:us-east-1:123456789012:function:f1', 'f1']) {
        const error = await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: resource })));
        assert.equal(error.name, 'InvalidArgument', resource);
      }
    });
  });

  describe('TestFunction', () => {
    it('runs the handler in node:vm and returns its JSON output and console logs', async () => {
      const created = await create(
        'f1',
        'function handler(event) { console.log("uri", event.request.uri); event.request.uri += "/index.html"; return event.request; }',
      );
      const out = await cf.send(
        new TestFunctionCommand({ Name: 'f1', IfMatch: created.ETag, Stage: 'DEVELOPMENT', EventObject: encode('{"request":{"uri":"/a"}}') }),
      );
      assert.equal(out.TestResult?.FunctionErrorMessage, '');
      assert.deepEqual(JSON.parse(out.TestResult?.FunctionOutput ?? ''), { request: { uri: '/a/index.html' } });
      assert.deepEqual(out.TestResult?.FunctionExecutionLogs, ['uri /a']);
      assert.equal(out.TestResult?.FunctionSummary?.Name, 'f1');
      assert.match(out.TestResult?.ComputeUtilization ?? '', /^\d+$/);
    });

    it('errors and endless loops come back in FunctionErrorMessage, not as a hung call', async () => {
      const thrower = await create('thrower', 'function handler(e) { throw new Error("boom"); }');
      let out = await cf.send(new TestFunctionCommand({ Name: 'thrower', IfMatch: thrower.ETag, EventObject: encode('{}') }));
      assert.match(out.TestResult?.FunctionErrorMessage ?? '', /boom/);
      const looper = await create('looper', 'function handler(e) { for (;;) {} }');
      out = await cf.send(new TestFunctionCommand({ Name: 'looper', IfMatch: looper.ETag, EventObject: encode('{}') }));
      assert.match(out.TestResult?.FunctionErrorMessage ?? '', /time/);
    });

    it('If-Match is checked against the tested stage', async () => {
      const created = await create('f1');
      const error = await errorOf(() => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: created.ETag, Stage: 'LIVE', EventObject: encode('{}') })));
      assert.equal(error.name, 'NoSuchFunctionExists');
      const stale = await errorOf(() => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: 'EZZZZ', EventObject: encode('{}') })));
      assert.equal(stale.name, 'PreconditionFailed');
    });
  });
});
