/**
 * History: LIVE is saved to the history bucket before every publish that replaces it. The decisions
 * (what is read, what is written, in which order, and that a refused write publishes nothing) against
 * the stateful CloudFront fake and a mocked S3; the wire and the whole flow are in test/e2e/history.test.ts.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { decide, type Observation, type Policy } from '../lib/decide';
import { historyKey, historyPrefix, parseHistoryRecord, type HistoryRecord } from '../lib/history';
import { isRetryable } from '../lib/errors';
import { ACCOUNT, arnOf, codeOf, fakeCloudFront, type FakeCloudFront } from './support/fake-cloudfront';
import { apiCall, updateEvent } from './support/events';
import { captureLogs, eventHandlerWith, lambdaContext, sweepHandlerWith, type Settings } from './support/lambda';

const BUCKET = 'autopublish-history';
const opted = { 'auto-publish': 'true' };
const HISTORY: Settings = { HISTORY_BUCKET: BUCKET, PUBLISH_GATE: 'off' };

let cf: FakeCloudFront;
let s3: { restore(): void } | undefined;
/** Each PutObject, with how many CloudFront calls had been made when it was sent. */
let puts: { key: string; record: HistoryRecord; afterCalls: number }[];

function fakeS3(refuse?: Error) {
  puts = [];
  const mock = mockClient(S3Client);
  s3 = mock;
  mock.on(PutObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string; Body?: unknown }) => {
    if (refuse) throw refuse;
    assert.equal(input.Bucket, BUCKET);
    puts.push({ key: String(input.Key), record: JSON.parse(String(input.Body)) as HistoryRecord, afterCalls: cf.calls.length });
    return {};
  });
}

afterEach(() => {
  cf?.restore();
  s3?.restore();
});

const ops = () => cf.calls.map((c) => c.op);
const invoke = (event: unknown, settings: Settings = HISTORY) => captureLogs(() => eventHandlerWith(settings)(event, lambdaContext()));

describe('decide: the history step', () => {
  const policy: Policy = { optedIn: () => true, nameAllowed: () => true, dryRun: false, gate: false, history: true };
  const dev = { etag: 'E2', status: 'UNPUBLISHED' };

  test('an UNPUBLISHED DEVELOPMENT alone does not say whether LIVE exists: LIVE is read first', () => {
    assert.deepEqual(decide('f', { tags: {}, development: dev }, policy), { kind: 'read', stage: 'LIVE' });
  });

  test('LIVE is saved, then the publish follows; a never-published function is published at once', () => {
    const seen: Observation = { tags: {}, development: dev, live: { etag: 'E1', status: 'UNASSOCIATED' } };
    assert.deepEqual(decide('f', seen, policy), { kind: 'save-history', etag: 'E2', live: 'E1' });
    assert.deepEqual(decide('f', { ...seen, saved: 'E1' }, policy), { kind: 'publish', etag: 'E2' });
    assert.deepEqual(decide('f', { ...seen, live: null }, policy), { kind: 'publish', etag: 'E2' });
  });

  test('a LIVE that changed since the save is saved again', () => {
    const seen: Observation = { tags: {}, development: dev, live: { etag: 'E1b', status: 'UNASSOCIATED' }, saved: 'E1' };
    assert.deepEqual(decide('f', seen, policy), { kind: 'save-history', etag: 'E2', live: 'E1b' });
  });

  test('a dry run and a blocked version save nothing', () => {
    const seen: Observation = { tags: {}, development: dev, live: { etag: 'E1', status: 'UNASSOCIATED' } };
    assert.deepEqual(decide('f', seen, { ...policy, dryRun: true }), { kind: 'done', action: 'would-publish', etag: 'E2' });
    const blocked = { ...seen, tested: { etag: 'E2', verdict: { passed: false, testCase: 't', reason: 'r', computeUtilization: undefined, cases: [] } } };
    assert.equal(decide('f', blocked, { ...policy, gate: true }).kind, 'done');
  });

  test('with the gate on, LIVE is read alongside the test, which history needs after a pass; not in a dry run, nor when LIVE is known', () => {
    const gated = { ...policy, gate: true };
    assert.deepEqual(decide('f', { tags: {}, development: dev }, gated), { kind: 'test', etag: 'E2', readLive: true });
    assert.deepEqual(decide('f', { tags: {}, development: dev }, { ...gated, dryRun: true }), { kind: 'test', etag: 'E2' });
    assert.deepEqual(decide('f', { tags: {}, development: dev }, { ...gated, history: false }), { kind: 'test', etag: 'E2' });
    const live = { etag: 'E1', status: 'UNASSOCIATED' };
    assert.deepEqual(decide('f', { tags: {}, development: { etag: 'E2', status: 'DEPLOYED' }, live }, gated), { kind: 'test', etag: 'E2' });
  });

  test('without history the publish needs no LIVE read', () => {
    assert.deepEqual(decide('f', { tags: {}, development: dev }, { ...policy, history: false }), { kind: 'publish', etag: 'E2' });
  });
});

