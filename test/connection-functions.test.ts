/**
 * Connection functions, the reconciler's half: the same promise (LIVE = DEVELOPMENT for every opted-in
 * function) for CloudFront's second kind of function, through the same reconcile, sweep, gate and
 * history. Decisions are checked against the stateful fake (test/support/fake-cloudfront.ts); the wire
 * protocol belongs to the emulator's tests.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudFrontClient,
  DescribeConnectionFunctionCommand,
  EntityNotFound,
  InvalidIfMatchVersion,
  ListConnectionFunctionsCommand,
  PreconditionFailed,
  PublishConnectionFunctionCommand,
  TestConnectionFunctionCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { S3Client } from '@aws-sdk/client-s3';
import { ACCOUNT, arnOf, connectionArnOf, type FakeCloudFront, type FakeConnectionFunction, fakeCloudFront } from './support/fake-cloudfront';
import { apiCall, tagEvent, updateEvent } from './support/events';
import { captureLogs, eventHandlerWith, lambdaContext, type Settings, sweepHandlerWith, TEST_CREDENTIALS } from './support/lambda';
import type { EventSummary } from '../handlers/on-function-change';
import type { SweepSummary } from '../lib/sweep';
import { BadEventError, interpretEvent } from '../lib/cloudtrail';
import { cloudFrontGateway, createCloudFrontClient } from '../lib/cloudfront-gateway';
import { connectionDecision, judgeCase, parseTestCases, smokeCase, smokeConnectionEvent, type TestCase, type TestResult, TestCasesError } from '../lib/gate';
import { historyKey, historyPrefix, historyStore } from '../lib/history';
import type { FunctionRef } from '../lib/function-ref';
import type { S3Gateway } from '../lib/s3-gateway';

const opted = { 'auto-publish': 'true' };
const ID = 'E3CF0A1B2C3D4E';
const connection = (f: Partial<FakeConnectionFunction> = {}): Record<string, FakeConnectionFunction> => ({
  [ID]: { name: 'mtls-check', tags: opted, devEtag: 'E2', liveEtag: 'E1', ...f },
});

let cf: FakeCloudFront | undefined;
let settings: Settings = {};
beforeEach(() => {
  settings = {};
});
afterEach(() => {
  cf?.restore();
  cf = undefined;
});

const invoke = (event: unknown) => captureLogs<EventSummary>(async () => eventHandlerWith(settings)(event, lambdaContext()));
const sweepNow = () => captureLogs<SweepSummary>(async () => sweepHandlerWith(settings)({}, lambdaContext(300_000)));
const ops = () => (cf as FakeCloudFront).calls.map((c) => c.op);
const connectionEvent = (eventName: string, requestParameters: unknown, responseElements: unknown = null, envelope: Record<string, unknown> = {}) =>
  apiCall(eventName, { requestParameters, responseElements }, envelope);
const summaryOf = (fields: Record<string, unknown>) => ({ connectionFunctionSummary: { status: 'UNPUBLISHED', stage: 'DEVELOPMENT', ...fields }, eTag: 'E2' });

describe('connection functions: reading CloudTrail records', () => {
  const arn = connectionArnOf(ID);
  // Every reading of where a record names the function, under both name forms.
  for (const eventName of [
    'CreateConnectionFunction',
    'CreateConnectionFunction2020_05_31',
    'UpdateConnectionFunction',
    'UpdateConnectionFunction2020_05_31',
  ]) {
    const trigger = eventName.replace(/\d{4}_\d{2}_\d{2}$/, '');
    test(`${eventName}: Id and name (request or response) make a whole ref; the Id or ARN alone, a clue by Id; the name alone, a clue by name`, () => {
      const cases: [string, unknown, unknown, unknown][] = [
        [
          'id in the request, summary in the response',
          { id: ID },
          summaryOf({ id: ID, name: 'mtls-check', connectionFunctionArn: arn }),
          { kind: 'connection', id: ID, name: 'mtls-check', arn },
        ],
        [
          'name in the request, ARN in the response',
          { name: 'mtls-check' },
          summaryOf({ connectionFunctionArn: arn }),
          { kind: 'connection', id: ID, name: 'mtls-check', arn },
        ],
        ['id and name in the request', { id: ID, name: 'mtls-check' }, null, { kind: 'connection', id: ID, name: 'mtls-check', arn }],
        ['only the id', { id: ID, ifMatch: 'E1' }, null, { kind: 'connection', unresolved: true, id: ID, arn }],
        [
          'only the ARN, in the response',
          'HIDDEN_DUE_TO_SECURITY_REASONS',
          summaryOf({ connectionFunctionArn: arn }),
          { kind: 'connection', unresolved: true, id: ID, arn },
        ],
        [
          'only the name',
          { name: 'mtls-check' },
          null,
          { kind: 'connection', unresolved: true, name: 'mtls-check', arn: `arn:aws:cloudfront::${ACCOUNT}:connection-function/*` },
        ],
      ];
      for (const [reading, request, response, expected] of cases) {
        const intent = interpretEvent(connectionEvent(eventName, request, response), { account: ACCOUNT, partition: 'aws' });
        assert.equal(intent.kind, 'reconcile', reading);
        assert.deepEqual(intent.kind === 'reconcile' && intent.fn, expected, reading);
        assert.equal(intent.kind === 'reconcile' && intent.trigger, trigger, reading);
      }
    });
  }

  test('a record naming no connection function sweeps its account and fails; a malformed or contradictory identity fails loudly', () => {
    const unnamed = interpretEvent(connectionEvent('UpdateConnectionFunction2020_05_31', 'HIDDEN_DUE_TO_SECURITY_REASONS', null), { account: ACCOUNT });
    assert.equal(unnamed.kind, 'unnamed');
    assert.ok(unnamed.kind === 'unnamed' && unnamed.error instanceof BadEventError);
    assert.match(unnamed.kind === 'unnamed' ? unnamed.error.message : '', /names no connection function/);
    for (const [request, response, message] of [
      [{ id: '../../distribution/E1' }, null, /not a valid Id/],
      [{ id: ID }, summaryOf({ connectionFunctionArn: connectionArnOf('EOTHER') }), /names two connection functions/],
      [{ id: ID }, summaryOf({ connectionFunctionArn: arnOf('f') }), /not a connection function ARN/],
      [{ name: 'bad name!' }, null, /not a valid function name/],
    ] as const) {
      assert.throws(
        () => interpretEvent(connectionEvent('UpdateConnectionFunction', request, response)),
        (e: unknown) => e instanceof BadEventError && message.test(e.message),
      );
    }
  });

  test('TagResource on a connection-function/ ARN reconciles that function (a clue by Id); of another account it is ignored', () => {
    const intent = interpretEvent(tagEvent(arn), { account: ACCOUNT });
    assert.deepEqual(intent.kind === 'reconcile' && intent.fn, { kind: 'connection', unresolved: true, id: ID, arn });
    assert.equal(intent.kind === 'reconcile' && intent.trigger, 'TagResource');
    const other = interpretEvent(tagEvent(`arn:aws:cloudfront::210987654321:connection-function/${ID}`), { account: ACCOUNT });
    assert.equal(other.kind, 'ignore');
    assert.throws(() => interpretEvent(tagEvent(`arn:aws:cloudfront::${ACCOUNT}:connection-function/a b`)), BadEventError);
  });

  test('an ARN ending in the name (the other reading of the ARN) is the function the Id and name name; one ending in neither fails loudly', () => {
    const byName = `arn:aws:cloudfront::${ACCOUNT}:connection-function/mtls-check`;
    const intent = interpretEvent(connectionEvent('UpdateConnectionFunction', { id: ID }, summaryOf({ connectionFunctionArn: byName, name: 'mtls-check' })), {
      account: ACCOUNT,
    });
    assert.deepEqual(intent.kind === 'reconcile' && intent.fn, { kind: 'connection', id: ID, name: 'mtls-check', arn: byName });
    // TagResource: the ARN alone; its last part is taken for the Id, and resolved by reading.
    const tagged = interpretEvent(tagEvent(byName), { account: ACCOUNT });
    assert.deepEqual(tagged.kind === 'reconcile' && tagged.fn, { kind: 'connection', unresolved: true, id: 'mtls-check', arn: byName });
    assert.throws(
      () => interpretEvent(connectionEvent('UpdateConnectionFunction', { id: ID }, summaryOf({ connectionFunctionArn: connectionArnOf('other-name') }))),
      /names two connection functions/,
    );
  });
});

describe('connection functions: the gateway', () => {
  const client = () => createCloudFrontClient({ credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const ref: FunctionRef = { kind: 'connection', id: ID, name: 'mtls-check', arn: connectionArnOf(ID) };
  const meta = { $metadata: {} };
  let mock: ReturnType<typeof mockClient>;
  beforeEach(() => {
    mock = mockClient(CloudFrontClient);
  });
  afterEach(() => mock.restore());

  test('each call sends the connection kind its command, addressed by Id, with IfMatch; answers map to the same domain values', async () => {
    mock.on(DescribeConnectionFunctionCommand).resolves({
      ETag: 'E2',
      ConnectionFunctionSummary: {
        Name: 'mtls-check',
        Id: ID,
        ConnectionFunctionArn: connectionArnOf(ID),
        Status: 'PUBLISHING',
        Stage: 'DEVELOPMENT',
        ConnectionFunctionConfig: { Comment: 'c', Runtime: 'cloudfront-js-2.0' },
        CreatedTime: new Date(0),
        LastModifiedTime: new Date(0),
      },
    });
    mock.on(PublishConnectionFunctionCommand).resolves({});
    mock.on(TestConnectionFunctionCommand).resolves({
      ConnectionFunctionTestResult: {
        ComputeUtilization: '7',
        ConnectionFunctionOutput: '{"action":"deny"}',
        ConnectionFunctionErrorMessage: '',
        ConnectionFunctionExecutionLogs: ['l'],
      },
    });
    const gateway = cloudFrontGateway(client());
    assert.deepEqual(await gateway.describe(ref, 'DEVELOPMENT'), {
      etag: 'E2',
      status: 'PUBLISHING',
      arn: connectionArnOf(ID),
      name: 'mtls-check',
      id: ID,
      config: { comment: 'c', runtime: 'cloudfront-js-2.0', keyValueStoreAssociations: [] },
    });
    assert.deepEqual(mock.commandCalls(DescribeConnectionFunctionCommand)[0]?.args[0].input, { Identifier: ID, Stage: 'DEVELOPMENT' });
    assert.equal(await gateway.publish(ref, 'E2'), 'published');
    assert.deepEqual(mock.commandCalls(PublishConnectionFunctionCommand)[0]?.args[0].input, { Id: ID, IfMatch: 'E2' });
    const result = await gateway.testFunction(ref, 'E2', 'DEVELOPMENT', { clientIp: '198.51.100.10' });
    assert.deepEqual(result, { computeUtilization: '7', errorMessage: '', output: '{"action":"deny"}', logs: ['l'] });
    const test = mock.commandCalls(TestConnectionFunctionCommand)[0]?.args[0].input;
    assert.equal(test?.Id, ID);
    assert.equal(test?.IfMatch, 'E2');
    assert.equal(test?.Stage, 'DEVELOPMENT');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(test?.ConnectionObject)), { clientIp: '198.51.100.10' });
  });

  test("the connection kind's errors: EntityNotFound is gone, PreconditionFailed and InvalidIfMatchVersion a 412, UnsupportedOperation lists none", async () => {
    mock.on(DescribeConnectionFunctionCommand).rejects(new EntityNotFound({ message: 'no', ...meta }));
    mock
      .on(PublishConnectionFunctionCommand)
      .rejectsOnce(new PreconditionFailed({ message: 'stale', ...meta }))
      .rejects(new EntityNotFound({ message: 'no', ...meta }));
    mock
      .on(TestConnectionFunctionCommand)
      .rejectsOnce(new InvalidIfMatchVersion({ message: 'bad', ...meta }))
      .rejects(new EntityNotFound({ message: 'no', ...meta }));
    mock.on(ListConnectionFunctionsCommand).rejects(new UnsupportedOperation({ message: 'not in this partition', ...meta }));
    const gateway = cloudFrontGateway(client());
    assert.equal(await gateway.describe(ref, 'LIVE'), null);
    assert.equal(await gateway.publish(ref, 'E2'), 'precondition-failed');
    assert.equal(await gateway.publish(ref, 'E2'), 'gone');
    assert.equal(await gateway.testFunction(ref, 'E2', 'DEVELOPMENT', {}), 'precondition-failed');
    assert.equal(await gateway.testFunction(ref, 'E2', 'DEVELOPMENT', {}), 'gone');
    const pages = [];
    for await (const page of gateway.listFunctions('LIVE', undefined, 'connection')) pages.push(page);
    assert.deepEqual(pages, []);
  });

  test('an Id that breaks the rule never reaches a URL path', async () => {
    const gateway = cloudFrontGateway(client());
    await assert.rejects(gateway.describe({ ...ref, id: '../function/x' }, 'DEVELOPMENT'), /invalid connection function Id/);
    assert.equal(mock.calls().length, 0);
  });
});

describe('connection functions: the event path', () => {
  test('an update naming only the Id: DEVELOPMENT read by Id (it gives the name), tested with that ETag, published with it; no ListDistributions', async () => {
    cf = fakeCloudFront({}, connection());
    const r = await invoke(connectionEvent('UpdateConnectionFunction2020_05_31', { id: ID, ifMatch: 'E1' }));
    const outcome = r.result?.outcomes[0];
    assert.equal(outcome?.action, 'published', String(r.error));
    assert.equal(outcome?.functionName, 'mtls-check');
    assert.equal(outcome?.functionArn, connectionArnOf(ID));
    assert.deepEqual(cf.publishes, [{ name: ID, etag: 'E2', kind: 'connection' }]);
    // The Id's DEVELOPMENT read is the one `decide` asks for: tags next, then (UNPUBLISHED) test and publish.
    assert.deepEqual(ops(), ['DescribeConnectionFunction', 'ListTagsForResource', 'TestConnectionFunction', 'PublishConnectionFunction']);
    const tested = cf.calls.find((c) => c.op === 'TestConnectionFunction')?.input;
    const published = cf.calls.find((c) => c.op === 'PublishConnectionFunction')?.input;
    assert.equal(tested?.IfMatch, 'E2');
    assert.equal(tested?.Stage, 'DEVELOPMENT');
    assert.equal(published?.IfMatch, tested?.IfMatch, 'the ETag tested is the ETag published');
  });

  test('an update naming Id and name reads tags and DEVELOPMENT together, as for the ordinary kind; PUBLISHING reads LIVE', async () => {
    cf = fakeCloudFront({}, connection({ status: 'PUBLISHING' }));
    settings = { PUBLISH_GATE: 'off' };
    const r = await invoke(
      connectionEvent('UpdateConnectionFunction', { id: ID }, summaryOf({ id: ID, name: 'mtls-check', connectionFunctionArn: connectionArnOf(ID) })),
    );
    assert.equal(r.result?.outcomes[0]?.action, 'published');
    assert.deepEqual(ops().slice(0, 2).sort(), ['DescribeConnectionFunction', 'ListTagsForResource']);
    assert.equal(cf.count(), 4, 'tags ∥ DEVELOPMENT, LIVE (a status other than UNPUBLISHED: ETags decide), publish');
    assert.equal(cf.calls[2]?.input.Stage, 'LIVE');
  });

  test('a record naming only the name is resolved by the DEVELOPMENT listing, never guessed', async () => {
    cf = fakeCloudFront({ 'mtls-check': { tags: opted, devEtag: 'E9', liveEtag: 'E9' } }, connection());
    const r = await invoke(connectionEvent('CreateConnectionFunction', { name: 'mtls-check' }));
    assert.equal(r.result?.outcomes[0]?.action, 'published', String(r.error));
    assert.equal(cf.calls[0]?.op, 'ListConnectionFunctions');
    assert.equal(cf.calls[0]?.input.Stage, 'DEVELOPMENT');
    assert.deepEqual(cf.publishes, [{ name: ID, etag: 'E2', kind: 'connection' }], 'the connection function, not the ordinary one of the same name');
    assert.equal(cf.functions.get('mtls-check')?.liveEtag, 'E9');
  });

  test('a name no connection function holds is gone; an Id that no longer exists is gone', async () => {
    cf = fakeCloudFront({}, connection());
    assert.equal((await invoke(connectionEvent('CreateConnectionFunction', { name: 'nobody' }))).result?.outcomes[0]?.action, 'gone');
    assert.equal((await invoke(connectionEvent('UpdateConnectionFunction', { id: 'EGONE' }))).result?.outcomes[0]?.action, 'gone');
    assert.deepEqual(cf.publishes, []);
  });

  test('never publishes a connection function that is not opted in, whatever the event', async () => {
    cf = fakeCloudFront({}, connection({ tags: { team: 'edge' } }));
    for (const event of [
      connectionEvent('UpdateConnectionFunction', { id: ID }),
      connectionEvent('CreateConnectionFunction2020_05_31', { name: 'mtls-check' }),
      tagEvent(connectionArnOf(ID), { items: [{ key: 'team', value: 'edge' }] }),
    ]) {
      assert.equal((await invoke(event)).result?.outcomes[0]?.action, 'skipped-not-opted-in');
    }
    assert.equal(cf.count('PublishConnectionFunction'), 0);
    assert.equal(cf.count('TestConnectionFunction'), 0);
  });

  test('TagResource opting a connection function in publishes it', async () => {
    cf = fakeCloudFront({}, connection());
    const r = await invoke(tagEvent(connectionArnOf(ID)));
    assert.equal(r.result?.outcomes[0]?.action, 'published');
    assert.equal(cf.connections.get(ID)?.liveEtag, 'E2');
  });

  test('a deny is a decision: the smoke test passes a function that denies; a throw, no decision or compute over the maximum blocks', async () => {
    const cases: [FakeConnectionFunction['test'], string][] = [
      [() => ({ output: '{"connection":{"action":"deny"}}' }), 'published'],
      [() => ({ output: 'allow' }), 'published'],
      [() => ({ error: 'ReferenceError: revocationStatus is not defined' }), 'blocked'],
      [() => ({ output: '{}' }), 'blocked'],
      [() => ({ output: '{"action":"allow"}', utilization: '95' }), 'blocked'],
    ];
    for (const [answer, expected] of cases) {
      cf?.restore();
      cf = fakeCloudFront({}, connection({ test: answer }));
      const r = await invoke(connectionEvent('UpdateConnectionFunction', { id: ID }));
      assert.equal(r.result?.outcomes[0]?.action, expected, JSON.stringify(answer?.({})));
      assert.equal(cf.count('PublishConnectionFunction'), expected === 'published' ? 1 : 0);
    }
  });

  test('the smoke connection object is what TestConnectionFunction is given: certificate, viewer IP, revocation result', async () => {
    let given: Record<string, unknown> | undefined;
    cf = fakeCloudFront(
      {},
      connection({
        test: (c) => {
          given = c;
          return {};
        },
      }),
    );
    await invoke(connectionEvent('UpdateConnectionFunction', { id: ID }));
    assert.deepEqual(given, smokeConnectionEvent());
  });
});

describe('connection functions: the sweep', () => {
  test('lists both kinds and both stages at the lower bound, and reconciles candidates of either kind', async () => {
    const ordinary = { a: { tags: opted, devEtag: 'E2', liveEtag: 'E1' }, b: { tags: {}, devEtag: 'E1', liveEtag: 'E1' } };
    const connections: Record<string, FakeConnectionFunction> = {
      EC1: { name: 'a', tags: opted, devEtag: 'E5', liveEtag: 'E4' }, // the same name as an ordinary function
      EC2: { name: 'never-published', tags: opted, devEtag: 'E3' },
      EC3: { name: 'untouched', tags: opted, devEtag: 'E1', liveEtag: 'E1', status: 'DEPLOYED' },
      EC4: { name: 'not-opted', tags: {}, devEtag: 'E2', liveEtag: 'E1' },
    };
    cf = fakeCloudFront(ordinary, connections);
    const r = await sweepNow();
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.result?.listed, 6);
    assert.equal(r.result?.candidates, 4, 'a, EC1, EC2, EC4: the listings alone decide');
    assert.deepEqual(
      cf.calls
        .filter((c) => c.op === 'ListConnectionFunctions')
        .map((c) => c.input.Stage)
        .sort(),
      ['DEVELOPMENT', 'LIVE'],
    );
    assert.equal(cf.count('ListFunctions'), 2);
    assert.equal(cf.count('ListTagsForResource'), 4, 'one tag read per candidate, no more');
    assert.deepEqual(cf.publishes.map((p) => `${p.kind ?? 'function'}:${p.name}`).sort(), ['connection:EC1', 'connection:EC2', 'function:a']);
    assert.equal(cf.connections.get('EC4')?.liveEtag, 'E1', 'not opted in: never published');
    assert.equal(cf.count('ListDistributions'), 1, 'only the ordinary candidate needs its event types');
  });

  test('the lower bound per listing: ceil(n / 100) pages of each kind and stage', async () => {
    const connections = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`EC${String(i).padStart(3, '0')}`, { name: `c${i}`, tags: {}, devEtag: 'E1', liveEtag: 'E1' }]),
    );
    cf = fakeCloudFront({}, connections);
    const r = await sweepNow();
    assert.equal(r.result?.listed, 150);
    assert.equal(cf.count('ListConnectionFunctions'), 4, '2 pages × 2 stages');
    assert.equal(cf.count('ListFunctions'), 2, 'an empty ordinary listing is still one page per stage');
    assert.equal(cf.count(), 6, 'nothing to do: no further call');
  });
});

describe('connection functions: the gate, judged', () => {
  const run = (output: string | undefined, extra: Partial<TestResult> = {}): TestResult => ({
    computeUtilization: '10',
    errorMessage: '',
    output,
    logs: [],
    ...extra,
  });
  const smoke = smokeCase('connection-request');

  test('the smoke connection object follows the connection event structure: certificate with subject, issuer, serial, validity, fingerprint; viewer IP; revocation result', () => {
    const event = smoke.event as {
      context: Record<string, unknown>;
      clientIp: string;
      clientCertificate: { certificates: { leaf: Record<string, unknown> }; revocationCheck: unknown };
    };
    assert.equal(event.context.eventType, 'connection-request');
    assert.match(event.clientIp, /^\d+\.\d+\.\d+\.\d+$/);
    const leaf = event.clientCertificate.certificates.leaf;
    for (const field of ['subject', 'issuer', 'serialNumber', 'validity', 'sha256Fingerprint']) assert.ok(leaf[field], field);
    assert.ok(event.clientCertificate.revocationCheck);
  });

  test('allow and deny are both decisions; every plausible spelling of the output is read; anything else is none', () => {
    for (const [output, decision] of [
      ['allow', 'allow'],
      ['"deny"', 'deny'],
      ['{"action":"allow"}', 'allow'],
      ['{"decision":"DENY"}', 'deny'],
      ['{"connection":{"action":"denied"}}', 'deny'],
      ['{"response":{"status":"allow"}}', 'allow'],
      ['', undefined],
      ['{}', undefined],
      ['{"connection":{}}', undefined],
      ['maybe', undefined],
    ] as const) {
      assert.equal(connectionDecision(output), decision, output);
    }
  });

  test('smoke: allow and deny pass; a throw, no decision, compute over the maximum or at 100 block', () => {
    assert.equal(judgeCase(smoke, run('{"action":"allow"}'), 50).passed, true);
    assert.equal(judgeCase(smoke, run('{"action":"deny"}'), 50).passed, true, 'a deny is a decision, not a failure');
    const blocked = (result: TestResult, max = 50) => {
      const verdict = judgeCase(smoke, result, max);
      return verdict.passed ? '' : verdict.reason;
    };
    assert.match(blocked(run('', { errorMessage: 'TypeError: x is undefined' })), /threw/);
    assert.match(blocked(run('{}')), /no decision/);
    assert.match(blocked(run(undefined)), /no decision/);
    assert.match(blocked(run('allow', { computeUtilization: '51' })), /above the maximum 50/);
    assert.match(blocked(run('allow', { computeUtilization: '100' }), 100), /compute limit/);
  });

  test("a user's connection-request case that expects allow blocks on a deny; one that expects deny passes it", () => {
    const [expectsAllow, expectsDeny, untyped] = parseTestCases(
      JSON.stringify([
        { name: 'known device', eventType: 'connection-request', event: smokeConnectionEvent(), expect: 'allow' },
        { name: 'revoked device', eventType: 'connection-request', event: smokeConnectionEvent(), expect: 'deny' },
        { name: 'untyped', event: {} },
      ]),
    ) as [TestCase, TestCase, TestCase];
    const denied = judgeCase(expectsAllow, run('{"action":"deny"}'), 50);
    assert.equal(denied.passed, false);
    assert.match(denied.passed ? '' : denied.reason, /known device: expected allow, the function decided deny/);
    assert.equal(judgeCase(expectsDeny, run('{"action":"deny"}'), 50).passed, true);
    assert.equal(untyped.eventType, undefined, 'left to the function: a connection function gives it connection-request');
    assert.throws(
      () => parseTestCases(JSON.stringify([{ name: 'x', eventType: 'connection-request', event: {}, expect: { action: 'allow' } }])),
      (e: unknown) => e instanceof TestCasesError && /expects "allow" or "deny"/.test(e.message),
    );
  });

  test('own cases from S3 run for a connection function: a case expecting allow that gets a deny blocks; a viewer case blocks', async () => {
    const s3 = mockClient(S3Client);
    try {
      const cases = [{ name: 'known device', event: smokeConnectionEvent(), expect: 'allow' }];
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      s3.on(GetObjectCommand, { Key: 'allow.json' }).resolves({ Body: { transformToString: async () => JSON.stringify(cases) } } as never);
      s3.on(GetObjectCommand, { Key: 'viewer.json' }).resolves({
        Body: { transformToString: async () => JSON.stringify([{ name: 'v', eventType: 'viewer-request', event: {} }]) },
      } as never);
      settings = { TEST_CASES_BUCKETS: 'edge-tests' };
      cf = fakeCloudFront(
        {},
        connection({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/allow.json' }, test: () => ({ output: '{"action":"deny"}' }) }),
      );
      const blocked = (await invoke(connectionEvent('UpdateConnectionFunction', { id: ID }))).result?.outcomes[0];
      assert.equal(blocked?.action, 'blocked');
      assert.match(blocked?.blocked?.reason ?? '', /known device: expected allow, the function decided deny/);
      (cf.connections.get(ID) as FakeConnectionFunction).test = () => ({ output: '{"action":"allow"}' });
      assert.equal((await invoke(connectionEvent('UpdateConnectionFunction', { id: ID }))).result?.outcomes[0]?.action, 'published');
      assert.equal(cf.count('ListDistributions'), 0, 'no association decides what a connection function runs on');

      cf.restore();
      cf = fakeCloudFront({}, connection({ tags: { ...opted, 'auto-publish-tests': 's3://edge-tests/viewer.json' } }));
      const viewer = (await invoke(connectionEvent('UpdateConnectionFunction', { id: ID }))).result?.outcomes[0];
      assert.equal(viewer?.action, 'blocked');
      assert.match(viewer?.blocked?.reason ?? '', /viewer-request case; a connection function runs on connection-request only/);
      assert.equal(cf.count('TestConnectionFunction'), 0);
    } finally {
      s3.restore();
    }
  });
});

describe('connection functions: history', () => {
  const ordinary: FunctionRef = { name: 'a', arn: arnOf('a') };
  const conn: FunctionRef = { kind: 'connection', id: ID, name: 'a', arn: connectionArnOf(ID) };

  test("keys keep the kinds apart, the ordinary kind's keys unchanged, neither prefix a prefix of the other's", () => {
    assert.equal(historyPrefix(ordinary), `${ACCOUNT}/a/`);
    assert.equal(historyKey(ordinary, '2026-01-01T00:00:00.000Z', 'E1'), `${ACCOUNT}/a/2026-01-01T00:00:00.000Z-E1.json`);
    assert.equal(historyPrefix(conn), `${ACCOUNT}/connection-function:${ID}/`);
    const named = { name: 'connection-function', arn: arnOf('connection-function') };
    assert.ok(!historyPrefix(conn).startsWith(historyPrefix(named)) && !historyPrefix(named).startsWith(historyPrefix(conn)));
    assert.throws(() => historyPrefix({ ...conn, arn: arnOf('a') }), /not its connection function ARN/);
    // An ARN ending in the name (the other reading): the same function, filed under its Id.
    assert.equal(historyPrefix({ ...conn, arn: connectionArnOf('a') }), `${ACCOUNT}/connection-function:${ID}/`);
    assert.throws(() => historyPrefix({ ...conn, arn: connectionArnOf('b') }), /not its connection function ARN/);
  });

  test('a connection function saved before its publish: the record names its kind and Id, under its own key', async () => {
    const put: [string, string][] = [];
    const s3 = { putJson: async (_bucket: string, key: string, body: string) => void put.push([key, body]) } as unknown as S3Gateway;
    const key = await historyStore(s3, 'history', () => new Date('2026-01-01T00:00:00Z')).save(
      conn,
      { etag: 'E1', code: 'Y29kZQ==' },
      { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreAssociations: [] },
      { etag: 'E2', trigger: 'sweep' },
    );
    assert.equal(key, `${ACCOUNT}/connection-function:${ID}/2026-01-01T00:00:00.000Z-E1.json`);
    const record = JSON.parse(put[0]?.[1] ?? '{}');
    assert.equal(record.functionKind, 'connection');
    assert.equal(record.functionId, ID);
    assert.equal(record.functionName, 'a');
  });

  test('with history on, the sweep saves LIVE by GetConnectionFunction before publishing over it', async () => {
    const s3 = mockClient(S3Client);
    try {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      s3.on(PutObjectCommand).resolves({});
      settings = { HISTORY_BUCKET: 'history-bucket', PUBLISH_GATE: 'off' };
      cf = fakeCloudFront({}, connection());
      const r = await sweepNow();
      assert.equal(r.result?.counts.published, 1, String(r.error));
      const order = ops().filter((op) => op === 'GetConnectionFunction' || op === 'PublishConnectionFunction');
      assert.deepEqual(order, ['GetConnectionFunction', 'PublishConnectionFunction']);
      assert.equal(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key?.startsWith(`${ACCOUNT}/connection-function:${ID}/`), true);
    } finally {
      s3.restore();
    }
  });
});

test('ordinary functions are unaffected: an update event is reconciled by name as before', async () => {
  cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
  const r = await invoke(updateEvent('f'));
  assert.equal(r.result?.outcomes[0]?.action, 'published');
  assert.equal(cf.count('DescribeConnectionFunction') + cf.count('ListConnectionFunctions'), 0);
});
