// The variants (unconfirmed API behaviours, emulator/VARIANTS.md), each value observed through the real
// SDK, plus the rules that hold under every variant: Comment length, per-stage ListFunctions metadata,
// and TestFunction's wrapped FunctionOutput. Source: docs/cloudfront-api.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand,
  DescribeFunctionCommand,
  ListFunctionsCommand,
  PublishFunctionCommand,
  TestFunctionCommand,
  UpdateFunctionCommand,
  type CloudFrontClient,
} from '@aws-sdk/client-cloudfront';
import {
  ALL_VARIANTS,
  DEFAULT_VARIANTS,
  VARIANT_NAMES,
  VARIANT_VALUES,
  describeVariants,
  etagForVersion,
  parseVariantAssignments,
  resolveVariants,
  variantCombinations,
  cloudFrontCombinations,
  CONNECTION_VARIANT_NAMES,
  connectionCombinations,
  connectionRecordShapeCombinations,
  recordShapeCombinations,
  type Emulator,
  type EmulatorOptions,
  type Variants,
} from '../../emulator';
import { CODE, clientFor, encode, errorOf, withEmulator } from './helpers';

const config = (Comment = '') => ({ Comment, Runtime: 'cloudfront-js-2.0' as const });
const arn = (name: string) => `arn:aws:cloudfront::123456789012:function/${name}`;

