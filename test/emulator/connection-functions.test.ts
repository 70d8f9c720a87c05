// Connection functions on the wire: the AWS SDK v3 client against the emulator, every operation and
// error the botocore 1.43.11 model declares for them, paging, If-Match, publish, tags on the
// connection-function ARN, associations, accounts, CloudTrail records, the control API and each
// connection variant (emulator/VARIANTS.md, "Connection functions").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CloudFrontClient,
  CreateConnectionFunctionCommand,
  DeleteConnectionFunctionCommand,
  DescribeConnectionFunctionCommand,
  GetConnectionFunctionCommand,
  ListConnectionFunctionsCommand,
  ListDistributionsByConnectionFunctionCommand,
  ListTagsForResourceCommand,
  PublishConnectionFunctionCommand,
  TagResourceCommand,
  TestConnectionFunctionCommand,
  UntagResourceCommand,
  UpdateConnectionFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import { connectionCombinations, connectionRecordShapeCombinations, describeVariants, type Emulator, type Variants } from '../../emulator';
import { REDACTED } from '../../emulator/cloudtrail';
import { CONNECTION_OBJECT, clientFor, connectionObjectWithSubject, encode, errorOf, withEmulator } from './helpers';
import { editConnectionFunction } from '../../local/console-edit';

const ACCOUNT = '123456789012';
const ALLOW = 'function connectionHandler(connection) { connection.allow(); }';
const CONFIG = { Comment: 'mtls gate', Runtime: 'cloudfront-js-2.0' as const };
const CONNECTION = CONNECTION_OBJECT;

async function create(cf: CloudFrontClient, name: string, code = ALLOW, extra: { Tags?: { Items: Array<{ Key: string; Value: string }> } } = {}) {
  const out = await cf.send(
    new CreateConnectionFunctionCommand({ Name: name, ConnectionFunctionConfig: CONFIG, ConnectionFunctionCode: encode(code), ...extra }),
  );
  return { id: out.ConnectionFunctionSummary?.Id as string, etag: out.ETag as string, out };
}

async function withClient(
  variants: Partial<Variants>,
  body: (emulator: Emulator, cf: CloudFrontClient) => Promise<void>,
  options: { testFunctionBudgetMs?: number } = {},
) {
  await withEmulator({ variants, ...options }, async (emulator) => {
    const cf = clientFor(emulator);
    try {
      await body(emulator, cf);
    } finally {
      cf.destroy();
    }
  });
}

const status = async (cf: CloudFrontClient, identifier: string, stage: 'DEVELOPMENT' | 'LIVE') => {
  const out = await cf.send(new DescribeConnectionFunctionCommand({ Identifier: identifier, Stage: stage }));
  return { status: out.ConnectionFunctionSummary?.Status, etag: out.ETag };
};

