// The real AWS CLI (botocore) against the emulator, for the shapes the SDK is lenient about:
// ListDistributions, the DEPLOYED status of an associated function, TestFunction's TestResult and
// S3 GetObject (path-style, S3's own error XML). Skipped when `aws` is not installed;
// emulator/AWS-CLI.md has a full transcript.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CODE, CONNECTION_OBJECT, connectionObjectWithSubject, withEmulator } from './helpers';

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };

/** Runs `aws ...args --endpoint-url … --output json`: the parsed stdout, or the CLI's error line. */
async function awsCli(endpoint: string, args: string[]): Promise<{ ok: true; out: unknown } | { ok: false; stderr: string }> {
  try {
    const { stdout } = await run('aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], { env });
    return { ok: true, out: stdout.trim() === '' ? undefined : (JSON.parse(stdout) as unknown) };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}

describe('the AWS CLI against the emulator', { skip: hasAws ? false : 'aws CLI not installed' }, () => {
  it('list-distributions (paged by the CLI) and describe-function of an associated function parse', async () => {
    await withEmulator({}, async (emulator) => {
      emulator.state.seed({ name: 'url-rewrite', code: CODE, publish: true });
      const first = emulator.state.createDistribution({ pathPatterns: ['/api/*'] });
      emulator.state.createDistribution();
      emulator.state.createDistribution();
      emulator.state.associateFunction({
        distributionId: first.id,
        functionArn: 'arn:aws:cloudfront::123456789012:function/url-rewrite',
        eventType: 'viewer-response',
        pathPattern: '/api/*',
      });
      const aws = async (...args: string[]) =>
        JSON.parse((await run('aws', ['cloudfront', ...args, '--endpoint-url', emulator.endpoint, '--output', 'json'], { env })).stdout) as unknown;

      const listed = (await aws('list-distributions', '--page-size', '2')) as {
        DistributionList: { Items: Array<{ Id: string; CacheBehaviors: { Items?: Array<{ PathPattern: string; FunctionAssociations: unknown }> } }> };
      };
      const items = listed.DistributionList.Items;
      assert.deepEqual(
        items.map((d) => d.Id),
        emulator.state.distributions().map((d) => d.id),
        'the CLI followed NextMarker to the end',
      );
      const withBehaviour = items.find((d) => d.Id === first.id);
      assert.deepEqual(withBehaviour?.CacheBehaviors.Items?.[0]?.FunctionAssociations, {
        Quantity: 1,
        Items: [{ FunctionARN: 'arn:aws:cloudfront::123456789012:function/url-rewrite', EventType: 'viewer-response' }],
      });

      const described = (await aws('describe-function', '--name', 'url-rewrite', '--stage', 'LIVE')) as { ETag: string; FunctionSummary: { Status: string } };
      assert.equal(described.FunctionSummary.Status, 'DEPLOYED');
      assert.equal(described.ETag, 'ETVPDKIKX0DER');
    });
  });

  it('test-function: TestResult with logs, error message, wrapped output and utilization; stale If-Match → PreconditionFailed', async () => {
    await withEmulator({ testFunctionBudgetMs: 400 }, async (emulator) => {
      const dir = await mkdtemp(join(tmpdir(), 'emu-cli-'));
      try {
        const event = join(dir, 'event.json');
        await writeFile(
          event,
          JSON.stringify({
            version: '1.0',
            context: { eventType: 'viewer-request' },
            viewer: { ip: '198.51.100.11' },
            request: { method: 'GET', uri: '/docs/', querystring: {}, headers: {}, cookies: {} },
          }),
        );
        const ok = emulator.state.seed({
          name: 'rewrite',
          code: 'function handler(e) { console.log("uri", e.request.uri); e.request.uri += "index.html"; return e.request; }',
        });
        const thrower = emulator.state.seed({ name: 'thrower', code: 'function handler(e) { throw new Error("boom"); }' });
        const hot = emulator.state.seed({ name: 'hot', code: 'function handler(e) { var t = Date.now(); while (Date.now() - t < 340) {} return e.request; }' });
        const test = (name: string, etag: string) =>
          awsCli(emulator.endpoint, [
            'cloudfront',
            'test-function',
            '--name',
            name,
            '--if-match',
            etag,
            '--stage',
            'DEVELOPMENT',
            '--event-object',
            `fileb://${event}`,
          ]);
        type Out = {
          TestResult: {
            ComputeUtilization: string;
            FunctionExecutionLogs: string[];
            FunctionErrorMessage: string;
            FunctionOutput: string;
            FunctionSummary: { Name: string };
          };
        };

        const fine = await test('rewrite', ok.developmentEtag);
        assert.ok(fine.ok, fine.ok ? '' : fine.stderr);
        const r = (fine.out as Out).TestResult;
        assert.deepEqual(r.FunctionExecutionLogs, ['uri /docs/']);
        assert.equal(r.FunctionErrorMessage, '');
        assert.equal((JSON.parse(r.FunctionOutput) as { request: { uri: string } }).request.uri, '/docs/index.html');
        assert.equal(r.FunctionSummary.Name, 'rewrite');
        assert.ok(Number(r.ComputeUtilization) <= 25, r.ComputeUtilization);

        const thrown = await test('thrower', thrower.developmentEtag);
        assert.ok(thrown.ok);
        assert.equal((thrown.out as Out).TestResult.FunctionErrorMessage, 'boom');
        const busy = await test('hot', hot.developmentEtag);
        assert.ok(busy.ok);
        assert.ok(Number((busy.out as Out).TestResult.ComputeUtilization) > 70);

        const stale = await test('rewrite', 'E3UN6WX5RRO2AG');
        assert.ok(!stale.ok);
        assert.match(stale.stderr, /\(PreconditionFailed\) when calling the TestFunction operation/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('s3api get-object: path-style by itself (an IP endpoint), the bytes and headers; NoSuchKey, NoSuchBucket, AccessDenied', async () => {
    await withEmulator({}, async (emulator) => {
      const dir = await mkdtemp(join(tmpdir(), 'emu-cli-'));
      try {
        const body = '{"version":"1.0","context":{"eventType":"viewer-request"}}';
        emulator.state.putObject('gate-events', 'url-rewrite/viewer-request.json', body, { contentType: 'application/json' });
        emulator.state.putObject('gate-events', 'private/k.json', '{}');
        emulator.controls.setAuthorizer((r) => !(r.target ?? '').includes('/private/'));
        const out = join(dir, 'out.json');
        const get = (bucket: string, key: string) => awsCli(emulator.endpoint, ['s3api', 'get-object', '--bucket', bucket, '--key', key, out]);

        const got = await get('gate-events', 'url-rewrite/viewer-request.json');
        assert.ok(got.ok, got.ok ? '' : got.stderr);
        assert.equal(await readFile(out, 'utf8'), body);
        const meta = got.out as { ContentType: string; ContentLength: number; ETag: string };
        assert.equal(meta.ContentType, 'application/json');
        assert.equal(meta.ContentLength, body.length);
        assert.match(meta.ETag, /^"[0-9a-f]{32}"$/);

        for (const [bucket, key, code] of [
          ['gate-events', 'nope.json', 'NoSuchKey'],
          ['no-such-bucket', 'k', 'NoSuchBucket'],
          ['gate-events', 'private/k.json', 'AccessDenied'],
        ] as const) {
          const failed = await get(bucket, key);
          assert.ok(!failed.ok, code);
          assert.match(failed.stderr, new RegExp(`\\(${code}\\) when calling the GetObject operation`), code);
        }
        assert.equal(emulator.controls.calls().GetObject, 4);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
  it('s3api put-object and list-objects-v2 (paged by the CLI, keys with ":" as history keys have); a refused write fails the CLI', async () => {
    await withEmulator({}, async (emulator) => {
      const dir = await mkdtemp(join(tmpdir(), 'cli-s3put-'));
      try {
        emulator.state.createBucket('history-bucket');
        const file = join(dir, 'record.json');
        const body = JSON.stringify({ functionName: 'url-rewrite', etag: 'E1' });
        await writeFile(file, body);
        const keys = [
          '123456789012/url-rewrite/2026-01-02T03:04:05.000Z-E1.json',
          '123456789012/url-rewrite/2026-01-02T03:04:06.000Z-E2.json',
          '123456789012/other/x.json',
        ];
        for (const key of keys) {
          const put = await awsCli(emulator.endpoint, [
            's3api',
            'put-object',
            '--bucket',
            'history-bucket',
            '--key',
            key,
            '--body',
            file,
            '--content-type',
            'application/json',
          ]);
          assert.ok(put.ok, put.ok ? '' : put.stderr);
          assert.match((put.out as { ETag: string }).ETag, /^"[0-9a-f]{32}"$/);
        }
        const stored = emulator.state.objects().find((o) => o.key === keys[0]);
        assert.equal(stored?.size, body.length, 'the bytes, not an aws-chunked envelope');
        assert.equal(stored?.contentType, 'application/json');

        const listed = await awsCli(emulator.endpoint, [
          's3api',
          'list-objects-v2',
          '--bucket',
          'history-bucket',
          '--prefix',
          '123456789012/url-rewrite/',
          '--page-size',
          '1',
        ]);
        assert.ok(listed.ok, listed.ok ? '' : listed.stderr);
        assert.deepEqual(
          (listed.out as { Contents: { Key: string; Size: number }[] }).Contents.map((c) => [c.Key, c.Size]),
          [
            [keys[0], body.length],
            [keys[1], body.length],
          ],
          'both pages, keys decoded as the CLI asked (encoding-type=url)',
        );

        emulator.controls.refuseS3Writes('AccessDenied');
        const refused = await awsCli(emulator.endpoint, ['s3api', 'put-object', '--bucket', 'history-bucket', '--key', 'k', '--body', file]);
        assert.ok(!refused.ok);
        assert.match(refused.stderr, /\(AccessDenied\) when calling the PutObject operation/);
        const noBucket = await awsCli(emulator.endpoint, ['s3api', 'list-objects-v2', '--bucket', 'no-such-bucket']);
        assert.ok(!noBucket.ok);
        assert.match(noBucket.stderr, /\(NoSuchBucket\) when calling the ListObjectsV2 operation/);
        emulator.controls.refuseS3Writes(undefined);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('connection functions: create (with tags), describe by name, test (allow, deny), publish, list, tags, update, errors, list-distributions-by-connection-function', async () => {
    await withEmulator({ testFunctionBudgetMs: 400 }, async (emulator) => {
      const dir = await mkdtemp(join(tmpdir(), 'emu-cli-cf-'));
      try {
        const code = join(dir, 'gate.js');
        await writeFile(
          code,
          "function connectionHandler(connection) { var leaf = connection.clientCertificate.certificates.leaf; console.log('subject', leaf.subject); if (leaf.subject.indexOf('O=Example Corp') === -1) return connection.deny(); connection.allow(); }",
        );
        const good = join(dir, 'good.json');
        const bad = join(dir, 'bad.json');
        await writeFile(good, JSON.stringify(CONNECTION_OBJECT));
        await writeFile(bad, connectionObjectWithSubject('CN=device-17,O=Other Inc,C=US'));
        const cli = async (...args: string[]) => {
          const result = await awsCli(emulator.endpoint, ['cloudfront', ...args]);
          assert.ok(result.ok, result.ok ? '' : result.stderr);
          return result.out as Record<string, unknown>;
        };
        const created = (await cli(
          'create-connection-function',
          '--name',
          'device-gate',
          '--connection-function-config',
          'Comment=mtls,Runtime=cloudfront-js-2.0',
          '--connection-function-code',
          `fileb://${code}`,
          '--tags',
          'Items=[{Key=auto-publish,Value=true}]',
        )) as { ETag: string; Location: string; ConnectionFunctionSummary: { Id: string; ConnectionFunctionArn: string; Status: string; Stage: string } };
        const id = created.ConnectionFunctionSummary.Id;
        assert.match(id, /^cf_[0-9A-Za-z]{27}$/);
        assert.deepEqual(
          [created.ETag, created.ConnectionFunctionSummary.Status, created.ConnectionFunctionSummary.Stage],
          ['ETVPDKIKX0DER', 'UNPUBLISHED', 'DEVELOPMENT'],
        );
        assert.equal(
          created.Location,
          `https://cloudfront.amazonaws.com/2020-05-31/connection-function/${created.ConnectionFunctionSummary.ConnectionFunctionArn}`,
        );

        const described = (await cli('describe-connection-function', '--identifier', 'device-gate')) as {
          ETag: string;
          ConnectionFunctionSummary: { Id: string };
        };
        assert.deepEqual([described.ETag, described.ConnectionFunctionSummary.Id], ['ETVPDKIKX0DER', id]);

        type Result = {
          ConnectionFunctionTestResult: {
            ConnectionFunctionOutput: string;
            ConnectionFunctionExecutionLogs: string[];
            ConnectionFunctionErrorMessage: string;
            ComputeUtilization: string;
          };
        };
        const allowed = ((await cli('test-connection-function', '--id', id, '--if-match', 'ETVPDKIKX0DER', '--connection-object', `fileb://${good}`)) as Result)
          .ConnectionFunctionTestResult;
        assert.equal(allowed.ConnectionFunctionOutput, '{"decision":"allow"}');
        assert.deepEqual(allowed.ConnectionFunctionExecutionLogs, ['subject CN=device-17,O=Example Corp,C=US']);
        assert.equal(allowed.ConnectionFunctionErrorMessage, '');
        const denied = (
          (await cli(
            'test-connection-function',
            '--id',
            id,
            '--if-match',
            'ETVPDKIKX0DER',
            '--stage',
            'DEVELOPMENT',
            '--connection-object',
            `fileb://${bad}`,
          )) as Result
        ).ConnectionFunctionTestResult;
        assert.equal(denied.ConnectionFunctionOutput, '{"decision":"deny"}');

        const published = (await cli('publish-connection-function', '--id', id, '--if-match', 'ETVPDKIKX0DER')) as {
          ConnectionFunctionSummary: { Stage: string; Status: string };
        };
        assert.deepEqual([published.ConnectionFunctionSummary.Stage, published.ConnectionFunctionSummary.Status], ['LIVE', 'UNASSOCIATED']);
        const again = await awsCli(emulator.endpoint, ['cloudfront', 'publish-connection-function', '--id', id, '--if-match', 'ETVPDKIKX0DER']);
        assert.ok(!again.ok);
        assert.match(again.stderr, /\(PreconditionFailed\) when calling the PublishConnectionFunction operation/);

        const listed = (await cli('list-connection-functions', '--max-items', '1')) as {
          ConnectionFunctions: Array<{ Name: string; Stage: string }>;
          NextToken?: string;
        };
        assert.deepEqual(
          listed.ConnectionFunctions.map((f) => `${f.Name}/${f.Stage}`),
          ['device-gate/DEVELOPMENT'],
        );
        const all = (await cli('list-connection-functions', '--stage', 'LIVE')) as { ConnectionFunctions: Array<{ Id: string; Stage: string }> };
        assert.deepEqual(
          all.ConnectionFunctions.map((f) => [f.Id, f.Stage]),
          [[id, 'LIVE']],
        );

        const arn = created.ConnectionFunctionSummary.ConnectionFunctionArn;
        await cli('untag-resource', '--resource', arn, '--tag-keys', 'Items=auto-publish');
        assert.deepEqual(await cli('list-tags-for-resource', '--resource', arn), { Tags: {} });

        const updated = (await cli(
          'update-connection-function',
          '--id',
          id,
          '--if-match',
          'ETVPDKIKX0DER',
          '--connection-function-config',
          'Comment=v2,Runtime=cloudfront-js-2.0',
          '--connection-function-code',
          `fileb://${code}`,
        )) as { ETag: string; ConnectionFunctionSummary: { Status: string } };
        assert.notEqual(updated.ETag, 'ETVPDKIKX0DER');
        assert.equal(updated.ConnectionFunctionSummary.Status, 'UNPUBLISHED');

        const d = emulator.state.createDistribution({ viewerMtls: {} });
        emulator.state.associateConnectionFunction({ distributionId: d.id, connectionFunctionId: id });
        const byFunction = (await cli('list-distributions-by-connection-function', '--connection-function-identifier', id)) as {
          DistributionList: { Items: Array<{ Id: string; ConnectionFunctionAssociation: { Id: string }; ViewerMtlsConfig: { Mode: string } }> };
        };
        assert.deepEqual(
          byFunction.DistributionList.Items.map((x) => [x.Id, x.ConnectionFunctionAssociation.Id, x.ViewerMtlsConfig.Mode]),
          [[d.id, id, 'required']],
        );
        const inUse = await awsCli(emulator.endpoint, ['cloudfront', 'delete-connection-function', '--id', id, '--if-match', updated.ETag]);
        assert.ok(!inUse.ok);
        assert.match(inUse.stderr, /\(CannotDeleteEntityWhileInUse\) when calling the DeleteConnectionFunction operation/);
        const missing = await awsCli(emulator.endpoint, ['cloudfront', 'describe-connection-function', '--identifier', 'nope']);
        assert.ok(!missing.ok);
        assert.match(missing.stderr, /\(EntityNotFound\) when calling the DescribeConnectionFunction operation/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