/** A hand-driven clock, so times and durations are exact. */
function manualClock(start = Date.parse('2026-11-28T10:00:00.000Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms), at: (offset: number) => new Date(start + offset) };
}

async function withClient(options: EmulatorOptions, body: (emulator: Emulator, cf: CloudFrontClient) => Promise<void>): Promise<void> {
  await withEmulator(options, async (emulator) => {
    const cf = clientFor(emulator);
    try {
      await body(emulator, cf);
    } finally {
      cf.destroy();
    }
  });
}

const status = async (cf: CloudFrontClient, name: string, stage: 'DEVELOPMENT' | 'LIVE') =>
  (await cf.send(new DescribeFunctionCommand({ Name: name, Stage: stage }))).FunctionSummary?.Status;

describe('variant enumeration', () => {
  it('ALL_VARIANTS is the full cartesian product of VARIANT_VALUES, defaults first, each combination once', () => {
    const expected = VARIANT_NAMES.reduce((n, name) => n * VARIANT_VALUES[name].length, 1);
    assert.equal(ALL_VARIANTS.length, expected);
    assert.equal(expected, 384 * 48, "the ordinary kind's 384 readings × the 48 of connection functions");
    assert.equal(new Set(ALL_VARIANTS.map(describeVariants)).size, ALL_VARIANTS.length);
    assert.deepEqual(ALL_VARIANTS[0], DEFAULT_VARIANTS);
    for (const name of VARIANT_NAMES) {
      for (const value of VARIANT_VALUES[name]) {
        assert.ok(
          ALL_VARIANTS.some((v) => JSON.stringify(v[name]) === JSON.stringify(value)),
          `${name}=${JSON.stringify(value)} appears`,
        );
      }
    }
  });

  it('variantCombinations narrows or widens one variant and keeps the others', () => {
    const combos = variantCombinations({ statusAfterPublish: [{ kind: 'reads', reads: 5 }], validationError: ['InvalidArgument'], overBudget: ['error'] });
    assert.equal(combos.length, 4 * 8 * 48);
    assert.ok(combos.every((v) => v.validationError === 'InvalidArgument' && v.statusAfterPublish.kind === 'reads'));
    assert.throws(() => variantCombinations({ validationError: [] }), RangeError);
  });

  it('cloudFrontCombinations: the 48 readings of CloudFront, each with the default CloudTrail record shape', () => {
    const combos = cloudFrontCombinations();
    assert.equal(combos.length, 48);
    assert.ok(combos.every((v) => v.cloudTrailFunctionName === 'both' && v.cloudTrailEventName === 'suffixed'));
    assert.equal(cloudFrontCombinations({ validationError: ['InvalidArgument'] }).length, 24);
  });

  it('recordShapeCombinations: the 8 CloudTrail record shapes, each with the default CloudFront behaviours', () => {
    const combos = recordShapeCombinations();
    assert.equal(combos.length, 8);
    assert.deepEqual(combos[0], DEFAULT_VARIANTS);
    assert.ok(combos.every((v) => v.validationError === 'MalformedXML' && v.statusAfterPublish.kind === 'immediate'));
  });

  it('the connection-function groups: 16 readings of CloudFront, 24 record shapes; the ordinary groups keep them at their defaults', () => {
    const answers = connectionCombinations();
    assert.equal(answers.length, 16);
    assert.deepEqual(answers[0], DEFAULT_VARIANTS);
    assert.ok(
      answers.every((v) => v.connectionCloudTrailIdentifier === 'id' && v.cloudTrailFunctionName === 'both' && v.statusAfterPublish.kind === 'immediate'),
    );
    assert.equal(new Set(answers.map((v) => `${v.connectionLiveEtag}/${v.connectionDevelopmentStatus}/${v.connectionIdentifier}/${v.connectionArn}`)).size, 16);
    const shapes = connectionRecordShapeCombinations();
    assert.equal(shapes.length, 24);
    assert.ok(shapes.every((v) => v.connectionLiveEtag === 'same-as-development' && v.connectionIdentifier === 'id-name-or-arn' && v.connectionArn === 'id'));
    assert.equal(new Set(shapes.map((v) => `${v.cloudTrailFunctionName}/${v.cloudTrailEventName}/${v.connectionCloudTrailIdentifier}`)).size, 24);
    for (const v of [...cloudFrontCombinations(), ...recordShapeCombinations()]) {
      for (const name of CONNECTION_VARIANT_NAMES) assert.equal(v[name], DEFAULT_VARIANTS[name], name);
    }
  });

  it('resolveVariants fills defaults and rejects bad values; parseVariantAssignments reads NAME=VALUE', () => {
    assert.deepEqual(resolveVariants({ liveLastModifiedTime: 'copied-from-development' }), {
      ...DEFAULT_VARIANTS,
      liveLastModifiedTime: 'copied-from-development',
    });
    assert.throws(() => resolveVariants({ validationError: 'Boom' as never }), RangeError);
    assert.throws(() => resolveVariants({ statusAfterPublish: { kind: 'reads', reads: 0 } }), RangeError);
    assert.deepEqual(parseVariantAssignments(['statusAfterPublish=duration:1500', 'developmentStatusAfterAssociatedUpdate=DEPLOYED']), {
      statusAfterPublish: { kind: 'duration', ms: 1500 },
      developmentStatusAfterAssociatedUpdate: 'DEPLOYED',
    });
    assert.deepEqual(parseVariantAssignments(['cloudTrailFunctionName=neither', 'cloudTrailEventName=plain']), {
      cloudTrailFunctionName: 'neither',
      cloudTrailEventName: 'plain',
    });
    assert.deepEqual(
      parseVariantAssignments([
        'connectionLiveEtag=distinct',
        'connectionCloudTrailIdentifier=id-and-name',
        'connectionDevelopmentStatus=always-UNPUBLISHED',
        'connectionIdentifier=id-only',
        'connectionArn=name',
      ]),
      {
        connectionLiveEtag: 'distinct',
        connectionCloudTrailIdentifier: 'id-and-name',
        connectionDevelopmentStatus: 'always-UNPUBLISHED',
        connectionIdentifier: 'id-only',
        connectionArn: 'name',
      },
    );
    for (const bad of [
      'connectionLiveEtag=same',
      'connectionCloudTrailIdentifier=arn',
      'connectionDevelopmentStatus=DEPLOYED',
      'connectionIdentifier=name',
      'connectionArn=arn',
      'nope=1',
      'validationError',
      'statusAfterPublish=reads:x',
      'liveLastModifiedTime=now',
      'cloudTrailFunctionName=nowhere',
      'cloudTrailEventName=x',
    ]) {
      assert.throws(() => parseVariantAssignments([bad]), RangeError, bad);
    }
  });

  it('the ETag sequence: version 1 is ETVPDKIKX0DER, later versions are distinct 13-character tokens', () => {
    assert.equal(etagForVersion(1), 'ETVPDKIKX0DER');
    const tokens = Array.from({ length: 2000 }, (_, i) => etagForVersion(i + 1));
    assert.equal(new Set(tokens).size, tokens.length);
    assert.ok(tokens.every((t) => /^E[A-Z0-9]{12}$/.test(t)));
    assert.equal(etagForVersion(7), tokens[6], 'deterministic');
    assert.throws(() => etagForVersion(0), RangeError);
  });
});

describe('variant: developmentStatusAfterAssociatedUpdate', () => {
  for (const value of VARIANT_VALUES.developmentStatusAfterAssociatedUpdate) {
    it(`${value}: DEVELOPMENT of an associated function reads ${value} after an update; LIVE stays DEPLOYED`, async () => {
      await withClient({ variants: { developmentStatusAfterAssociatedUpdate: value } }, async (emulator, cf) => {
        const used = emulator.state.seed({ name: 'used', code: CODE, publish: true });
        const spare = emulator.state.seed({ name: 'spare', code: CODE, publish: true });
        emulator.state.associateFunction({ distributionId: emulator.state.createDistribution().id, functionArn: arn('used'), eventType: 'viewer-request' });
        const updated = await cf.send(
          new UpdateFunctionCommand({ Name: 'used', IfMatch: used.developmentEtag, FunctionConfig: config(), FunctionCode: encode(CODE) }),
        );
        assert.equal(updated.FunctionSummary?.Status, value);
        assert.equal(await status(cf, 'used', 'DEVELOPMENT'), value);
        assert.equal(await status(cf, 'used', 'LIVE'), 'DEPLOYED');
        const dev = await cf.send(new ListFunctionsCommand({ Stage: 'DEVELOPMENT' }));
        assert.equal(dev.FunctionList?.Items?.find((s) => s.Name === 'used')?.Status, value);
        // Whatever the status says, the ETags tell the truth: DEVELOPMENT is ahead of LIVE.
        const liveEtag = (await cf.send(new DescribeFunctionCommand({ Name: 'used', Stage: 'LIVE' }))).ETag;
        assert.notEqual(updated.ETag, liveEtag);
        // An unassociated function reads UNPUBLISHED after an update under both readings.
        await cf.send(new UpdateFunctionCommand({ Name: 'spare', IfMatch: spare.developmentEtag, FunctionConfig: config(), FunctionCode: encode(CODE) }));
        assert.equal(await status(cf, 'spare', 'DEVELOPMENT'), 'UNPUBLISHED');
        // Publishing brings both stages back to DEPLOYED.
        await cf.send(new PublishFunctionCommand({ Name: 'used', IfMatch: updated.ETag }));
        assert.equal(await status(cf, 'used', 'DEVELOPMENT'), 'DEPLOYED');
      });
    });
  }
});

describe('variant: liveLastModifiedTime (and ListFunctions per stage)', () => {
  const expectations: Record<Variants['liveLastModifiedTime'], number> = { 'publish-time': 3000, 'copied-from-development': 2000 };
  for (const value of VARIANT_VALUES.liveLastModifiedTime) {
    it(`${value}: LIVE's LastModifiedTime; Describe and ListFunctions with Stage give each stage its own metadata and status`, async () => {
      const clock = manualClock();
      await withClient({ now: clock.now, variants: { liveLastModifiedTime: value } }, async (emulator, cf) => {
        const created = await cf.send(new CreateFunctionCommand({ Name: 'f', FunctionConfig: config('v1'), FunctionCode: encode(CODE) }));
        clock.advance(2000);
        const updated = await cf.send(
          new UpdateFunctionCommand({ Name: 'f', IfMatch: created.ETag, FunctionConfig: config('v2'), FunctionCode: encode(CODE) }),
        );
        clock.advance(1000);
        await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: updated.ETag }));
        const live = await cf.send(new DescribeFunctionCommand({ Name: 'f', Stage: 'LIVE' }));
        assert.deepEqual(live.FunctionSummary?.FunctionMetadata?.LastModifiedTime, clock.at(expectations[value]));
        assert.deepEqual(live.FunctionSummary?.FunctionMetadata?.CreatedTime, clock.at(0));

        // A later update: DEVELOPMENT moves on, LIVE keeps its metadata (later than LIVE's under both readings).
        clock.advance(1000);
        await cf.send(new UpdateFunctionCommand({ Name: 'f', IfMatch: updated.ETag, FunctionConfig: config('v3'), FunctionCode: encode(CODE) }));
        const liveList = await cf.send(new ListFunctionsCommand({ Stage: 'LIVE' }));
        const devList = await cf.send(new ListFunctionsCommand({ Stage: 'DEVELOPMENT' }));
        const [l] = liveList.FunctionList?.Items ?? [];
        const [d] = devList.FunctionList?.Items ?? [];
        assert.equal(liveList.FunctionList?.Quantity, 1);
        assert.equal(l?.FunctionMetadata?.Stage, 'LIVE');
        assert.deepEqual(l?.FunctionMetadata?.LastModifiedTime, clock.at(expectations[value]));
        assert.equal(l?.FunctionConfig?.Comment, 'v2');
        assert.equal(l?.Status, 'UNASSOCIATED');
        assert.equal(d?.FunctionMetadata?.Stage, 'DEVELOPMENT');
        assert.deepEqual(d?.FunctionMetadata?.LastModifiedTime, clock.at(4000));
        assert.equal(d?.FunctionConfig?.Comment, 'v3');
        assert.equal(d?.Status, 'UNPUBLISHED');
        assert.ok((d?.FunctionMetadata?.LastModifiedTime?.getTime() ?? 0) > (l?.FunctionMetadata?.LastModifiedTime?.getTime() ?? Infinity));
        assert.equal(emulator.state.snapshot()[0]?.live?.lastModifiedTime, clock.at(expectations[value]).toISOString());
      });
    });
  }
});