describe('connection functions: create, describe, get', () => {
  it('CreateConnectionFunction answers 201 with the flat summary, an Id, the ARN, ETag and Location', async () => {
    await withClient({}, async (emulator, cf) => {
      const { id, etag, out } = await create(cf, 'device-gate', ALLOW, { Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] } });
      assert.match(id, /^cf_[0-9A-Za-z]{27}$/);
      assert.equal(etag, 'ETVPDKIKX0DER');
      assert.equal(out.$metadata.httpStatusCode, 201);
      assert.equal(out.Location, `https://cloudfront.amazonaws.com/2020-05-31/connection-function/arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}`);
      const s = out.ConnectionFunctionSummary!;
      assert.equal(s.Name, 'device-gate');
      assert.equal(s.ConnectionFunctionArn, `arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}`);
      assert.equal(s.Status, 'UNPUBLISHED');
      assert.equal(s.Stage, 'DEVELOPMENT');
      assert.deepEqual(s.ConnectionFunctionConfig, CONFIG);
      assert.ok(s.CreatedTime instanceof Date && s.LastModifiedTime instanceof Date);
      const tags = await cf.send(new ListTagsForResourceCommand({ Resource: s.ConnectionFunctionArn }));
      assert.deepEqual(tags.Tags?.Items, [{ Key: 'auto-publish', Value: 'true' }]);
      // A second function gets another Id; the ETag sequence is per function.
      const other = await create(cf, 'other');
      assert.notEqual(other.id, id);
      assert.equal(other.etag, 'ETVPDKIKX0DER');
      assert.deepEqual(
        emulator.state.connectionFunctions().map((f) => [f.name, f.id]),
        [
          ['device-gate', id],
          ['other', other.id],
        ],
      );
    });
  });

  it('create errors: EntityAlreadyExists 409, bad name, wrong runtime, EntitySizeLimitExceeded 413, InvalidTagging, EntityLimitExceeded', async () => {
    await withClient({}, async (emulator, cf) => {
      await create(cf, 'taken');
      const dup = await errorOf(() => create(cf, 'taken'));
      assert.equal(dup.name, 'EntityAlreadyExists');
      assert.equal(dup.$metadata?.httpStatusCode, 409);
      const badName = await errorOf(() => create(cf, 'bad name'));
      assert.equal(badName.name, 'MalformedXML', 'the validationError variant applies to both kinds');
      emulator.controls.setVariants({ validationError: 'InvalidArgument' });
      assert.equal((await errorOf(() => create(cf, 'bad name'))).name, 'InvalidArgument');
      const runtime = await errorOf(() =>
        cf.send(
          new CreateConnectionFunctionCommand({
            Name: 'js1',
            ConnectionFunctionConfig: { Comment: '', Runtime: 'cloudfront-js-1.0' },
            ConnectionFunctionCode: encode(ALLOW),
          }),
        ),
      );
      assert.equal(runtime.name, 'InvalidArgument');
      assert.match(runtime.message, /cloudfront-js-2\.0 only/);
      const big = await errorOf(() => create(cf, 'big', `${ALLOW}//${'x'.repeat(11 * 1024)}`));
      assert.equal(big.name, 'EntitySizeLimitExceeded');
      assert.equal(big.$metadata?.httpStatusCode, 413);
      const tags = await errorOf(() => create(cf, 'tagged', ALLOW, { Tags: { Items: [{ Key: 'bad;key', Value: 'x' }] } }));
      assert.equal(tags.name, 'InvalidTagging');
      emulator.state.model.connectionFunctions.quota = 1;
      const quota = await errorOf(() => create(cf, 'one-too-many'));
      assert.equal(quota.name, 'EntityLimitExceeded');
      assert.equal(quota.$metadata?.httpStatusCode, 400);
    });
  });

  it('Describe and Get take the Id, the name or the ARN (default); a missing stage or function is EntityNotFound 404', async () => {
    await withClient({}, async (_emulator, cf) => {
      const { id, out } = await create(cf, 'device-gate');
      const arn = out.ConnectionFunctionSummary!.ConnectionFunctionArn!;
      for (const identifier of [id, 'device-gate', arn]) {
        const d = await cf.send(new DescribeConnectionFunctionCommand({ Identifier: identifier }));
        assert.equal(d.ConnectionFunctionSummary?.Id, id, identifier);
        assert.equal(d.ETag, 'ETVPDKIKX0DER');
        const g = await cf.send(new GetConnectionFunctionCommand({ Identifier: identifier, Stage: 'DEVELOPMENT' }));
        assert.equal(Buffer.from(g.ConnectionFunctionCode!).toString('utf8'), ALLOW);
        assert.equal(g.ETag, 'ETVPDKIKX0DER');
        assert.equal(g.ContentType, 'application/octet-stream');
      }
      const live = await errorOf(() => cf.send(new DescribeConnectionFunctionCommand({ Identifier: id, Stage: 'LIVE' })));
      assert.equal(live.name, 'EntityNotFound');
      assert.equal(live.$metadata?.httpStatusCode, 404);
      assert.equal((await errorOf(() => cf.send(new GetConnectionFunctionCommand({ Identifier: 'cf_nope' })))).name, 'EntityNotFound');
    });
  });

  it('variant connectionIdentifier=id-only: a name or an ARN is EntityNotFound, the Id still works', async () => {
    await withClient({ connectionIdentifier: 'id-only' }, async (_emulator, cf) => {
      const { id, out } = await create(cf, 'device-gate');
      assert.equal((await cf.send(new DescribeConnectionFunctionCommand({ Identifier: id }))).ConnectionFunctionSummary?.Name, 'device-gate');
      for (const identifier of ['device-gate', out.ConnectionFunctionSummary!.ConnectionFunctionArn!]) {
        assert.equal((await errorOf(() => cf.send(new DescribeConnectionFunctionCommand({ Identifier: identifier })))).name, 'EntityNotFound');
        assert.equal((await errorOf(() => cf.send(new GetConnectionFunctionCommand({ Identifier: identifier })))).name, 'EntityNotFound');
        assert.equal(
          (await errorOf(() => cf.send(new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: identifier })))).name,
          'EntityNotFound',
        );
      }
    });
  });
});

