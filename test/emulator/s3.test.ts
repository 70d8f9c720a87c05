// The emulated S3 GetObject (path-style, on the CloudFront emulator's endpoint) through the real
// @aws-sdk/client-s3: bodies and headers, S3's own error codes, the authorizer, the HTTP control
// routes, and what does not apply to it (CloudFront's rate limit, CloudTrail).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startEmulator, type Emulator } from '../../emulator';
import { errorOf } from './helpers';

function s3For(emulator: Emulator, accessKeyId = 'AKIDEXAMPLE'): S3Client {
  return new S3Client({
    endpoint: emulator.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'not-checked' },
    maxAttempts: 1,
  });
}

describe('S3 GetObject through @aws-sdk/client-s3', () => {
  let emulator: Emulator;
  let s3: S3Client;
  const get = (Bucket: string, Key: string) => s3.send(new GetObjectCommand({ Bucket, Key }));

  before(async () => {
    emulator = await startEmulator();
    s3 = s3For(emulator);
  });
  after(async () => {
    s3.destroy();
    await emulator.close();
  });
  beforeEach(() => {
    emulator.state.reset();
    emulator.controls.setAuthorizer(undefined);
    emulator.controls.setRateLimit(undefined);
    emulator.controls.resetCalls();
  });

  it('returns the bytes with their content type, length, ETag and Last-Modified', async () => {
    const event = '{"version":"1.0","context":{"eventType":"viewer-request"}}';
    const { etag } = emulator.state.putObject('gate-events', 'url-rewrite/viewer-request.json', event, { contentType: 'application/json' });
    const out = await get('gate-events', 'url-rewrite/viewer-request.json');
    assert.equal(await out.Body?.transformToString(), event);
    assert.equal(out.ContentType, 'application/json');
    assert.equal(out.ContentLength, Buffer.byteLength(event));
    assert.equal(out.ETag, etag);
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    assert.ok(out.LastModified instanceof Date);
    assert.equal(out.$metadata.httpStatusCode, 200);
  });

  it('keys with slashes, spaces and non-ASCII; binary bodies; the default content type; a replaced object', async () => {
    const bytes = new Uint8Array([0, 255, 1, 254, 10, 13]);
    emulator.state.putObject('bucket-1', 'a dir/ü/é.bin', bytes);
    const out = await get('bucket-1', 'a dir/ü/é.bin');
    assert.deepEqual(await out.Body?.transformToByteArray(), bytes);
    assert.equal(out.ContentType, 'binary/octet-stream');
    emulator.state.putObject('bucket-1', 'a dir/ü/é.bin', 'v2', { contentType: 'text/plain' });
    assert.equal(await (await get('bucket-1', 'a dir/ü/é.bin')).Body?.transformToString(), 'v2');
  });

  it('a missing key → NoSuchKey 404, a missing bucket → NoSuchBucket 404, as S3ServiceExceptions', async () => {
    emulator.state.putObject('bucket-1', 'k', 'x');
    const noKey = await errorOf(() => get('bucket-1', 'nope'));
    assert.ok(noKey instanceof S3ServiceException);
    assert.equal(noKey.name, 'NoSuchKey');
    assert.equal(noKey.$metadata?.httpStatusCode, 404);
    assert.equal(noKey.message, 'The specified key does not exist.');
    const noBucket = await errorOf(() => get('bucket-2', 'k'));
    assert.equal(noBucket.name, 'NoSuchBucket');
    assert.equal(noBucket.$metadata?.httpStatusCode, 404);
    emulator.state.deleteObject('bucket-1', 'k');
    assert.equal((await errorOf(() => get('bucket-1', 'k'))).name, 'NoSuchKey');
    emulator.state.deleteBucket('bucket-1');
    assert.equal((await errorOf(() => get('bucket-1', 'k'))).name, 'NoSuchBucket');
  });

  it('AccessDenied 403: from the authorizer (operation GetObject, target the object ARN), or a missing key for a reader without s3:ListBucket', async () => {
    emulator.state.putObject('bucket-1', 'open/k', 'x');
    emulator.state.putObject('bucket-1', 'secret/k', 'x');
    const seen: Array<[string, string | undefined, string]> = [];
    emulator.controls.setAuthorizer((r) => {
      seen.push([r.operation, r.target, r.actor]);
      return !(r.target ?? '').includes('/secret/');
    });
    assert.equal(await (await get('bucket-1', 'open/k')).Body?.transformToString(), 'x');
    const denied = await errorOf(() => get('bucket-1', 'secret/k'));
    assert.equal(denied.name, 'AccessDenied');
    assert.equal(denied.$metadata?.httpStatusCode, 403);
    assert.deepEqual(seen[1], ['GetObject', 'arn:aws:s3:::bucket-1/secret/k', 'AKIDEXAMPLE']);
    emulator.controls.setAuthorizer(undefined);

    emulator.state.createBucket('bucket-1', { missingKey: 'AccessDenied' });
    assert.equal((await errorOf(() => get('bucket-1', 'nope'))).name, 'AccessDenied');
    assert.equal(await (await get('bucket-1', 'open/k')).Body?.transformToString(), 'x', 'existing objects still readable');
  });

  it('HeadObject answers the headers; a missing key → NotFound 404 (no body on HEAD)', async () => {
    emulator.state.putObject('bucket-1', 'k', 'hello', { contentType: 'text/plain' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'bucket-1', Key: 'k' }));
    assert.equal(head.ContentLength, 5);
    assert.equal(head.ContentType, 'text/plain');
    const missing = await errorOf(() => s3.send(new HeadObjectCommand({ Bucket: 'bucket-1', Key: 'nope' })));
    assert.equal(missing.name, 'NotFound');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
  });

  it('PutObject into an existing bucket, read back; ListObjectsV2 by prefix, paged; a refused write and a missing bucket fail', async () => {
    emulator.state.createBucket('bucket-1');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'bucket-1', Key: 'a/2026-01-02T03:04:05.000Z-E1.json', Body: '{"x":1}', ContentType: 'application/json' }),
    );
    assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
    await s3.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'a/2', Body: 'two' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'b/3', Body: 'three' }));
    const got = await get('bucket-1', 'a/2026-01-02T03:04:05.000Z-E1.json');
    assert.equal(await got.Body?.transformToString(), '{"x":1}', 'the bytes, whatever checksum or encoding the SDK chose');
    assert.equal(got.ContentType, 'application/json');

    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'bucket-1', Prefix: 'a/', MaxKeys: 1 }));
    assert.deepEqual(
      first.Contents?.map((c) => c.Key),
      ['a/2'],
      'UTF-8 binary order: "a/2" sorts before "a/2026…", its extension',
    );
    assert.equal(first.IsTruncated, true);
    const second = await s3.send(new ListObjectsV2Command({ Bucket: 'bucket-1', Prefix: 'a/', MaxKeys: 1, ContinuationToken: first.NextContinuationToken }));
    assert.deepEqual(
      second.Contents?.map((c) => [c.Key, c.Size]),
      [['a/2026-01-02T03:04:05.000Z-E1.json', 7]],
    );
    assert.equal(second.IsTruncated, false);

    emulator.controls.refuseS3Writes('ServiceUnavailable');
    const refused = await errorOf(() => s3.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: 'k', Body: 'x' })));
    assert.equal(refused.name, 'ServiceUnavailable');
    assert.equal(refused.$metadata?.httpStatusCode, 503);
    assert.equal(await (await get('bucket-1', 'a/2')).Body?.transformToString(), 'two', 'reads go on');
    emulator.controls.refuseS3Writes(undefined);
    const noBucket = await errorOf(() => s3.send(new PutObjectCommand({ Bucket: 'bucket-2', Key: 'k', Body: 'x' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
    assert.equal(emulator.controls.calls().PutObject, 5);
    assert.equal(emulator.controls.calls().ListObjectsV2, 2);
  });

  it('other S3 operations → NotImplemented 501', async () => {
    const error = await errorOf(() => s3.send(new DeleteObjectCommand({ Bucket: 'bucket-1', Key: 'k' })));
    assert.equal(error.name, 'NotImplemented');
    assert.equal(error.$metadata?.httpStatusCode, 501);
  });

  it('counted per operation; not throttled by the CloudFront rate limit; no CloudTrail event', async () => {
    emulator.state.putObject('bucket-1', 'k', 'x');
    emulator.controls.setRateLimit({ ratePerSecond: 0.001, burst: 1 });
    emulator.clearCloudTrailEvents();
    for (let i = 0; i < 3; i++) await get('bucket-1', 'k');
    await errorOf(() => get('bucket-1', 'nope'));
    assert.equal(emulator.controls.calls().GetObject, 4);
    assert.deepEqual(emulator.cloudTrailEvents(), []);
  });

  it('the store rejects invalid bucket names and the one name CloudFront shadows; reset empties it', () => {
    for (const bad of ['B1', 'a', 'has_underscore', '192.168.0.1', 'a..b', '2020-05-31']) {
      assert.throws(() => emulator.state.putObject(bad, 'k', 'x'), RangeError, bad);
    }
    assert.throws(() => emulator.state.putObject('bucket-1', '', 'x'), RangeError);
    emulator.state.putObject('bucket-1', 'k', 'x');
    assert.equal(emulator.state.objects().length, 1);
    emulator.state.reset();
    assert.deepEqual(emulator.state.objects(), []);
  });

  it('over HTTP: PUT /_emulator/s3/{bucket}/{key} keeps bytes and Content-Type, GET lists, DELETE removes, bucket options by PUT /_emulator/s3/{bucket}', async () => {
    const base = `${emulator.endpoint}/_emulator/s3`;
    const put = await fetch(`${base}/bucket-1/events/a%20b.json`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' });
    assert.equal(put.status, 200);
    const created = (await put.json()) as { etag: string; size: number; contentType: string };
    assert.equal(created.size, 7);
    const out = await get('bucket-1', 'events/a b.json');
    assert.equal(await out.Body?.transformToString(), '{"a":1}');
    assert.equal(out.ContentType, 'application/json');
    assert.equal(out.ETag, created.etag);
    const listed = (await (await fetch(base)).json()) as Array<{ bucket: string; key: string }>;
    assert.deepEqual(
      listed.map((o) => [o.bucket, o.key]),
      [['bucket-1', 'events/a b.json']],
    );
    assert.equal((await fetch(`${base}/bucket-1/events/a%20b.json`, { method: 'DELETE' })).status, 204);
    assert.equal((await errorOf(() => get('bucket-1', 'events/a b.json'))).name, 'NoSuchKey');
    assert.equal((await fetch(`${base}/bucket-1`, { method: 'PUT', body: '{"missingKey":"AccessDenied"}' })).status, 200);
    assert.equal((await errorOf(() => get('bucket-1', 'events/a b.json'))).name, 'AccessDenied');
    const bad = await fetch(`${base}/Not_A_Bucket/k`, { method: 'PUT', body: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'InvalidRequest');
    assert.equal((await fetch(`${base}/bucket-1`, { method: 'PUT', body: '{"missingKey":"Maybe"}' })).status, 400);
  });

  it('S3 paths leave the CloudFront API alone: an unknown /2020-05-31/ route is still CloudFront UnsupportedOperation', async () => {
    const res = await fetch(`${emulator.endpoint}/2020-05-31/cache-policy`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>UnsupportedOperation<\/Code>/);
    const s3Error = await fetch(`${emulator.endpoint}/nobucket/k`);
    assert.equal(s3Error.status, 404);
    assert.match(
      await s3Error.text(),
      /^<\?xml[^>]*>\n<Error><Code>NoSuchBucket<\/Code><Message>[^<]+<\/Message><BucketName>nobucket<\/BucketName><RequestId>/,
    );
  });
});