describe('variant: statusAfterPublish', () => {
  it('immediate (default): the publish answer and the next read are settled', async () => {
    await withClient({}, async (emulator, cf) => {
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE });
      const out = await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: developmentEtag }));
      assert.equal(out.FunctionSummary?.Status, 'UNASSOCIATED');
      assert.equal(await status(cf, 'f', 'DEVELOPMENT'), 'UNASSOCIATED');
    });
  });

  it('reads: the publish answer and the next N reads say IN_PROGRESS (one ListFunctions call is one read), then settled', async () => {
    await withClient({ variants: { statusAfterPublish: { kind: 'reads', reads: 3 } } }, async (emulator, cf) => {
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE });
      emulator.state.seed({ name: 'g', code: CODE, publish: true });
      assert.equal(await status(cf, 'g', 'LIVE'), 'UNASSOCIATED', 'seeded functions are settled');
      const out = await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: developmentEtag }));
      assert.equal(out.FunctionSummary?.Status, 'IN_PROGRESS');
      assert.equal(emulator.state.snapshot()[0]?.live?.status, 'IN_PROGRESS', 'a snapshot peeks without using a read');
      assert.equal(await status(cf, 'f', 'LIVE'), 'IN_PROGRESS'); // read 1
      const listed = await cf.send(new ListFunctionsCommand({})); // read 2, both stages
      assert.deepEqual(
        listed.FunctionList?.Items?.filter((s) => s.Name === 'f').map((s) => s.Status),
        ['IN_PROGRESS', 'IN_PROGRESS'],
      );
      assert.equal(await status(cf, 'f', 'DEVELOPMENT'), 'IN_PROGRESS'); // read 3
      assert.equal(await status(cf, 'f', 'DEVELOPMENT'), 'UNASSOCIATED');
      assert.equal(await status(cf, 'f', 'LIVE'), 'UNASSOCIATED');
    });
  });

  it('duration: IN_PROGRESS until the time is up, then DEPLOYED for an associated function; an update in between is UNPUBLISHED', async () => {
    const clock = manualClock();
    await withClient({ now: clock.now, variants: { statusAfterPublish: { kind: 'duration', ms: 1000 } } }, async (emulator, cf) => {
      const seeded = emulator.state.seed({ name: 'f', code: CODE, publish: true });
      emulator.state.associateFunction({ distributionId: emulator.state.createDistribution().id, functionArn: arn('f'), eventType: 'viewer-request' });
      const updated = await cf.send(
        new UpdateFunctionCommand({ Name: 'f', IfMatch: seeded.developmentEtag, FunctionConfig: config(), FunctionCode: encode(CODE) }),
      );
      const out = await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: updated.ETag }));
      assert.equal(out.FunctionSummary?.Status, 'IN_PROGRESS');
      clock.advance(999);
      for (let i = 0; i < 5; i++) assert.equal(await status(cf, 'f', 'LIVE'), 'IN_PROGRESS', 'reads do not shorten a duration');
      // An update during the window: DEVELOPMENT differs from LIVE, which is what its status says.
      const again = await cf.send(new UpdateFunctionCommand({ Name: 'f', IfMatch: updated.ETag, FunctionConfig: config(), FunctionCode: encode(CODE) }));
      assert.equal(again.FunctionSummary?.Status, 'UNPUBLISHED');
      assert.equal(await status(cf, 'f', 'LIVE'), 'IN_PROGRESS');
      clock.advance(1);
      assert.equal(await status(cf, 'f', 'LIVE'), 'DEPLOYED');
    });
  });

  it('variants can change on a running emulator (controls.setVariants)', async () => {
    await withClient({}, async (emulator, cf) => {
      emulator.controls.setVariants({ statusAfterPublish: { kind: 'reads', reads: 1 } });
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE });
      assert.equal((await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: developmentEtag }))).FunctionSummary?.Status, 'IN_PROGRESS');
      assert.equal(await status(cf, 'f', 'LIVE'), 'IN_PROGRESS');
      assert.equal(await status(cf, 'f', 'LIVE'), 'UNASSOCIATED');
      assert.throws(() => emulator.controls.setVariants({ statusAfterPublish: { kind: 'duration', ms: -1 } }), RangeError);
      assert.deepEqual(emulator.controls.variants().statusAfterPublish, { kind: 'reads', reads: 1 });
    });
  });
});