describe('connection functions: update, publish, delete and If-Match', () => {
  it('UpdateConnectionFunction: If-Match missing → InvalidIfMatchVersion, stale → PreconditionFailed, unknown Id → EntityNotFound', async () => {
    await withClient({}, async (_emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      const update = (ifMatch: string | undefined, target = id) =>
        cf.send(new UpdateConnectionFunctionCommand({ Id: target, IfMatch: ifMatch, ConnectionFunctionConfig: CONFIG, ConnectionFunctionCode: encode(ALLOW) }));
      const missing = await errorOf(() => update(undefined));
      assert.equal(missing.name, 'InvalidIfMatchVersion');
      assert.equal(missing.$metadata?.httpStatusCode, 400);
      assert.equal((await errorOf(() => update(etag, 'cf_unknown'))).name, 'EntityNotFound');
      const out = await update(etag);
      assert.notEqual(out.ETag, etag);
      assert.equal(out.ConnectionFunctionSummary?.Status, 'UNPUBLISHED');
      const stale = await errorOf(() => update(etag));
      assert.equal(stale.name, 'PreconditionFailed');
      assert.equal(stale.$metadata?.httpStatusCode, 412);
      // A name is not an Id: Update addresses by Id only.
      assert.equal((await errorOf(() => update(out.ETag, 'device-gate'))).name, 'EntityNotFound');
    });
  });

  it('PublishConnectionFunction: If-Match is the DEVELOPMENT ETag; LIVE takes it; a no-op publish is 412; statuses follow', async () => {
    await withClient({}, async (_emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      assert.equal((await errorOf(() => cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: 'ESTALE' })))).name, 'PreconditionFailed');
      assert.equal((await errorOf(() => cf.send(new PublishConnectionFunctionCommand({ Id: 'cf_unknown', IfMatch: etag })))).name, 'EntityNotFound');
      const published = await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      assert.equal(published.ConnectionFunctionSummary?.Stage, 'LIVE');
      assert.equal(published.ConnectionFunctionSummary?.Status, 'UNASSOCIATED');
      assert.deepEqual(await status(cf, id, 'LIVE'), { status: 'UNASSOCIATED', etag });
      assert.deepEqual(await status(cf, id, 'DEVELOPMENT'), { status: 'UNASSOCIATED', etag }, 'derived: in sync, DEVELOPMENT says what LIVE says');
      assert.equal((await errorOf(() => cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag })))).name, 'PreconditionFailed');
      const updated = await editConnectionFunction(cf, id, 'function connectionHandler(c) { c.deny(); }');
      assert.deepEqual(await status(cf, id, 'DEVELOPMENT'), { status: 'UNPUBLISHED', etag: updated });
      assert.deepEqual(await status(cf, id, 'LIVE'), { status: 'UNASSOCIATED', etag }, 'LIVE keeps the published version');
      const live = await cf.send(new GetConnectionFunctionCommand({ Identifier: id, Stage: 'LIVE' }));
      assert.equal(Buffer.from(live.ConnectionFunctionCode!).toString('utf8'), ALLOW);
    });
  });

  it('DeleteConnectionFunction: If-Match rules, CannotDeleteEntityWhileInUse 409 while a distribution runs it, then 204 and its tags are gone', async () => {
    await withClient({}, async (emulator, cf) => {
      const { id, etag, out } = await create(cf, 'device-gate');
      const arn = out.ConnectionFunctionSummary!.ConnectionFunctionArn!;
      await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      const d = emulator.state.createDistribution({ viewerMtls: {} });
      emulator.state.associateConnectionFunction({ distributionId: d.id, connectionFunctionId: id });
      const del = (ifMatch: string | undefined) => cf.send(new DeleteConnectionFunctionCommand({ Id: id, IfMatch: ifMatch }));
      assert.equal((await errorOf(() => del(undefined))).name, 'InvalidIfMatchVersion');
      assert.equal((await errorOf(() => del('ESTALE'))).name, 'PreconditionFailed');
      const inUse = await errorOf(() => del(etag));
      assert.equal(inUse.name, 'CannotDeleteEntityWhileInUse');
      assert.equal(inUse.$metadata?.httpStatusCode, 409);
      emulator.state.disassociateConnectionFunction(d.id);
      const gone = await del(etag);
      assert.equal(gone.$metadata.httpStatusCode, 204);
      assert.equal((await errorOf(() => del(etag))).name, 'EntityNotFound');
      assert.equal((await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: arn })))).name, 'NoSuchResource');
      // A re-created function of the same name is another function, with another Id.
      assert.notEqual((await create(cf, 'device-gate')).id, id);
    });
  });
});

