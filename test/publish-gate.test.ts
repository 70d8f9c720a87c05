/**
 * The publish gate on the event path and in the sweep, against the stateful fake: what is tested is
 * exactly what goes live, what fails is blocked (a verdict, not a fault), and every item of the
 * contract (event types, the user's own cases, fail-closed reading, 412s, dry run, settings).
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { fakeCloudFront, type FakeCloudFront, type FakeFunction } from './support/fake-cloudfront';
import { updateEvent } from './support/events';
import { captureLogs, eventHandlerWith, lambdaContext, type Settings, sweepHandlerWith } from './support/lambda';
import { ConfigError, loadConfig } from '../lib/config';
import type { EventSummary } from '../handlers/on-function-change';

const opted = { 'auto-publish': 'true' };
const throws = () => ({ error: 'TypeError: Cannot read properties of undefined (reading "value")' });
const s3 = mockClient(S3Client);
const eb = mockClient(EventBridgeClient);
let cf: FakeCloudFront;
let settings: Settings = {};
const invoke = (name = 'f') => captureLogs<EventSummary>(async () => eventHandlerWith(settings)(updateEvent(name), lambdaContext()));
const outcomeOf = (r: { result?: EventSummary }) => r.result?.outcomes[0];
const tested = () =>
  cf.calls
    .filter((c) => c.op === 'TestFunction')
    .map((c) => JSON.parse(new TextDecoder().decode(c.input.EventObject as Uint8Array)).context.eventType as string);
const s3Object = (text: string) => ({ Body: { transformToString: async () => text } }) as never;

beforeEach(() => {
  settings = {};
  s3.reset();
  eb.reset();
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});
afterEach(() => cf.restore());

function world(f: Partial<FakeFunction>) {
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1', ...f } });
}

test('a function that throws is blocked: not published, the invocation succeeds, the reason names the case', async () => {
  settings = { EVENT_BUS_NAME: 'platform' };
  world({ test: throws });
  const r = await invoke();
  assert.equal(r.error, undefined, 'a block is a verdict, not a fault');
  const outcome = outcomeOf(r);
  assert.equal(outcome?.action, 'blocked');
  assert.equal(cf.count('PublishFunction'), 0);
  assert.equal(cf.functions.get('f')?.liveEtag, 'E1', 'the old code stays live');
  assert.match(
    outcome?.blocked?.reason ?? '',
    /^no event type passed: smoke viewer-request: the function threw: TypeError.*; smoke viewer-response: the function threw/,
  );
  const line = r.lines.find((l) => l.message === 'outcome');
  assert.equal(line?.action, 'blocked');
  assert.equal(typeof line?.testCase, 'string');
  assert.ok('computeUtilization' in (line ?? {}));
  assert.equal(line?.level, 'WARN');
  assert.ok(
    r.lines.some((l) => l.blocked === 1),
    'counted in an EMF metric',
  );
  const entry = eb.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
  assert.equal(entry?.DetailType, 'CloudFront Function Publish Blocked');
  const detail = JSON.parse(entry?.Detail ?? '{}');
  // eventId: the CloudTrail record behind it (issue 18, audit).
  assert.deepEqual(Object.keys(detail).sort(), [
    'computeUtilization',
    'dryRun',
    'etag',
    'eventId',
    'functionArn',
    'functionName',
    'reason',
    'testCase',
    'trigger',
  ]);
  assert.equal(detail.etag, 'E2');
});

test('TestFunction runs on DEVELOPMENT with IfMatch = the ETag that is then published', async () => {
  world({});
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'published');
  const call = cf.calls.find((c) => c.op === 'TestFunction');
  assert.equal(call?.input.Stage, 'DEVELOPMENT');
  assert.equal(call?.input.IfMatch, 'E2');
  assert.deepEqual(cf.publishes, [{ name: 'f', etag: 'E2' }]);
});

test('ComputeUtilization above PUBLISH_GATE_MAX_COMPUTE (default 70) blocks; a higher maximum lets it through', async () => {
  world({ test: () => ({ utilization: '80' }) });
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'blocked');
  assert.match(outcomeOf(r)?.blocked?.reason ?? '', /ComputeUtilization 80 is above the maximum 70/);
  assert.equal(outcomeOf(r)?.blocked?.computeUtilization, 80);
  cf.restore();
  settings = { PUBLISH_GATE_MAX_COMPUTE: '90' };
  world({ test: () => ({ utilization: '80' }) });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
});

test('dry run: the gate runs too, and the outcome is would-publish or blocked; nothing is published', async () => {
  settings = { DRY_RUN: 'true' };
  world({});
  assert.equal(outcomeOf(await invoke())?.action, 'would-publish');
  assert.equal(cf.count('TestFunction'), 1);
  cf.restore();
  world({ test: throws });
  assert.equal(outcomeOf(await invoke())?.action, 'blocked');
  assert.equal(cf.count('PublishFunction'), 0);
});

test('the event type is what the distributions run it on: a tag naming another type blocks, saying why', async () => {
  // Associated as viewer-request, tagged viewer-response, throwing on every request: never live.
  const requestThrows: FakeFunction['test'] = (e) => (e.context?.eventType === 'viewer-request' ? throws() : {});
  world({ tags: { ...opted, 'auto-publish-event-type': 'viewer-response' }, associations: ['viewer-request'], test: requestThrows });
  const mislabelled = await invoke();
  assert.equal(outcomeOf(mislabelled)?.action, 'blocked');
  assert.equal(cf.count('PublishFunction'), 0);
  assert.equal(
    outcomeOf(mislabelled)?.blocked?.reason,
    'tag auto-publish-event-type="viewer-response" names an event type no distribution runs it on: the distributions associate it as viewer-request',
  );
  assert.equal(outcomeOf(mislabelled)?.blocked?.testCase, 'auto-publish-event-type');
  cf.restore();
  // A tag that agrees with the associations changes nothing: the associated type is tested.
  world({ tags: { ...opted, 'auto-publish-event-type': 'viewer-request' }, associations: ['viewer-request', 'viewer-response'] });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.deepEqual(tested(), ['viewer-request', 'viewer-response']);
  cf.restore();
  // Used by no distribution: the tag says which type, and only that one is tested.
  world({ tags: { ...opted, 'auto-publish-event-type': 'viewer-response' }, test: requestThrows });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.deepEqual(tested(), ['viewer-response']);
});

test('a case file that covers only one type does not cover the other: each associated type passes by its own cases, else by the smoke event', async () => {
  settings = { TEST_CASES_BUCKETS: 'edge-tests' };
  const cases = [
    {
      name: 'adds hsts',
      eventType: 'viewer-response',
      event: { context: { eventType: 'viewer-response' }, response: { headers: {} } },
      expect: { response: { statusCode: 200 } },
    },
  ];
  s3.on(GetObjectCommand, { Bucket: 'edge-tests', Key: 'f.json' }).resolves(s3Object(JSON.stringify(cases)));
  const answers: FakeFunction['test'] = (e) =>
    e.context?.eventType === 'viewer-request' ? throws() : { output: JSON.stringify({ response: { statusCode: 200 } }) };
  world({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }, associations: ['viewer-request'], test: answers });
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'blocked');
  assert.equal(outcomeOf(r)?.blocked?.testCase, 'smoke viewer-request');
  assert.deepEqual(tested(), ['viewer-response', 'viewer-request'], "the user's case, then the smoke event for the type it does not cover");
  cf.restore();
  // Associated as viewer-response only: the user's case covers it, and no smoke event is added.
  world({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }, associations: ['viewer-response'], test: answers });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.equal(cf.count('TestFunction'), 1);
});

test('the event type: the associations; a function no distribution uses passes when either event passes', async () => {
  // Associated on both: both must pass.
  world({ associations: ['viewer-request', 'viewer-response'], test: (e) => (e.context?.eventType === 'viewer-response' ? throws() : {}) });
  const both = await invoke();
  assert.equal(outcomeOf(both)?.action, 'blocked');
  assert.deepEqual(tested(), ['viewer-request', 'viewer-response']);
  cf.restore();
  // Used by no distribution: a request handler that cannot handle a response event still passes.
  world({ test: (e) => (e.context?.eventType === 'viewer-response' ? throws() : {}) });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  cf.restore();
  world({ test: (e) => (e.context?.eventType === 'viewer-request' ? throws() : {}) });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.deepEqual(tested(), ['viewer-request', 'viewer-response']);
  cf.restore();
  world({ tags: { ...opted, 'auto-publish-event-type': 'origin-request' } });
  const bad = await invoke();
  assert.equal(outcomeOf(bad)?.action, 'blocked');
  assert.match(outcomeOf(bad)?.blocked?.reason ?? '', /auto-publish-event-type="origin-request" is not viewer-request or viewer-response/);
});

test("the function's own cases from S3 replace the smoke events; expect is a partial deep match, error: true expects a throw", async () => {
  settings = { TEST_CASES_BUCKETS: 'edge-tests' };
  const cases = [
    { name: 'redirects http', event: { context: { eventType: 'viewer-request' }, request: { uri: '/old' } }, expect: { response: { statusCode: 302 } } },
    { name: 'rejects garbage', eventType: 'viewer-request', event: { request: {} }, error: true },
  ];
  s3.on(GetObjectCommand, { Bucket: 'edge-tests', Key: 'f.json' }).resolves(s3Object(JSON.stringify(cases)));
  const redirect = (e: { request?: { uri?: string } }) =>
    e.request?.uri === '/old' ? { output: JSON.stringify({ response: { statusCode: 302, statusDescription: 'Found' } }) } : { error: 'Error: bad' };
  world({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }, test: redirect as FakeFunction['test'] });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.equal(cf.count('TestFunction'), 2);
  cf.restore();
  world({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }, test: () => ({ output: JSON.stringify({ response: { statusCode: 301 } }) }) });
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'blocked');
  assert.match(outcomeOf(r)?.blocked?.reason ?? '', /^redirects http: expect failed at \.response\.statusCode \(expected and got a number, not equal\)/);
  assert.equal(outcomeOf(r)?.blocked?.testCase, 'redirects http');
});

test('fail closed: a bucket not listed, an unreadable object, or invalid JSON blocks, saying which', async () => {
  settings = { TEST_CASES_BUCKETS: 'edge-tests' };
  s3.on(GetObjectCommand, { Key: 'missing.json' }).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
  s3.on(GetObjectCommand, { Key: 'broken.json' }).resolves(s3Object('[{"name": '));
  for (const [url, reason] of [
    ['s3://other-bucket/f.json', /bucket other-bucket is not in TEST_CASES_BUCKETS/],
    ['s3://edge-tests/missing.json', /s3:\/\/edge-tests\/missing.json cannot be read \(NoSuchKey\)/],
    ['s3://edge-tests/broken.json', /s3:\/\/edge-tests\/broken.json: not valid JSON/],
    ['https://example.com/f.json', /is not an s3:\/\/BUCKET\/KEY URL/],
  ] as const) {
    world({ tags: { ...opted, 'auto-publish-tests': url } });
    const r = await invoke();
    assert.equal(outcomeOf(r)?.action, 'blocked', url);
    assert.match(outcomeOf(r)?.blocked?.reason ?? '', reason);
    assert.equal(cf.count('TestFunction'), 0);
    assert.equal(cf.count('PublishFunction'), 0);
    cf.restore();
  }
  assert.equal(s3.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Bucket === 'other-bucket').length, 0, 'an unlisted bucket is never read');
  // With no bucket listed at all, the tag still blocks (fail closed), and S3 is never called.
  settings = {};
  world({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' } });
  assert.equal(outcomeOf(await invoke())?.action, 'blocked');
});

test('TestFunction answered 412 (DEVELOPMENT changed under us): re-read, test the new version, publish that one', async () => {
  world({});
  cf.hooks.TestFunction = (_input, n) => {
    if (n === 1) cf.update('f');
  };
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'published');
  const fresh = cf.functions.get('f')?.devEtag;
  const tests = cf.calls.filter((c) => c.op === 'TestFunction').map((c) => c.input.IfMatch);
  assert.deepEqual(tests, ['E2', fresh]);
  assert.deepEqual(cf.publishes, [{ name: 'f', etag: fresh }], 'only the version that passed its own test goes live');
});

test('throttling that persists on TestFunction fails the invocation (retryable), and nothing is published', async () => {
  world({});
  cf.hooks.TestFunction = () => {
    throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
  };
  const r = await invoke();
  assert.ok(r.error instanceof Error);
  assert.equal((r.error as { retryable?: boolean }).retryable, true);
  assert.equal(r.lines.find((l) => l.message === 'outcome')?.action, 'failed');
  assert.equal(cf.count('PublishFunction'), 0);
});

test('in the sweep: a blocked function does not fail the sweep; the others are published; associations are read once', async () => {
  cf = fakeCloudFront({
    good: { tags: opted, devEtag: 'E2', liveEtag: 'E1' },
    bad: { tags: opted, devEtag: 'E2', liveEtag: 'E1', test: throws },
    also: { tags: opted, devEtag: 'E2', liveEtag: 'E1', associations: ['viewer-request'] },
  });
  const r = await captureLogs(async () => sweepHandlerWith({})({ source: 'aws.events' }, lambdaContext()));
  assert.equal(r.error, undefined);
  assert.deepEqual(cf.publishes.map((p) => p.name).sort(), ['also', 'good']);
  assert.equal(cf.count('ListDistributions'), 1);
});

test('PUBLISH_GATE=off publishes untested; the settings refuse what they cannot parse', () => {
  assert.equal(loadConfig({}).publishGate, 'smoke');
  assert.equal(loadConfig({}).maxComputeUtilization, 70);
  assert.deepEqual(loadConfig({ TEST_CASES_BUCKETS: 'a-bucket, b.bucket' }).testCasesBuckets, ['a-bucket', 'b.bucket']);
  for (const [variable, value] of [
    ['PUBLISH_GATE', 'strict'],
    ['PUBLISH_GATE_MAX_COMPUTE', '0'],
    ['PUBLISH_GATE_MAX_COMPUTE', '101'],
    ['PUBLISH_GATE_MAX_COMPUTE', '7.5'],
    ['TEST_CASES_BUCKETS', 'Not_A_Bucket'],
    ['TEST_CASES_BUCKETS', ','],
  ] as const) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (e: unknown) => e instanceof ConfigError && e.variable === variable,
      `${variable}=${value}`,
    );
  }
});

test('a TestFunction answer without ComputeUtilization is asked again (twice at most); still none blocks', async () => {
  let answers = 0;
  world({ test: () => ({ utilization: ++answers < 2 ? '' : '9' }) });
  assert.equal(outcomeOf(await invoke())?.action, 'published');
  assert.equal(cf.count('TestFunction'), 2, 'the request event, unmeasured once, then 9: that settles the group of alternatives');
  cf.restore();
  world({ test: () => ({ utilization: '' }), tags: { ...opted, 'auto-publish-event-type': 'viewer-request' } });
  const r = await invoke();
  assert.equal(outcomeOf(r)?.action, 'blocked');
  assert.equal(cf.count('TestFunction'), 3);
  assert.match(outcomeOf(r)?.blocked?.reason ?? '', /ComputeUtilization "" is not a number/);
});

test("a case's token never reaches the warn line or the Publish Blocked announcement: types and lengths, a masked first line", async () => {
  settings = { EVENT_BUS_NAME: 'platform', TEST_CASES_BUCKETS: 'edge-tests' };
  const token = 'Bearer 6b1f0c9e8d7a4b3c2d1e0f9a8b7c6d5e';
  const cases = [
    {
      name: 'keeps auth',
      eventType: 'viewer-request',
      event: { request: { headers: { authorization: { value: token } } } },
      expect: { request: { headers: { authorization: { value: token } } } },
    },
  ];
  s3.on(GetObjectCommand, { Bucket: 'edge-tests', Key: 'auth.json' }).resolves(s3Object(JSON.stringify(cases)));
  const tags = { ...opted, 'auto-publish-tests': 's3://edge-tests/auth.json' };
  const authorizationOf = (e: unknown) => (e as { request?: { headers?: { authorization?: { value?: string } } } }).request?.headers?.authorization?.value;
  // Echoes the header back, mangled: the expect fails on a value that holds most of the token.
  world({
    tags,
    test: (e) => ({ output: JSON.stringify({ request: { headers: { authorization: { value: `${authorizationOf(e)}x` } } } }) }),
  });
  const mismatch = await invoke();
  // Throws with the header in its message, then a stack.
  cf.restore();
  world({ tags, test: (e) => ({ error: `Error: rejected ${authorizationOf(e)} for session=abc123\n    at handler (function.js:4:9)` }) });
  const thrown = await invoke();
  assert.equal(
    outcomeOf(mismatch)?.blocked?.reason,
    `keeps auth: expect failed at .request.headers.authorization.value (expected a string of ${token.length} characters, got a string of ${token.length + 1} characters)`,
  );
  assert.equal(outcomeOf(thrown)?.blocked?.reason, 'keeps auth: the function threw: Error: rejected Bearer *** for session=***');
  const written = JSON.stringify([...mismatch.lines, ...thrown.lines, ...eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input)]);
  assert.equal(eb.commandCalls(PutEventsCommand).length, 2);
  assert.ok(!written.includes('6b1f0c9e8d7a'), 'no part of the token in a log line or an announcement');
  assert.ok(!written.includes('abc123'));
});

test('a key with "." or ".." segments, a backslash, or escapes that decode to them blocks before any S3 read', async () => {
  settings = { TEST_CASES_BUCKETS: 'edge-tests' };
  s3.on(GetObjectCommand).resolves(s3Object('[{"name":"x","eventType":"viewer-request","event":{}}]'));
  for (const key of [
    'team/../other/f.json',
    './f.json',
    'team/.',
    'team\\f.json',
    'team/%2E%2E/other/f.json',
    'team%2f%2e%2e%2ff.json',
    'team%5cf.json',
    'team/%E0%A4%A.json',
  ]) {
    world({ tags: { ...opted, 'auto-publish-tests': `s3://edge-tests/${key}` } });
    const r = await invoke();
    assert.equal(outcomeOf(r)?.action, 'blocked', key);
    assert.match(
      outcomeOf(r)?.blocked?.reason ?? '',
      /^s3:\/\/edge-tests: key ".*" (holds a "\." or "\.\." segment|holds a backslash|has a percent-escape)/,
      key,
    );
    assert.equal(cf.count('TestFunction'), 0);
    cf.restore();
  }
  assert.equal(s3.commandCalls(GetObjectCommand).length, 0, 'never read');
});

test('the S3 read of the cases has a timeout: a read that never answers fails the gate (retryable) instead of hanging', { timeout: 10_000 }, async () => {
  const { createPublishGate, TestCasesReadTimeoutError } = await import('../lib/publish-gate');
  const { s3Gateway } = await import('../lib/s3-gateway');
  const { cloudFrontGateway, createCloudFrontClient } = await import('../lib/cloudfront-gateway');
  s3.on(GetObjectCommand).callsFake(() => new Promise(() => undefined));
  world({});
  const gate = createPublishGate(
    cloudFrontGateway(createCloudFrontClient({ credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } })),
    s3Gateway(new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } })),
    { maxCompute: 70, testCasesBuckets: ['edge-tests'], readTimeoutMs: 200 },
  );
  const started = Date.now();
  await assert.rejects(
    gate.test({ name: 'f', arn: 'arn:aws:cloudfront::123456789012:function/f' }, 'E2', { ...opted, 'auto-publish-tests': 's3://edge-tests/f.json' }),
    (e: unknown) => e instanceof TestCasesReadTimeoutError && e.retryable && /s3:\/\/edge-tests\/f\.json took over 200 ms/.test(e.message),
  );
  assert.ok(Date.now() - started < 5_000);
  assert.equal(cf.count('TestFunction'), 0);
});