describe('history on the event path', () => {
  test('LIVE is read with GetFunction and saved before the publish, naming what replaced it and who', async () => {
    cf = fakeCloudFront({ 'url-rewrite': { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3();
    const event = apiCall('UpdateFunction2020_05_31', {
      ...updateEvent('url-rewrite').detail,
      eventID: 'evt-42',
      sourceIPAddress: '198.51.100.7',
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice` },
    });
    const r = await invoke(event);
    assert.equal(r.result?.outcomes[0]?.action, 'published', String(r.error));
    assert.deepEqual(cf.publishes, [{ name: 'url-rewrite', etag: 'E2' }]);
    assert.equal(puts.length, 1);
    const [put] = puts as [(typeof puts)[number]];
    assert.ok(put.afterCalls <= ops().indexOf('PublishFunction'), 'saved before the publish was sent');
    const getFunction = cf.calls.find((c) => c.op === 'GetFunction');
    assert.equal(getFunction?.input.Stage, 'LIVE');
    assert.match(put.key, new RegExp(`^${ACCOUNT}/url-rewrite/\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z-E1\\.json$`));
    const { savedAt, ...rest } = put.record;
    assert.equal(put.key, `${ACCOUNT}/url-rewrite/${savedAt}-E1.json`);
    assert.deepEqual(rest, {
      functionName: 'url-rewrite',
      etag: 'E1',
      code: Buffer.from(codeOf('E1')).toString('base64'),
      config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreAssociations: [] },
      replacedBy: { etag: 'E2', trigger: 'UpdateFunction', actor: `arn:aws:iam::${ACCOUNT}:user/alice`, eventId: 'evt-42' },
    });
    const line = r.lines.find((l) => l.message === 'outcome');
    assert.equal(line?.history, put.key, 'the outcome line names the saved version');
    const emf = r.lines.find((l) => Array.isArray((l._aws as { CloudWatchMetrics?: unknown[] } | undefined)?.CloudWatchMetrics));
    assert.equal(emf?.['history-written'], 1, 'counted for the dashboard');
  });

  test('gate on: TestFunction and DescribeFunction(LIVE) in one round trip, then GetFunction, the save and the publish', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3();
    let inFlight = 0;
    const together: string[][] = [];
    const running = new Set<string>();
    const slow = (name: string) => async () => {
      inFlight++;
      running.add(name);
      together.push([...running]);
      await new Promise((r) => setTimeout(r, 20));
      running.delete(name);
      inFlight--;
    };
    cf.hooks.TestFunction = slow('TestFunction');
    cf.hooks.DescribeFunction = (input) => (input.Stage === 'LIVE' ? slow('LIVE')() : undefined);
    const r = await invoke(updateEvent('f'), { HISTORY_BUCKET: BUCKET });
    assert.equal(r.result?.outcomes[0]?.action, 'published', String(r.error));
    assert.ok(
      together.some((names) => names.includes('TestFunction') && names.includes('LIVE')),
      `the test and the LIVE read overlap: ${JSON.stringify(together)}`,
    );
    assert.equal(inFlight, 0);
    const sent = ops().filter((op) => op !== 'ListDistributions' && op !== 'ListFunctions');
    // Which of two concurrent calls is recorded first is up to the event loop.
    assert.deepEqual(
      [...sent.slice(0, 2).sort(), ...sent.slice(2, 4).sort(), ...sent.slice(4)],
      ['DescribeFunction', 'ListTagsForResource', 'DescribeFunction', 'TestFunction', 'GetFunction', 'PublishFunction'],
    );
    assert.equal(puts.length, 1);
    assert.equal(puts[0]?.record.etag, 'E1');
  });

  test('gate on, a blocked version: the LIVE read alongside the test is the one call too many; nothing saved or published', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1', test: () => ({ error: 'TypeError: boom' }) } });
    fakeS3();
    const r = await invoke(updateEvent('f'), { HISTORY_BUCKET: BUCKET });
    assert.equal(r.result?.outcomes[0]?.action, 'blocked', String(r.error));
    assert.equal(cf.calls.filter((c) => c.op === 'DescribeFunction' && c.input.Stage === 'LIVE').length, 1);
    assert.equal(cf.count('GetFunction'), 0);
    assert.equal(cf.count('PublishFunction'), 0);
    assert.equal(puts.length, 0);
  });

  test('a refused write publishes nothing, and the invocation fails retryably (Lambda retries it)', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const r = await invoke(updateEvent('f'));
    assert.ok(r.error instanceof Error, 'the invocation fails');
    assert.equal(isRetryable(r.error), true, 'retryable: a later try may find the bucket writable');
    assert.match((r.error as Error).message, /could not save LIVE E1 to s3:\/\/autopublish-history\/123456789012\/f\/.*-E1\.json, so it was not replaced/);
    assert.equal(cf.count('PublishFunction'), 0, 'nothing published');
    assert.deepEqual(cf.publishes, []);
  });

  test('a function never published is published with no history (no GetFunction, no PutObject)', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    fakeS3();
    const r = await invoke(updateEvent('f'));
    assert.equal(r.result?.outcomes[0]?.action, 'published');
    assert.equal(cf.count('GetFunction'), 0);
    assert.equal(puts.length, 0);
  });

  test('a dry run writes nothing', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3();
    const r = await invoke(updateEvent('f'), { ...HISTORY, DRY_RUN: 'true' });
    assert.equal(r.result?.outcomes[0]?.action, 'would-publish');
    assert.equal(cf.count('GetFunction'), 0);
    assert.equal(puts.length, 0);
  });

  test('history off (no HISTORY_BUCKET): no GetFunction, no write, the same calls as before', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3();
    await invoke(updateEvent('f'), { PUBLISH_GATE: 'off' });
    assert.deepEqual(ops(), ['ListTagsForResource', 'DescribeFunction', 'PublishFunction']);
    assert.equal(puts.length, 0);
  });

  test('LIVE published by someone else between DescribeFunction and GetFunction: decided again, and the saved code is the ETag named', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    fakeS3();
    // Someone edits and publishes after our LIVE read, then edits again.
    cf.hooks.GetFunction = (_input, n) => {
      if (n !== 1) return;
      cf.update('f');
      cf.publishAsOtherActor('f');
      cf.update('f');
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(r.result?.outcomes[0]?.action, 'published', String(r.error));
    assert.equal(puts.length, 1);
    const [put] = puts as [(typeof puts)[number]];
    assert.notEqual(put.record.etag, 'E1', 'not the ETag the first DescribeFunction saw');
    assert.equal(Buffer.from(put.record.code, 'base64').toString(), Buffer.from(codeOf(put.record.etag)).toString(), 'code and ETag of one version');
    assert.equal(put.record.replacedBy.etag, cf.publishes[0]?.etag);
  });
});

describe('history in the sweep', () => {
  test('each publish that replaces a LIVE version costs one GetFunction and one PutObject', async () => {
    cf = fakeCloudFront({
      a: { tags: opted, devEtag: 'E2', liveEtag: 'E1', status: 'UNASSOCIATED' },
      b: { tags: opted, devEtag: 'E4' },
      c: { tags: opted, devEtag: 'E5', liveEtag: 'E5' },
    });
    fakeS3();
    const r = await captureLogs(() => sweepHandlerWith(HISTORY)({}, lambdaContext()));
    assert.equal(r.error, undefined, String(r.error));
    assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['a', 'b']);
    assert.equal(cf.count('GetFunction'), 1, 'only a had a LIVE to replace');
    assert.deepEqual(
      puts.map((p) => [p.record.functionName, p.record.etag, p.record.replacedBy.trigger]),
      [['a', 'E1', 'sweep']],
    );
  });
});

describe('history keys and records', () => {
  test('keys sit under the account of the function ARN; an ARN that is not the function’s is refused', () => {
    assert.equal(historyKey({ name: 'f', arn: arnOf('f') }, '2026-01-02T03:04:05.000Z', 'E1'), `${ACCOUNT}/f/2026-01-02T03:04:05.000Z-E1.json`);
    assert.equal(historyPrefix({ name: 'f', arn: 'arn:aws:cloudfront::210987654321:function/f' }), '210987654321/f/');
    assert.throws(() => historyPrefix({ name: 'f', arn: arnOf('g') }), /not its function ARN/);
    assert.throws(() => historyPrefix({ name: 'f', arn: '' }), /not its function ARN/);
  });

  test('a saved object that is not a record is named, field by field', () => {
    const good = {
      functionName: 'f',
      etag: 'E1',
      code: 'YQ==',
      config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreAssociations: [] },
      replacedBy: { etag: 'E2', trigger: 'sweep' },
      savedAt: '2026-01-02T03:04:05.000Z',
    };
    assert.deepEqual(parseHistoryRecord(JSON.stringify(good), 'k'), good);
    assert.throws(() => parseHistoryRecord('nope', 'k'), /k is not JSON/);
    assert.throws(() => parseHistoryRecord(JSON.stringify({ ...good, code: '<script>' }), 'k'), /"code" is not base64/);
    assert.throws(() => parseHistoryRecord(JSON.stringify({ ...good, config: { comment: '' } }), 'k'), /needs a comment and a runtime/);
    assert.throws(() => parseHistoryRecord(JSON.stringify({ ...good, replacedBy: {} }), 'k'), /"replacedBy" needs/);
  });
});

// A CloudFront refusal of GetFunction is the reconciler's own problem (IAM), not the bucket's: not retried.
test('GetFunction refused: nothing published, and the failure names the call', async () => {
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  fakeS3();
  cf.hooks.GetFunction = () => {
    throw new AccessDenied({ message: 'not authorized to perform: cloudfront:GetFunction', $metadata: { httpStatusCode: 403 } });
  };
  const r = await invoke(updateEvent('f'));
  assert.equal(cf.count('PublishFunction'), 0);
  assert.match(String(r.error ?? r.result), /GetFunction/);
});