describe('connection functions: ListConnectionFunctions', () => {
  it('a POST with an XML body: Stage filter, MaxItems paging with NextMarker, both stages of a published function, errors', async () => {
    await withClient({}, async (_emulator, cf) => {
      const made = [];
      for (const name of ['c', 'a', 'b']) made.push(await create(cf, name));
      const a = made[1]!;
      await cf.send(new PublishConnectionFunctionCommand({ Id: a.id, IfMatch: a.etag }));
      const all = await cf.send(new ListConnectionFunctionsCommand({}));
      assert.deepEqual(
        all.ConnectionFunctions?.map((f) => `${f.Name}/${f.Stage}`),
        ['a/DEVELOPMENT', 'a/LIVE', 'b/DEVELOPMENT', 'c/DEVELOPMENT'],
      );
      assert.equal(all.NextMarker, undefined);
      const seen: string[] = [];
      let marker: string | undefined;
      let calls = 0;
      do {
        const page = await cf.send(new ListConnectionFunctionsCommand({ MaxItems: 3, Marker: marker }));
        calls += 1;
        assert.ok((page.ConnectionFunctions?.length ?? 0) <= 3);
        seen.push(...(page.ConnectionFunctions ?? []).map((f) => `${f.Name}/${f.Stage}`));
        marker = page.NextMarker;
      } while (marker);
      assert.equal(calls, 2);
      assert.deepEqual(seen, ['a/DEVELOPMENT', 'a/LIVE', 'b/DEVELOPMENT', 'c/DEVELOPMENT']);
      const live = await cf.send(new ListConnectionFunctionsCommand({ Stage: 'LIVE' }));
      assert.deepEqual(
        live.ConnectionFunctions?.map((f) => [f.Name, f.Id, f.Status]),
        [['a', a.id, 'UNASSOCIATED']],
      );
      assert.equal((await errorOf(() => cf.send(new ListConnectionFunctionsCommand({ MaxItems: 0 })))).name, 'InvalidArgument');
      assert.equal((await errorOf(() => cf.send(new ListConnectionFunctionsCommand({ Marker: 'not-a-marker!' })))).name, 'InvalidArgument');
      assert.equal((await errorOf(() => cf.send(new ListConnectionFunctionsCommand({ Stage: 'BOGUS' as 'LIVE' })))).name, 'InvalidArgument');
    });
  });
});

describe('connection functions: tags on the connection-function ARN', () => {
  it('TagResource, UntagResource and ListTagsForResource; another account or an unknown Id is NoSuchResource', async () => {
    await withClient({}, async (_emulator, cf) => {
      const { id, out } = await create(cf, 'device-gate');
      const arn = out.ConnectionFunctionSummary!.ConnectionFunctionArn!;
      await cf.send(
        new TagResourceCommand({
          Resource: arn,
          Tags: {
            Items: [
              { Key: 'auto-publish', Value: 'true' },
              { Key: 'team', Value: 'edge' },
            ],
          },
        }),
      );
      await cf.send(new UntagResourceCommand({ Resource: arn, TagKeys: { Items: ['team'] } }));
      assert.deepEqual((await cf.send(new ListTagsForResourceCommand({ Resource: arn }))).Tags?.Items, [{ Key: 'auto-publish', Value: 'true' }]);
      const bad = await errorOf(() => cf.send(new TagResourceCommand({ Resource: arn, Tags: { Items: [{ Key: 'bad;key', Value: 'x' }] } })));
      assert.equal(bad.name, 'InvalidTagging');
      for (const other of [`arn:aws:cloudfront::111111111111:connection-function/${id}`, `arn:aws:cloudfront::${ACCOUNT}:connection-function/cf_unknown`]) {
        assert.equal((await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: other })))).name, 'NoSuchResource', other);
      }
      // A function named like the Id is not the connection function.
      assert.equal(
        (await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: `arn:aws:cloudfront::${ACCOUNT}:function/${id}` })))).name,
        'NoSuchResource',
      );
    });
  });
});