describe('variant: validationError (invalid name, Comment over 128 characters)', () => {
  for (const value of VARIANT_VALUES.validationError) {
    it(`${value}: CreateFunction with a bad name, Create and Update with a 129-character Comment → ${value} 400; 128 is fine`, async () => {
      await withClient({ variants: { validationError: value } }, async (emulator, cf) => {
        for (const name of ['bad name!', 'x'.repeat(65), 'dot.name']) {
          const error = await errorOf(() => cf.send(new CreateFunctionCommand({ Name: name, FunctionConfig: config(), FunctionCode: encode(CODE) })));
          assert.equal(error.name, value, name);
          assert.equal(error.$metadata?.httpStatusCode, 400);
        }
        const long = await errorOf(() =>
          cf.send(new CreateFunctionCommand({ Name: 'f', FunctionConfig: config('c'.repeat(129)), FunctionCode: encode(CODE) })),
        );
        assert.equal(long.name, value);
        assert.equal(long.$metadata?.httpStatusCode, 400);
        assert.equal(emulator.state.snapshot().length, 0, 'nothing was created');

        const created = await cf.send(new CreateFunctionCommand({ Name: 'x'.repeat(64), FunctionConfig: config('c'.repeat(128)), FunctionCode: encode(CODE) }));
        const update = await errorOf(() =>
          cf.send(
            new UpdateFunctionCommand({ Name: 'x'.repeat(64), IfMatch: created.ETag, FunctionConfig: config('d'.repeat(129)), FunctionCode: encode(CODE) }),
          ),
        );
        assert.equal(update.name, value);
        assert.equal(update.$metadata?.httpStatusCode, 400);
        const dev = emulator.state.snapshot()[0]?.development;
        assert.equal(dev?.comment, 'c'.repeat(128), 'the refused update changed nothing');
        assert.equal(dev?.etag, created.ETag);
      });
    });
  }
});

