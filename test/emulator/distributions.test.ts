// Distributions, minimal: function associations, the DEPLOYED status they cause, FunctionInUse, and
// ListDistributions as the real AWS SDK v3 parses it. Source: docs/cloudfront-api.md ("where it runs").
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CloudFrontClient,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DescribeFunctionCommand,
  ListDistributionsCommand,
  ListFunctionsCommand,
  PublishFunctionCommand,
  UpdateFunctionCommand,
  type DistributionSummary,
} from '@aws-sdk/client-cloudfront';
import { CloudFrontError, type Emulator } from '../../emulator';
import { CODE, emulatorForSuite, encode, errorOf } from './helpers';

const config = { Comment: '', Runtime: 'cloudfront-js-2.0' as const };
const arn = (name: string, account = '123456789012') => `arn:aws:cloudfront::${account}:function/${name}`;

/** Runs a control-API call and returns the CloudFrontError it threw. */
function controlError(call: () => unknown): CloudFrontError {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof CloudFrontError, String(error));
    return error;
  }
  throw new Error('expected the control call to fail, it succeeded');
}

describe('distributions and function associations', () => {
  let emulator: Emulator;
  let cf: CloudFrontClient;

  emulatorForSuite({}, (e, c) => {
    emulator = e;
    cf = c;
  });
  beforeEach(() => {
    emulator.state.reset();
    emulator.controls.setVariants({ developmentStatusAfterAssociatedUpdate: 'UNPUBLISHED', statusAfterPublish: { kind: 'immediate' } });
    emulator.state.model.maxDistributionsPerFunction = 100;
  });

  const statuses = async (name: string) => ({
    development: (await cf.send(new DescribeFunctionCommand({ Name: name, Stage: 'DEVELOPMENT' }))).FunctionSummary?.Status,
    live: (await cf.send(new DescribeFunctionCommand({ Name: name, Stage: 'LIVE' }))).FunctionSummary?.Status,
  });
  const listed = async (name: string) =>
    ((await cf.send(new ListFunctionsCommand({}))).FunctionList?.Items ?? [])
      .filter((s) => s.Name === name)
      .map((s) => `${s.FunctionMetadata?.Stage}:${s.Status}`);

  describe('DEPLOYED status', () => {
    it('associating a published function makes both stages DEPLOYED; the last association removed, UNASSOCIATED again', async () => {
      emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const d = emulator.state.createDistribution();
      assert.deepEqual(await statuses('f'), { development: 'UNASSOCIATED', live: 'UNASSOCIATED' });

      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'viewer-request' });
      assert.deepEqual(await statuses('f'), { development: 'DEPLOYED', live: 'DEPLOYED' });
      assert.deepEqual(await listed('f'), ['DEVELOPMENT:DEPLOYED', 'LIVE:DEPLOYED']);
      assert.equal(emulator.state.snapshot()[0]?.live?.status, 'DEPLOYED');

      emulator.state.disassociateFunction({ distributionId: d.id, eventType: 'viewer-request' });
      assert.deepEqual(await statuses('f'), { development: 'UNASSOCIATED', live: 'UNASSOCIATED' });
    });

    it('stays DEPLOYED while any association is left (two event types, two distributions, a path-pattern behaviour)', async () => {
      emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const a = emulator.state.createDistribution({ pathPatterns: ['/api/*'] });
      const b = emulator.state.createDistribution();
      emulator.state.associateFunction({ distributionId: a.id, functionArn: arn('f'), eventType: 'viewer-request', pathPattern: '/api/*' });
      emulator.state.associateFunction({ distributionId: a.id, functionArn: arn('f'), eventType: 'viewer-response' });
      emulator.state.associateFunction({ distributionId: b.id, functionArn: arn('f'), eventType: 'viewer-response' });
      assert.equal(emulator.state.associationsOf('f').length, 3);
      emulator.state.disassociateFunction({ distributionId: a.id, eventType: 'viewer-request', pathPattern: '/api/*' });
      emulator.state.disassociateFunction({ distributionId: a.id, eventType: 'viewer-response' });
      assert.deepEqual(await statuses('f'), { development: 'DEPLOYED', live: 'DEPLOYED' });
      emulator.state.deleteDistribution(b.id);
      assert.deepEqual(await statuses('f'), { development: 'UNASSOCIATED', live: 'UNASSOCIATED' });
    });

    it('an association is per function: another function keeps its own status', async () => {
      emulator.state.seed({ name: 'used', code: CODE, publish: true });
      emulator.state.seed({ name: 'unused', code: CODE, publish: true });
      const d = emulator.state.createDistribution();
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('used'), eventType: 'viewer-request' });
      assert.equal((await statuses('unused')).live, 'UNASSOCIATED');
      assert.equal((await statuses('used')).live, 'DEPLOYED');
    });

    it('an update of an associated function then a publish: DEPLOYED again on both stages (default variant in between: UNPUBLISHED)', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const d = emulator.state.createDistribution();
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'viewer-request' });
      const updated = await cf.send(new UpdateFunctionCommand({ Name: 'f', IfMatch: developmentEtag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.equal(updated.FunctionSummary?.Status, 'UNPUBLISHED');
      assert.deepEqual(await statuses('f'), { development: 'UNPUBLISHED', live: 'DEPLOYED' });
      const published = await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: updated.ETag }));
      assert.equal(published.FunctionSummary?.Status, 'DEPLOYED');
      assert.deepEqual(await statuses('f'), { development: 'DEPLOYED', live: 'DEPLOYED' });
    });
  });

  describe('association rules', () => {
    it('only a published function can be associated, by an ARN of this account, for viewer-request or viewer-response', () => {
      emulator.state.seed({ name: 'draft', code: CODE });
      emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const d = emulator.state.createDistribution({ pathPatterns: ['/img/*'] });
      const cases: Array<[string, () => unknown, string]> = [
        [
          'unpublished',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('draft'), eventType: 'viewer-request' }),
          'InvalidFunctionAssociation',
        ],
        [
          'unknown function',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('ghost'), eventType: 'viewer-request' }),
          'InvalidFunctionAssociation',
        ],
        [
          'other account',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f', '999999999999'), eventType: 'viewer-request' }),
          'InvalidFunctionAssociation',
        ],
        [
          'bare name',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: 'f', eventType: 'viewer-request' }),
          'InvalidFunctionAssociation',
        ],
        [
          'origin event',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'origin-request' as never }),
          'InvalidFunctionAssociation',
        ],
        [
          'unknown distribution',
          () => emulator.state.associateFunction({ distributionId: 'ENOPE', functionArn: arn('f'), eventType: 'viewer-request' }),
          'NoSuchDistribution',
        ],
        [
          'unknown behaviour',
          () => emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'viewer-request', pathPattern: '/api/*' }),
          'InvalidArgument',
        ],
      ];
      for (const [label, call, code] of cases) assert.equal(controlError(call).code, code, label);
      assert.deepEqual(emulator.state.associationsOf('f'), [], 'failed calls associate nothing');
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'viewer-request', pathPattern: '/img/*' });
      assert.deepEqual(emulator.state.associationsOf('f'), [{ distributionId: d.id, pathPattern: '/img/*', eventType: 'viewer-request' }]);
    });

    it('one function per event type and behaviour: associating again replaces', () => {
      emulator.state.seed({ name: 'a', code: CODE, publish: true });
      emulator.state.seed({ name: 'b', code: CODE, publish: true });
      const d = emulator.state.createDistribution();
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('a'), eventType: 'viewer-request' });
      const view = emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('b'), eventType: 'viewer-request' });
      assert.deepEqual(view.defaultCacheBehavior.functionAssociations, [{ functionArn: arn('b'), eventType: 'viewer-request' }]);
      assert.deepEqual(emulator.state.associationsOf('a'), []);
    });

    it('a function can be associated with at most maxDistributionsPerFunction distributions (quota 100)', () => {
      emulator.state.model.maxDistributionsPerFunction = 2;
      emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const [a, b, c] = [1, 2, 3].map(() => emulator.state.createDistribution({ pathPatterns: ['/x/*'] }));
      emulator.state.associateFunction({ distributionId: a!.id, functionArn: arn('f'), eventType: 'viewer-request' });
      emulator.state.associateFunction({ distributionId: b!.id, functionArn: arn('f'), eventType: 'viewer-request' });
      emulator.state.associateFunction({ distributionId: b!.id, functionArn: arn('f'), eventType: 'viewer-request', pathPattern: '/x/*' });
      const error = controlError(() => emulator.state.associateFunction({ distributionId: c!.id, functionArn: arn('f'), eventType: 'viewer-request' }));
      assert.equal(error.code, 'TooManyDistributionsWithSingleFunctionARN');
    });

    it('reset drops distributions with the functions', () => {
      emulator.state.createDistribution();
      emulator.state.reset();
      assert.deepEqual(emulator.state.distributions(), []);
    });
  });

  describe('DeleteFunction of an associated function', () => {
    it('answers FunctionInUse 409 and keeps the function; after disassociation the delete succeeds', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE, publish: true });
      const d = emulator.state.createDistribution({ pathPatterns: ['/api/*'] });
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('f'), eventType: 'viewer-response', pathPattern: '/api/*' });
      const error = await errorOf(() => cf.send(new DeleteFunctionCommand({ Name: 'f', IfMatch: developmentEtag })));
      assert.equal(error.name, 'FunctionInUse');
      assert.equal(error.$metadata?.httpStatusCode, 409);
      assert.equal(emulator.state.snapshot().length, 1);
      const trail = emulator.cloudTrailEvents().at(-1)?.detail;
      assert.equal(trail?.errorCode, 'FunctionInUse', 'the failed call is in CloudTrail like any other');
      emulator.state.disassociateFunction({ distributionId: d.id, eventType: 'viewer-response', pathPattern: '/api/*' });
      await cf.send(new DeleteFunctionCommand({ Name: 'f', IfMatch: developmentEtag }));
      assert.equal(emulator.state.snapshot().length, 0);
    });

    it('a stale If-Match is still PreconditionFailed, whether or not the function is in use', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f', code: CODE, publish: true });
      emulator.state.associateFunction({ distributionId: emulator.state.createDistribution().id, functionArn: arn('f'), eventType: 'viewer-request' });
      const updated = await cf.send(new UpdateFunctionCommand({ Name: 'f', IfMatch: developmentEtag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.equal((await errorOf(() => cf.send(new DeleteFunctionCommand({ Name: 'f', IfMatch: developmentEtag })))).name, 'PreconditionFailed');
      assert.equal((await errorOf(() => cf.send(new DeleteFunctionCommand({ Name: 'f', IfMatch: updated.ETag })))).name, 'FunctionInUse');
    });
  });

  describe('ListDistributions through the SDK', () => {
    it('an empty account: Quantity 0, not truncated, Marker echoed empty', async () => {
      const out = await cf.send(new ListDistributionsCommand({}));
      assert.equal(out.DistributionList?.Quantity, 0);
      assert.equal(out.DistributionList?.IsTruncated, false);
      assert.equal(out.DistributionList?.Marker, '');
      assert.equal(out.DistributionList?.MaxItems, 100);
      assert.deepEqual(out.DistributionList?.Items ?? [], []);
    });

    it('DistributionSummary: Id, ARN, DomainName, Status and the FunctionAssociations of the default and path-pattern behaviours', async () => {
      emulator.state.seed({ name: 'rewrite', code: CODE, publish: true });
      emulator.state.seed({ name: 'headers', code: CODE, publish: true });
      const d = emulator.state.createDistribution({ comment: 'site', pathPatterns: ['/api/*', '/img/*'] });
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('headers'), eventType: 'viewer-response' });
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('rewrite'), eventType: 'viewer-request' });
      emulator.state.associateFunction({ distributionId: d.id, functionArn: arn('rewrite'), eventType: 'viewer-request', pathPattern: '/img/*' });
      const out = await cf.send(new ListDistributionsCommand({}));
      assert.equal(out.DistributionList?.Quantity, 1);
      const s = out.DistributionList?.Items?.[0] as DistributionSummary;
      assert.match(s.Id ?? '', /^E[A-Z0-9]{13}$/);
      assert.equal(s.Id, d.id);
      assert.equal(s.ARN, `arn:aws:cloudfront::123456789012:distribution/${d.id}`);
      assert.match(s.DomainName ?? '', /^d[a-z0-9]{13}\.cloudfront\.net$/);
      assert.equal(s.Status, 'Deployed');
      assert.equal(s.Comment, 'site');
      assert.equal(s.Enabled, true);
      assert.ok(s.LastModifiedTime instanceof Date);
      assert.deepEqual(s.DefaultCacheBehavior?.FunctionAssociations, {
        Quantity: 2,
        Items: [
          { FunctionARN: arn('rewrite'), EventType: 'viewer-request' },
          { FunctionARN: arn('headers'), EventType: 'viewer-response' },
        ],
      });
      assert.equal(s.CacheBehaviors?.Quantity, 2);
      const [api, img] = s.CacheBehaviors?.Items ?? [];
      assert.equal(api?.PathPattern, '/api/*');
      assert.equal(api?.FunctionAssociations?.Quantity, 0);
      assert.equal(img?.PathPattern, '/img/*');
      assert.deepEqual(img?.FunctionAssociations?.Items, [{ FunctionARN: arn('rewrite'), EventType: 'viewer-request' }]);
      // Required members the SDK and the CLI expect are there and parse.
      assert.equal(s.Origins?.Quantity, 1);
      assert.equal(s.DefaultCacheBehavior?.TargetOriginId, s.Origins?.Items?.[0]?.Id);
      assert.equal(s.Restrictions?.GeoRestriction?.RestrictionType, 'none');
      assert.equal(s.Staging, false);
      assert.equal(s.ViewerCertificate?.CloudFrontDefaultCertificate, true);
    });

    it('more than 100 distributions: the default page is 100, IsTruncated with NextMarker, the last page has no NextMarker', async () => {
      const ids = Array.from({ length: 105 }, () => emulator.state.createDistribution().id);
      const first = await cf.send(new ListDistributionsCommand({}));
      assert.equal(first.DistributionList?.Quantity, 100);
      assert.equal(first.DistributionList?.Items?.length, 100);
      assert.equal(first.DistributionList?.IsTruncated, true);
      assert.equal(first.DistributionList?.NextMarker, first.DistributionList?.Items?.[99]?.Id);
      const second = await cf.send(new ListDistributionsCommand({ Marker: first.DistributionList?.NextMarker }));
      assert.equal(second.DistributionList?.Quantity, 5);
      assert.equal(second.DistributionList?.IsTruncated, false);
      assert.equal(second.DistributionList?.NextMarker, undefined);
      assert.equal(second.DistributionList?.Marker, first.DistributionList?.NextMarker);
      const seen = [...(first.DistributionList?.Items ?? []), ...(second.DistributionList?.Items ?? [])].map((s) => s.Id);
      assert.deepEqual(seen, [...ids].sort());
    });

    it('a small MaxItems pages through every distribution exactly once, even with a delete between pages', async () => {
      const ids = Array.from({ length: 11 }, () => emulator.state.createDistribution().id).sort();
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await cf.send(new ListDistributionsCommand({ MaxItems: 3, ...(marker ? { Marker: marker } : {}) }));
        pages += 1;
        assert.equal(page.DistributionList?.MaxItems, 3);
        assert.ok((page.DistributionList?.Quantity ?? 0) <= 3);
        seen.push(...(page.DistributionList?.Items ?? []).map((s) => s.Id ?? ''));
        marker = page.DistributionList?.IsTruncated ? page.DistributionList.NextMarker : undefined;
        // Deleting the marker's own distribution must not lose the rest.
        if (pages === 1 && marker) emulator.state.deleteDistribution(marker);
      } while (marker);
      assert.equal(pages, 4);
      assert.deepEqual(seen, ids);
    });

    it('an invalid MaxItems → InvalidArgument 400', async () => {
      for (const maxItems of [0, -1]) {
        const error = await errorOf(() => cf.send(new ListDistributionsCommand({ MaxItems: maxItems })));
        assert.equal(error.name, 'InvalidArgument');
        assert.equal(error.$metadata?.httpStatusCode, 400);
      }
    });
  });

  describe('the control API over HTTP (/_emulator/)', () => {
    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${emulator.endpoint}/_emulator/${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
    };

    it('creates a distribution, associates and disassociates a function; the SDK sees it; no CloudFront call is counted', async () => {
      emulator.controls.resetCalls();
      emulator.clearCloudTrailEvents();
      await cf.send(new CreateFunctionCommand({ Name: 'f', FunctionConfig: config, FunctionCode: encode(CODE) }));
      const etag = (await cf.send(new DescribeFunctionCommand({ Name: 'f', Stage: 'DEVELOPMENT' }))).ETag;
      const early = await control('PUT', 'distributions/EDIST1/associations', { functionArn: arn('f'), eventType: 'viewer-request' });
      assert.equal(early.status, 404);
      assert.equal(early.body?.code, 'NoSuchDistribution');
      const created = await control('POST', 'distributions', { id: 'EDIST1', pathPatterns: ['/api/*'] });
      assert.equal(created.status, 201);
      assert.equal(created.body?.id, 'EDIST1');
      const unpublished = await control('PUT', 'distributions/EDIST1/associations', { functionArn: arn('f'), eventType: 'viewer-request' });
      assert.equal(unpublished.status, 400);
      assert.equal(unpublished.body?.code, 'InvalidFunctionAssociation');
      await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: etag }));
      const associated = await control('PUT', 'distributions/EDIST1/associations', {
        functionArn: arn('f'),
        eventType: 'viewer-response',
        pathPattern: '/api/*',
      });
      assert.equal(associated.status, 200);
      assert.equal((await statuses('f')).live, 'DEPLOYED');
      const listed = await cf.send(new ListDistributionsCommand({}));
      assert.deepEqual(listed.DistributionList?.Items?.[0]?.CacheBehaviors?.Items?.[0]?.FunctionAssociations?.Items, [
        { FunctionARN: arn('f'), EventType: 'viewer-response' },
      ]);
      const removed = await control('DELETE', `distributions/EDIST1/associations?eventType=viewer-response&pathPattern=${encodeURIComponent('/api/*')}`);
      assert.equal(removed.status, 200);
      assert.equal((await statuses('f')).live, 'UNASSOCIATED');
      assert.equal((await control('GET', 'distributions')).status, 200);
      assert.equal((await control('DELETE', 'distributions/EDIST1')).status, 204);
      assert.deepEqual(emulator.state.distributions(), []);
      assert.equal(emulator.controls.calls().Unknown, undefined);
      assert.deepEqual(
        emulator.cloudTrailEvents().map((e) => e.detail.eventName),
        ['CreateFunction2020_05_31', 'PublishFunction2020_05_31'],
      );
    });

    it('reads and sets variants; a bad value is refused and changes nothing', async () => {
      const set = await control('PUT', 'variants', { developmentStatusAfterAssociatedUpdate: 'DEPLOYED', statusAfterPublish: 'reads:3' });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body?.statusAfterPublish, { kind: 'reads', reads: 3 });
      assert.equal(emulator.controls.variants().developmentStatusAfterAssociatedUpdate, 'DEPLOYED');
      const bad = await control('PUT', 'variants', ['validationError=Nope']);
      assert.equal(bad.status, 400);
      assert.equal(bad.body?.code, 'InvalidVariant');
      assert.equal(emulator.controls.variants().validationError, 'MalformedXML');
      assert.equal((await control('GET', 'nothing-here')).status, 404);
    });
  });
});