describe('connection functions: TestConnectionFunction over the wire', () => {
  const test = (cf: CloudFrontClient, id: string, etag: string, stage?: 'DEVELOPMENT' | 'LIVE', object: unknown = CONNECTION) =>
    cf.send(
      new TestConnectionFunctionCommand({
        Id: id,
        IfMatch: etag,
        ...(stage ? { Stage: stage } : {}),
        ConnectionObject: encode(typeof object === 'string' ? object : JSON.stringify(object)),
      }),
    );

  it('ConnectionFunctionTestResult: the decision in the output, logs, error message, utilization; If-Match per stage', async () => {
    await withClient(
      {},
      async (_emulator, cf) => {
        const gate = await create(
          cf,
          'gate',
          `function connectionHandler(connection) {
            var leaf = connection.clientCertificate.certificates.leaf;
            console.log('serial', leaf.serialNumber, connection.revocationCheck.status);
            if (leaf.subject.indexOf('O=Example Corp') === -1) return connection.deny();
            connection.allow();
          }`,
        );
        const allowed = (await test(cf, gate.id, gate.etag, 'DEVELOPMENT')).ConnectionFunctionTestResult!;
        assert.equal(allowed.ConnectionFunctionOutput, '{"decision":"allow"}');
        assert.deepEqual(allowed.ConnectionFunctionExecutionLogs, ['serial 4a:3f:5c:92:d1:e8:7b:6c GOOD']);
        assert.equal(allowed.ConnectionFunctionErrorMessage, '');
        assert.ok(Number(allowed.ComputeUtilization) >= 1 && Number(allowed.ComputeUtilization) <= 30, allowed.ComputeUtilization);
        assert.equal(allowed.ConnectionFunctionSummary?.Id, gate.id);
        const other = connectionObjectWithSubject('CN=x,O=Other Inc,C=US');
        assert.equal((await test(cf, gate.id, gate.etag, undefined, other)).ConnectionFunctionTestResult?.ConnectionFunctionOutput, '{"decision":"deny"}');

        const thrower = await create(cf, 'typo', 'function connectionHandler(connection) { connection.alow(); }');
        const thrown = (await test(cf, thrower.id, thrower.etag)).ConnectionFunctionTestResult!;
        assert.match(thrown.ConnectionFunctionErrorMessage ?? '', /alow is not a function/);
        assert.equal(thrown.ConnectionFunctionOutput, '');
        const silent = await create(cf, 'silent', 'function connectionHandler(connection) { console.log("thinking"); }');
        assert.equal((await test(cf, silent.id, silent.etag)).ConnectionFunctionTestResult?.ConnectionFunctionOutput, '{"decision":"none"}');

        assert.equal((await errorOf(() => test(cf, gate.id, gate.etag, 'LIVE'))).name, 'EntityNotFound', 'no LIVE stage yet');
        await cf.send(new PublishConnectionFunctionCommand({ Id: gate.id, IfMatch: gate.etag }));
        const live = (await test(cf, gate.id, gate.etag, 'LIVE')).ConnectionFunctionTestResult!;
        assert.equal(live.ConnectionFunctionSummary?.Stage, 'LIVE');
        assert.equal(live.ConnectionFunctionOutput, '{"decision":"allow"}');
        assert.equal((await errorOf(() => test(cf, gate.id, 'ESTALE'))).name, 'PreconditionFailed');
        assert.equal((await errorOf(() => test(cf, 'cf_unknown', gate.etag))).name, 'EntityNotFound');
        assert.equal((await errorOf(() => test(cf, gate.id, gate.etag, undefined, 'not json'))).name, 'InvalidArgument');
        const big = await errorOf(() => test(cf, gate.id, gate.etag, undefined, { pad: 'x'.repeat(40960) }));
        assert.equal(big.name, 'InvalidArgument');
        assert.match(big.message, /ConnectionObject is \d+ bytes/);
      },
      { testFunctionBudgetMs: 400 },
    );
  });
});

describe('connection functions: distributions', () => {
  it('ListDistributionsByConnectionFunction lists the distributions running it (by Id or name), pages, and the function reads DEPLOYED', async () => {
    await withClient({}, async (emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      const unpublished = await create(cf, 'draft');
      await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      const plain = emulator.state.createDistribution();
      assert.throws(() => emulator.state.associateConnectionFunction({ distributionId: plain.id, connectionFunctionId: id }), /viewer mTLS/);
      const d1 = emulator.state.createDistribution({ viewerMtls: {} });
      const d2 = emulator.state.createDistribution({ viewerMtls: { mode: 'optional', trustStoreId: 'ts-1' } });
      emulator.state.createDistribution({ viewerMtls: {} });
      assert.throws(() => emulator.state.associateConnectionFunction({ distributionId: d1.id, connectionFunctionId: unpublished.id }), /must be published/);
      for (const d of [d1, d2]) emulator.state.associateConnectionFunction({ distributionId: d.id, connectionFunctionId: id });
      const expected = [d1.id, d2.id].sort();

      const all = await cf.send(new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: 'device-gate' }));
      assert.deepEqual(
        all.DistributionList?.Items?.map((d) => d.Id),
        expected,
      );
      assert.equal(all.DistributionList?.Quantity, 2);
      assert.ok(all.DistributionList?.Items?.every((d) => d.ConnectionFunctionAssociation?.Id === id));
      assert.deepEqual(all.DistributionList?.Items?.find((d) => d.Id === d2.id)?.ViewerMtlsConfig, {
        Mode: 'optional',
        TrustStoreConfig: { TrustStoreId: 'ts-1' },
      });
      const first = await cf.send(new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: id, MaxItems: 1 }));
      assert.equal(first.DistributionList?.IsTruncated, true);
      const second = await cf.send(
        new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: id, MaxItems: 1, Marker: first.DistributionList?.NextMarker }),
      );
      assert.deepEqual(
        [...(first.DistributionList?.Items ?? []), ...(second.DistributionList?.Items ?? [])].map((d) => d.Id),
        expected,
      );
      assert.equal(second.DistributionList?.IsTruncated, false);
      assert.deepEqual(
        (await cf.send(new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: unpublished.id }))).DistributionList?.Items,
        undefined,
      );
      assert.equal(
        (await errorOf(() => cf.send(new ListDistributionsByConnectionFunctionCommand({ ConnectionFunctionIdentifier: 'cf_unknown' })))).name,
        'EntityNotFound',
      );
      assert.deepEqual(await status(cf, id, 'LIVE'), { status: 'DEPLOYED', etag });
      assert.deepEqual(await status(cf, id, 'DEVELOPMENT'), { status: 'DEPLOYED', etag });
      for (const d of [d1, d2]) emulator.state.disassociateConnectionFunction(d.id);
      assert.deepEqual(await status(cf, id, 'LIVE'), { status: 'UNASSOCIATED', etag });
    });
  });
});