describe('TestFunction FunctionOutput is wrapped as the real API wraps it', () => {
  const event = (eventType: string | undefined) =>
    JSON.stringify({
      version: '1.0',
      ...(eventType ? { context: { eventType, distributionId: 'EDFDVBD6EXAMPLE', requestId: 'r1' } } : {}),
      viewer: { ip: '198.51.100.11' },
      request: { method: 'GET', uri: '/a', querystring: {}, headers: {}, cookies: {} },
      ...(eventType === 'viewer-response' ? { response: { statusCode: 200, statusDescription: 'OK', headers: {}, cookies: {} } } : {}),
    });
  const cases: Array<[string, string | undefined, string, string, unknown]> = [
    [
      'viewer-request returning the request',
      'viewer-request',
      'function handler(e) { e.request.uri += "x"; return e.request; }',
      'request',
      { method: 'GET', uri: '/ax', querystring: {}, headers: {}, cookies: {} },
    ],
    [
      'viewer-response returning the response',
      'viewer-response',
      'function handler(e) { e.response.headers["x-a"] = { value: "1" }; return e.response; }',
      'response',
      { statusCode: 200, statusDescription: 'OK', headers: { 'x-a': { value: '1' } }, cookies: {} },
    ],
    [
      'viewer-request answering the viewer (a redirect)',
      'viewer-request',
      'function handler(e) { return { statusCode: 302, statusDescription: "Found", headers: { location: { value: "/b" } } }; }',
      'response',
      { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/b' } } },
    ],
    [
      'an event without context (treated as viewer-request)',
      undefined,
      'function handler(e) { return e.request; }',
      'request',
      { method: 'GET', uri: '/a', querystring: {}, headers: {}, cookies: {} },
    ],
  ];
  it('{"request": …} for viewer-request, {"response": …} for viewer-response; a failed run stays empty', async () => {
    await withClient({}, async (emulator, cf) => {
      for (const [i, [label, eventType, code, key, expected]] of cases.entries()) {
        const { developmentEtag } = emulator.state.seed({ name: `f${i}`, code });
        const out = await cf.send(
          new TestFunctionCommand({ Name: `f${i}`, IfMatch: developmentEtag, Stage: 'DEVELOPMENT', EventObject: encode(event(eventType)) }),
        );
        assert.equal(out.TestResult?.FunctionErrorMessage, '', label);
        const output = JSON.parse(out.TestResult?.FunctionOutput ?? 'null') as Record<string, unknown>;
        assert.deepEqual(Object.keys(output), [key], label);
        assert.deepEqual(output[key], expected, label);
      }
      const { developmentEtag } = emulator.state.seed({ name: 'thrower', code: 'function handler() { throw new Error("no"); }' });
      const failed = await cf.send(new TestFunctionCommand({ Name: 'thrower', IfMatch: developmentEtag, EventObject: encode(event('viewer-request')) }));
      assert.equal(failed.TestResult?.FunctionOutput, '');
      assert.match(failed.TestResult?.FunctionErrorMessage ?? '', /no/);
    });
  });
});