describe('connection functions: variants of the stages', () => {
  it('connectionLiveEtag=distinct: LIVE carries its own ETag, which TestConnectionFunction on LIVE takes', async () => {
    await withClient({ connectionLiveEtag: 'distinct' }, async (_emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      const published = await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      assert.equal(published.ConnectionFunctionSummary?.Stage, 'LIVE');
      const live = await status(cf, id, 'LIVE');
      assert.notEqual(live.etag, etag);
      assert.match(live.etag ?? '', /^[A-Z0-9]{13}$/);
      assert.equal((await status(cf, id, 'DEVELOPMENT')).etag, etag, 'DEVELOPMENT keeps its ETag');
      const run = await cf.send(
        new TestConnectionFunctionCommand({ Id: id, IfMatch: live.etag, Stage: 'LIVE', ConnectionObject: encode(JSON.stringify(CONNECTION)) }),
      );
      assert.equal(run.ConnectionFunctionTestResult?.ConnectionFunctionOutput, '{"decision":"allow"}');
      assert.equal((await errorOf(() => cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag })))).name, 'PreconditionFailed', 'still a no-op');
    });
  });

  it('connectionDevelopmentStatus=always-UNPUBLISHED: DEVELOPMENT says UNPUBLISHED even in sync; only ETags tell', async () => {
    await withClient({ connectionDevelopmentStatus: 'always-UNPUBLISHED' }, async (emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      assert.deepEqual(await status(cf, id, 'DEVELOPMENT'), { status: 'UNPUBLISHED', etag });
      assert.deepEqual(await status(cf, id, 'LIVE'), { status: 'UNASSOCIATED', etag });
      emulator.controls.setVariants({ connectionDevelopmentStatus: 'derived' });
      assert.deepEqual(await status(cf, id, 'DEVELOPMENT'), { status: 'UNASSOCIATED', etag });
    });
  });

  it('connectionArn=name: the ARN ends with the name; tagging finds the function by that ARN only', async () => {
    await withClient({ connectionArn: 'name' }, async (_emulator, cf) => {
      const { id, out } = await create(cf, 'device-gate');
      const arn = `arn:aws:cloudfront::${ACCOUNT}:connection-function/device-gate`;
      assert.equal(out.ConnectionFunctionSummary?.ConnectionFunctionArn, arn);
      await cf.send(new TagResourceCommand({ Resource: arn, Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] } }));
      assert.deepEqual((await cf.send(new ListTagsForResourceCommand({ Resource: arn }))).Tags?.Items, [{ Key: 'auto-publish', Value: 'true' }]);
      const byId = `arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}`;
      assert.equal((await errorOf(() => cf.send(new ListTagsForResourceCommand({ Resource: byId })))).name, 'NoSuchResource');
      assert.equal(
        (await cf.send(new DescribeConnectionFunctionCommand({ Identifier: arn }))).ConnectionFunctionSummary?.Id,
        id,
        'an Identifier may be that ARN',
      );
    });
  });

  it('statusAfterPublish=reads:2: the publish answer and the next two reads say PUBLISHING, then settled', async () => {
    await withClient({ statusAfterPublish: { kind: 'reads', reads: 2 } }, async (emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      const published = await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      assert.equal(published.ConnectionFunctionSummary?.Status, 'PUBLISHING');
      assert.equal(emulator.state.connectionFunctions()[0]?.live?.status, 'PUBLISHING', 'a peek uses no read');
      assert.equal((await status(cf, id, 'LIVE')).status, 'PUBLISHING');
      const listed = await cf.send(new ListConnectionFunctionsCommand({}));
      assert.deepEqual(
        listed.ConnectionFunctions?.map((f) => f.Status),
        ['PUBLISHING', 'PUBLISHING'],
        'one list call is one read of each function',
      );
      assert.equal((await status(cf, id, 'LIVE')).status, 'UNASSOCIATED');
    });
  });

  it('connectionCombinations: the 16 readings of CloudFront about connection functions, each still converging to LIVE = DEVELOPMENT by publish', async () => {
    const combos = connectionCombinations();
    assert.equal(combos.length, 16);
    await withClient({}, async (emulator, cf) => {
      for (const variants of combos) {
        emulator.resetAll();
        emulator.controls.setVariants(variants);
        const { id, etag } = await create(cf, 'device-gate');
        await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
        const byName = variants.connectionIdentifier === 'id-name-or-arn';
        const identifier = byName ? 'device-gate' : id;
        const dev = await status(cf, identifier, 'DEVELOPMENT');
        const live = await status(cf, identifier, 'LIVE');
        assert.equal(dev.etag, etag, describeVariants(variants));
        assert.equal(live.etag === etag, variants.connectionLiveEtag === 'same-as-development', describeVariants(variants));
        assert.equal(dev.status, variants.connectionDevelopmentStatus === 'derived' ? 'UNASSOCIATED' : 'UNPUBLISHED', describeVariants(variants));
        const arn = (await cf.send(new DescribeConnectionFunctionCommand({ Identifier: id }))).ConnectionFunctionSummary?.ConnectionFunctionArn;
        assert.equal(arn, `arn:aws:cloudfront::${ACCOUNT}:connection-function/${variants.connectionArn === 'id' ? id : 'device-gate'}`);
        const code = await cf.send(new GetConnectionFunctionCommand({ Identifier: identifier, Stage: 'LIVE' }));
        assert.equal(Buffer.from(code.ConnectionFunctionCode!).toString('utf8'), ALLOW);
      }
    });
  });
});

describe('connection functions: accounts', () => {
  it('each account has its own connection functions, Ids and tags, as for the ordinary kind', async () => {
    await withClient({}, async (emulator, cf) => {
      const member = emulator.addAccount('222222222222');
      emulator.iam.setPrincipal('AKIDMEMBER', 'arn:aws:iam::222222222222:user/dev');
      const memberCf = clientFor(emulator, { accessKeyId: 'AKIDMEMBER' });
      try {
        const home = await create(cf, 'device-gate');
        const away = await create(memberCf, 'device-gate');
        assert.notEqual(away.id, home.id);
        assert.equal(away.out.ConnectionFunctionSummary?.ConnectionFunctionArn, `arn:aws:cloudfront::222222222222:connection-function/${away.id}`);
        assert.deepEqual(
          member.state.connectionFunctions().map((f) => f.id),
          [away.id],
        );
        assert.equal((await errorOf(() => memberCf.send(new DescribeConnectionFunctionCommand({ Identifier: home.id })))).name, 'EntityNotFound');
        const seeded = member.state.seedConnectionFunction({ name: 'seeded', code: ALLOW, publish: true, tags: { 'auto-publish': 'true' } });
        assert.equal(seeded.liveEtag, seeded.developmentEtag);
        assert.equal((await memberCf.send(new ListConnectionFunctionsCommand({ Stage: 'LIVE' }))).ConnectionFunctions?.length, 1);
        assert.equal((await cf.send(new ListConnectionFunctionsCommand({}))).ConnectionFunctions?.length, 1, 'the home account sees its own only');
      } finally {
        memberCf.destroy();
      }
    });
  });
});

describe('connection functions: CloudTrail records and the publish log', () => {
  /** Create, tag, update (a console user's edit), publish and delete; returns the records of this round. */
  async function writes(emulator: Emulator, cf: CloudFrontClient) {
    emulator.clearCloudTrailEvents();
    const { id, etag, out } = await create(cf, 'device-gate');
    await cf.send(
      new TagResourceCommand({ Resource: out.ConnectionFunctionSummary!.ConnectionFunctionArn, Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] } }),
    );
    const updated = await editConnectionFunction(cf, id, ALLOW);
    await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: updated }));
    await errorOf(() => cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag })));
    await cf.send(new DeleteConnectionFunctionCommand({ Id: id, IfMatch: updated }));
    return { id, updated, records: emulator.cloudTrailEvents().map((e) => e.detail) };
  }

  for (const variants of connectionRecordShapeCombinations()) {
    it(`the record shape under ${describeVariants(variants)}`, async () => {
      await withClient(variants, async (emulator, cf) => {
        const { id, updated, records } = await writes(emulator, cf);
        const suffix = variants.cloudTrailEventName === 'suffixed' ? '2020_05_31' : '';
        assert.deepEqual(
          records.map((r) => r.eventName),
          [
            'CreateConnectionFunction',
            'TagResource',
            'UpdateConnectionFunction',
            'PublishConnectionFunction',
            'PublishConnectionFunction',
            'DeleteConnectionFunction',
          ].map((n) => `${n}${suffix}`),
        );
        const [created, tagged, update, publish, failed, deleted] = records;
        assert.equal(failed?.errorCode, 'PreconditionFailed');
        assert.equal(failed?.requestParameters, null);
        assert.equal(failed?.responseElements, null);
        const where = variants.cloudTrailFunctionName;
        if (where === 'neither') {
          for (const r of [created, tagged, update, publish, deleted]) {
            assert.equal(r?.requestParameters, REDACTED);
            assert.equal(r?.responseElements, null);
          }
          return;
        }
        const params = (r: typeof created) => r?.requestParameters as Record<string, unknown>;
        const inRequest = where === 'both' || where === 'requestParameters';
        const inResponse = where === 'both' || where === 'responseElements';
        // Create's request has the name only; the calls addressed by Id carry the variant's identifiers.
        assert.equal(params(created).name, inRequest ? 'device-gate' : undefined);
        assert.equal(params(created).connectionFunctionCode, REDACTED);
        const wantId = inRequest && variants.connectionCloudTrailIdentifier !== 'name' ? id : undefined;
        const wantName = inRequest && variants.connectionCloudTrailIdentifier !== 'id' ? 'device-gate' : undefined;
        for (const r of [update, publish, deleted]) {
          assert.equal(params(r).id, wantId, r?.eventName);
          assert.equal(params(r).name, wantName, r?.eventName);
        }
        assert.equal(params(update).ifMatch, 'ETVPDKIKX0DER');
        assert.equal(params(publish).ifMatch, updated);
        assert.equal(params(tagged).resource, inRequest ? `arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}` : undefined);
        for (const r of [created, update, publish]) {
          const summary = (r?.responseElements as { connectionFunctionSummary?: Record<string, unknown> } | null)?.connectionFunctionSummary;
          if (!inResponse) {
            assert.equal(r?.responseElements, null);
            continue;
          }
          assert.equal(summary?.id, id);
          assert.equal(summary?.name, 'device-gate');
          assert.equal(summary?.connectionFunctionArn, `arn:aws:cloudfront::${ACCOUNT}:connection-function/${id}`);
        }
        assert.equal(deleted?.responseElements, null, 'DeleteConnectionFunction answers no body');
      });
    });
  }

  it('the publish log records a PublishConnectionFunction with the function name and Id; reads and tests write no record', async () => {
    await withClient({}, async (emulator, cf) => {
      const { id, etag } = await create(cf, 'device-gate');
      emulator.clearCloudTrailEvents();
      await cf.send(new DescribeConnectionFunctionCommand({ Identifier: id }));
      await cf.send(new ListConnectionFunctionsCommand({}));
      await cf.send(new TestConnectionFunctionCommand({ Id: id, IfMatch: etag, ConnectionObject: encode(JSON.stringify(CONNECTION)) }));
      assert.deepEqual(emulator.cloudTrailEvents(), []);
      await cf.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }));
      const [entry, ...rest] = emulator.controls.publishLog();
      assert.deepEqual(rest, []);
      assert.equal(entry?.name, 'device-gate');
      assert.equal(entry?.connectionFunctionId, id);
      assert.equal(entry?.etag, etag);
      assert.equal(entry?.account, ACCOUNT);
      const counts = emulator.controls.calls();
      assert.equal(counts.TestConnectionFunction, 1);
      assert.equal(counts.ListConnectionFunctions, 1);
    });
  });
});

describe('connection functions: the control API', () => {
  it('over HTTP: seed, list, associate and disassociate; the wire sees the result', async () => {
    await withClient({}, async (emulator, cf) => {
      const post = async (path: string, body: unknown, method = 'POST') => {
        const res = await fetch(`${emulator.endpoint}/_emulator/${path}`, { method, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const seeded = await post('connection-functions', { name: 'seeded', code: ALLOW, publish: true, tags: { 'auto-publish': 'true' } });
      assert.equal(seeded.status, 201);
      const id = seeded.body.id as string;
      assert.match(id, /^cf_/);
      assert.equal(seeded.body.liveEtag, 'ETVPDKIKX0DER');
      const listed = (await (await fetch(`${emulator.endpoint}/_emulator/connection-functions`)).json()) as Array<{ id: string; tags: Record<string, string> }>;
      assert.deepEqual(
        listed.map((f) => [f.id, f.tags]),
        [[id, { 'auto-publish': 'true' }]],
      );
      const d = await post('distributions', { id: 'E1EXAMPLE12345', viewerMtls: { mode: 'required' } });
      assert.equal(d.status, 201);
      const associated = await post('distributions/E1EXAMPLE12345/connection-function', { connectionFunctionId: id }, 'PUT');
      assert.equal(associated.status, 200);
      assert.equal(associated.body.connectionFunctionId, id);
      assert.equal((await status(cf, id, 'LIVE')).status, 'DEPLOYED');
      const unknown = await post('distributions/E1EXAMPLE12345/connection-function', { connectionFunctionId: 'cf_unknown' }, 'PUT');
      assert.deepEqual([unknown.status, unknown.body.code], [400, 'InvalidArgument']);
      const removed = await fetch(`${emulator.endpoint}/_emulator/distributions/E1EXAMPLE12345/connection-function`, { method: 'DELETE' });
      assert.equal(removed.status, 200);
      assert.equal((await status(cf, id, 'LIVE')).status, 'UNASSOCIATED');
      assert.deepEqual(emulator.cloudTrailEvents(), [], 'the control API writes no CloudTrail record');
    });
  });
});
