/**
 * Organisation mode's decisions, with mocked AWS clients: which accounts get an AssumeRole (members
 * only, once per credential lifetime), how the member list is read and cached, how the sweep fans
 * out, and that one account's failure fails only its own SQS message. test/e2e/organization.test.ts
 * runs the same code against the emulator's accounts, STS and Organizations.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type AccountState, type AccountStatus, ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { SQSEvent } from 'aws-lambda';
import { ConfigError, loadConfig } from '../lib/config';
import { memberCredentials, MemberRoleError, NotAMemberError, REFRESH_BEFORE_MS, ROLE_SESSION_NAME, SESSION_SECONDS } from '../lib/sts-gateway';
import { fixedMembers, MEMBER_LIST_TTL_MS, MemberListError, organizationMembers } from '../lib/organizations-gateway';
import { QueueSendError, sqsMessageQueue } from '../lib/sqs-gateway';
import { BadSweepRequestError, parseSweepRequest, sweepQueueMembers } from '../lib/fan-out';
import { makeOnFunctionChange } from '../handlers/on-function-change';
import { makeSweepFanOut } from '../handlers/drift-sweep';
import { createSweepWorkerRuntime, makeSweepAccount } from '../handlers/sweep-account';
import { fakeCloudFront, type FakeFunction } from './support/fake-cloudfront';
import { apiCall } from './support/events';
import { captureLogs, lambdaContext, type Settings, TEST_CREDENTIALS, testRuntime } from './support/lambda';

const A = '111111111111';
const B = '222222222222';
const OUTSIDE = '999999999999';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/cloudfront-autopublish-sweep';
const ORG: Settings = { ORGANIZATION_MODE: 'true', MEMBER_ACCOUNTS: `${A},${B}`, PUBLISH_GATE: 'off' };

const sts = mockClient(STSClient);
const orgs = mockClient(OrganizationsClient);
const sqs = mockClient(SQSClient);

let clock = 1_000_000;
const now = () => clock;

function issue(account: string, lifetimeMs = SESSION_SECONDS * 1000) {
  return {
    Credentials: {
      AccessKeyId: `ASIA${account}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(clock + lifetimeMs),
    },
  };
}

/** Issues credentials for the account the role ARN names. */
function stsIssues() {
  sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string }) => issue(input.RoleArn.split(':')[4] ?? ''));
}

const assumedAccounts = () => sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn?.split(':')[4]);

beforeEach(() => {
  sts.reset();
  orgs.reset();
  sqs.reset();
  clock = 1_000_000;
});

describe('settings', () => {
  test('organisation mode is off by default, and then its settings mean nothing', () => {
    assert.equal(loadConfig({}).organization, undefined);
    assert.equal(loadConfig({ ORGANIZATION_MODE: 'false', MEMBER_ACCOUNTS: 'not checked' }).organization, undefined);
  });

  test('defaults: the member role name, and every ACTIVE account of the organisation', () => {
    const org = loadConfig({ ORGANIZATION_MODE: 'true' }).organization;
    assert.equal(org?.memberRoleName, 'cloudfront-autopublish-member');
    assert.deepEqual(org?.memberAccounts, []);
  });

  test('a member list or role name we cannot parse names the setting', () => {
    assert.throws(
      () => loadConfig({ ORGANIZATION_MODE: 'yes' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'ORGANIZATION_MODE',
    );
    for (const bad of ['12345678901', '1234567890123', '11111111111a', ',', `${A};${B}`]) {
      assert.throws(
        () => loadConfig({ ORGANIZATION_MODE: 'true', MEMBER_ACCOUNTS: bad }),
        (e: unknown) => e instanceof ConfigError && e.variable === 'MEMBER_ACCOUNTS',
        bad,
      );
    }
    assert.throws(
      () => loadConfig({ ORGANIZATION_MODE: 'true', MEMBER_ROLE_NAME: 'role/with/slash' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'MEMBER_ROLE_NAME',
    );
    assert.deepEqual(loadConfig({ ORGANIZATION_MODE: 'true', MEMBER_ACCOUNTS: ` ${A}, ${B} ${A}` }).organization?.memberAccounts, [A, B]);
  });
});

describe('member credentials', () => {
  const source = (isMember: (account: string) => Promise<boolean> = async () => true) =>
    memberCredentials({ sts: new STSClient({ region: 'us-east-1' }), roleName: 'member-role', isMember, now });

  test('one AssumeRole per account per credential lifetime, shared by concurrent callers', async () => {
    stsIssues();
    const credentials = source();
    const [first] = await Promise.all([credentials.providerFor(A)(), credentials.providerFor(A)(), credentials.providerFor(A)()]);
    assert.equal(first.accessKeyId, `ASIA${A}`);
    await credentials.providerFor(A)();
    assert.deepEqual(assumedAccounts(), [A]);
    const input = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    assert.equal(input?.RoleArn, `arn:aws:iam::${A}:role/member-role`);
    assert.equal(input?.RoleSessionName, ROLE_SESSION_NAME);
    assert.equal(input?.DurationSeconds, SESSION_SECONDS);

    await credentials.providerFor(B)();
    assert.deepEqual(assumedAccounts(), [A, B], 'each account has its own credentials');
  });

  test('refreshed before they expire, not after', async () => {
    stsIssues();
    const credentials = source();
    await credentials.providerFor(A)();
    clock += SESSION_SECONDS * 1000 - REFRESH_BEFORE_MS - 1;
    await credentials.providerFor(A)();
    assert.equal(assumedAccounts().length, 1, 'still more than the refresh window left');
    clock += 2;
    const renewed = await credentials.providerFor(A)();
    assert.equal(assumedAccounts().length, 2);
    assert.ok((renewed.expiration?.getTime() ?? 0) > clock + REFRESH_BEFORE_MS);
  });

  test('an account outside the member list: NotAMemberError, and no STS call', async () => {
    stsIssues();
    const credentials = source(async (account) => account === A);
    await assert.rejects(credentials.providerFor(OUTSIDE)(), NotAMemberError);
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 0);
  });

  test('a refused AssumeRole is not retryable and not cached: the next call asks again', async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    const credentials = source();
    await assert.rejects(credentials.providerFor(A)(), (e: unknown) => {
      assert.ok(e instanceof MemberRoleError);
      assert.equal(e.retryable, false);
      assert.match(e.message, /arn:aws:iam::111111111111:role\/member-role.*member stack/);
      return true;
    });
    stsIssues();
    assert.equal((await credentials.providerFor(A)()).accessKeyId, `ASIA${A}`);
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 2);
  });

  test('callers waiting on one refused AssumeRole all get its refusal: no second call', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const credentials = source();
    const results = await Promise.allSettled([credentials.providerFor(A)(), credentials.providerFor(A)(), credentials.providerFor(A)()]);
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof MemberRoleError));
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 1);
  });

  test('an AssumeRole that never answers fails within its deadline, retryable, and is dropped: the next caller asks again', { timeout: 5_000 }, async () => {
    sts.on(AssumeRoleCommand).callsFakeOnce(() => new Promise(() => undefined));
    const credentials = memberCredentials({
      sts: new STSClient({ region: 'us-east-1' }),
      roleName: 'member-role',
      isMember: async () => true,
      now,
      timeoutMs: 50,
    });
    const waiting = [credentials.providerFor(A)(), credentials.providerFor(A)()];
    for (const result of await Promise.allSettled(waiting)) {
      assert.ok(result.status === 'rejected' && result.reason instanceof MemberRoleError && result.reason.retryable, String(result.status));
      assert.match(String(result.reason), /did not finish within 50 ms/);
    }
    stsIssues();
    assert.equal((await credentials.providerFor(A)()).accessKeyId, `ASIA${A}`);
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 2, 'one stalled call shared by both callers, then a new one');
  });

  test('throttling is retryable', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await assert.rejects(source().providerFor(A)(), (e: unknown) => e instanceof MemberRoleError && e.retryable);
  });
});

describe('the member list', () => {
  const account = (Id: string, State: string, Status = State) => ({
    Id,
    State: State as AccountState,
    Status: Status as AccountStatus,
    Arn: `arn:aws:organizations::${A}:account/o-x/${Id}`,
  });

  test('every ACTIVE account by State, over every page; SUSPENDED and closing accounts are left out', async () => {
    orgs
      .on(ListAccountsCommand)
      .resolvesOnce({ Accounts: [account(B, 'ACTIVE'), account('333333333333', 'SUSPENDED')], NextToken: 'p2' })
      .resolvesOnce({ Accounts: [account(A, 'ACTIVE'), account('444444444444', 'PENDING_CLOSURE', 'ACTIVE')] });
    const members = organizationMembers(new OrganizationsClient({ region: 'us-east-1' }), { now });
    assert.deepEqual(await members.list(), [A, B]);
    assert.equal(orgs.commandCalls(ListAccountsCommand)[1]?.args[0].input.NextToken, 'p2');
    assert.equal(await members.isMember('444444444444'), false, 'State, not the retiring Status, decides');
  });

  test('listed once per few minutes, however many events ask; an unknown account does not force a listing', async () => {
    orgs.on(ListAccountsCommand).resolves({ Accounts: [account(A, 'ACTIVE')] });
    const members = organizationMembers(new OrganizationsClient({ region: 'us-east-1' }), { now });
    await Promise.all([members.isMember(A), members.isMember(OUTSIDE), members.list()]);
    assert.equal(await members.isMember(OUTSIDE), false);
    assert.equal(orgs.commandCalls(ListAccountsCommand).length, 1);
    clock += MEMBER_LIST_TTL_MS;
    await members.isMember(A);
    assert.equal(orgs.commandCalls(ListAccountsCommand).length, 2);
  });

  test('a failed listing names what to do, is not cached, and AccessDenied is not retryable', async () => {
    orgs.on(ListAccountsCommand).rejectsOnce(Object.assign(new Error('You don’t have permissions'), { name: 'AccessDeniedException' }));
    const members = organizationMembers(new OrganizationsClient({ region: 'us-east-1' }), { now });
    await assert.rejects(members.list(), (e: unknown) => e instanceof MemberListError && !e.retryable && /MEMBER_ACCOUNTS/.test(e.message));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [account(A, 'ACTIVE')] });
    assert.deepEqual(await members.list(), [A]);
  });

  test('an answer without State is read by Status', async () => {
    const legacy = (Id: string, Status: string) => ({ Id, Status: Status as AccountStatus });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [legacy(A, 'ACTIVE'), legacy(B, 'SUSPENDED'), { Id: '333333333333' }] });
    const members = organizationMembers(new OrganizationsClient({ region: 'us-east-1' }), { now });
    assert.deepEqual(await members.list(), [A]);
  });

  test('a listing that never answers fails within its deadline, retryable, and is dropped: the next caller lists again', { timeout: 5_000 }, async () => {
    orgs.on(ListAccountsCommand).callsFakeOnce(() => new Promise(() => undefined));
    const members = organizationMembers(new OrganizationsClient({ region: 'us-east-1' }), { now, timeoutMs: 50 });
    const waiting = await Promise.allSettled([members.list(), members.isMember(A)]);
    for (const result of waiting) {
      assert.ok(result.status === 'rejected' && result.reason instanceof MemberListError && result.reason.retryable, String(result.status));
    }
    orgs.on(ListAccountsCommand).resolves({ Accounts: [account(A, 'ACTIVE')] });
    assert.deepEqual(await members.list(), [A]);
    assert.equal(orgs.commandCalls(ListAccountsCommand).length, 2, 'one stalled listing shared by both callers, then a new one');
  });

  test('MEMBER_ACCOUNTS is the list as given, with no Organizations call', async () => {
    const members = fixedMembers([B, A]);
    assert.deepEqual(await members.list(), [A, B]);
    assert.equal(await members.isMember(OUTSIDE), false);
  });
});

describe('the sweep queue', () => {
  const queue = () => sqsMessageQueue<{ account: string }>(new SQSClient({ region: 'us-east-1' }), QUEUE, (m) => m.account);
  const accounts = (n: number) => Array.from({ length: n }, (_, i) => ({ account: String(100000000000 + i) }));

  test('batches of 10, each message once', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await queue().sendAll(accounts(23));
    const batches = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    assert.deepEqual(
      batches.map((b) => b.length),
      [10, 10, 3],
    );
    const sent = batches.flat().map((e) => JSON.parse(e.MessageBody ?? '{}').account);
    assert.deepEqual(
      sent,
      accounts(23).map((a) => a.account),
    );
  });

  test('entries SQS refuses are sent once more; refused twice, the error names them', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] })
      .resolvesOnce({ Failed: [] })
      .resolvesOnce({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] })
      .resolvesOnce({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
    await assert.rejects(queue().sendAll(accounts(12)), (e: unknown) => e instanceof QueueSendError && /100000000010/.test(e.message));
    const resent = sqs.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.map((e) => JSON.parse(e.MessageBody ?? '{}').account);
    assert.deepEqual(resent, ['100000000001']);
  });

  test('a message we cannot read is not retryable and says why', () => {
    assert.deepEqual(parseSweepRequest(JSON.stringify({ account: A, full: true })), { account: A, full: true });
    assert.deepEqual(parseSweepRequest(JSON.stringify({ account: A })), { account: A, full: false });
    for (const bad of ['{', '{}', JSON.stringify({ account: 1 }), JSON.stringify({ account: A, full: 'yes' })]) {
      assert.throws(() => parseSweepRequest(bad), BadSweepRequestError, bad);
    }
  });
});

describe('the handlers in organisation mode', () => {
  let cf: ReturnType<typeof fakeCloudFront>;
  const opted: FakeFunction = { tags: { 'auto-publish': 'true' }, devEtag: 'E2', liveEtag: 'E1' };
  const eventIn = (account: string, name: string) =>
    apiCall(
      'UpdateFunction2020_05_31',
      {
        recipientAccountId: account,
        requestParameters: { name, ifMatch: 'E1' },
        responseElements: {
          functionSummary: { name, status: 'UNPUBLISHED', functionMetadata: { functionARN: `arn:aws:cloudfront::${account}:function/${name}` } },
        },
      },
      { account },
    );
  afterEach(() => cf?.restore());

  test('an event from an account outside the list is ignored, with a reason, and costs no AssumeRole', async () => {
    cf = fakeCloudFront({ f: opted });
    stsIssues();
    const handler = makeOnFunctionChange(testRuntime(ORG));
    const r = await captureLogs(() => handler(eventIn(OUTSIDE, 'f'), lambdaContext()));
    assert.equal(r.error, undefined);
    assert.match(String((r.result as { ignored?: string }).ignored), /999999999999 is not in the member list/);
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 0);
    assert.equal(cf.calls.length, 0);
    const line = r.lines.find((l) => l.message === 'ignored event');
    assert.equal(line?.account, OUTSIDE);
  });

  // aws-sdk-client-mock answers before the SDK signs, so it never asks for credentials: how often STS
  // is called, and what a refused AssumeRole does, is tested against the emulator (test/e2e/organization.test.ts).
  test('a member account: reconciled there, and every line, EMF record and announcement carries the account', async () => {
    cf = fakeCloudFront({ f: opted, g: opted });
    stsIssues();
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    try {
      const handler = makeOnFunctionChange(testRuntime({ ...ORG, EVENT_BUS_NAME: 'ops' }));
      const r = await captureLogs(async () => {
        await handler(eventIn(A, 'f'), lambdaContext());
        return handler(eventIn(A, 'g'), lambdaContext());
      });
      assert.equal(r.error, undefined);
      assert.deepEqual(
        cf.publishes.map((p) => p.name),
        ['f', 'g'],
      );
      const outcomes = r.lines.filter((l) => l.message === 'outcome');
      assert.equal(outcomes.length, 2);
      for (const line of outcomes) assert.equal(line.account, A);
      const metrics = r.lines.filter((l) => l._aws !== undefined);
      assert.ok(metrics.length > 0);
      for (const blob of metrics) assert.equal(blob.account, A, 'the EMF record carries the account');
      const detail = JSON.parse(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail ?? '{}');
      assert.equal(detail.account, A);
    } finally {
      eventBridge.restore();
    }
  });

  test('the scheduled sweep sends one message per member account, and sweeps nothing itself', async () => {
    cf = fakeCloudFront({ f: opted });
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const members = Array.from({ length: 12 }, (_, i) => String(300000000000 + i));
    const handler = makeSweepFanOut(testRuntime({ ...ORG, MEMBER_ACCOUNTS: members.join(','), SWEEP_QUEUE_URL: QUEUE }));
    const result = await handler({ full: true }, lambdaContext());
    assert.deepEqual(result, { accounts: 12, full: true });
    const bodies = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    assert.deepEqual(
      bodies.map((e) => JSON.parse(e.MessageBody ?? '{}')),
      members.map((account) => ({ account, full: true })),
    );
    assert.equal(sqs.commandCalls(SendMessageBatchCommand).length, 2);
    assert.equal(cf.calls.length, 0);
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 0);
  });

  test('the fan-out refuses to start without its queue, naming the setting', () => {
    assert.throws(
      () => makeSweepFanOut(testRuntime(ORG)),
      (e: unknown) => e instanceof ConfigError && e.variable === 'SWEEP_QUEUE_URL',
    );
  });

  describe('the worker: a message that can never succeed', () => {
    const DEAD_LETTERS = 'https://sqs.us-east-1.amazonaws.com/123456789012/cloudfront-autopublish-sweep-dead-letters';
    const record = (messageId: string, body: string) => ({ messageId, body }) as SQSEvent['Records'][number];
    const bad = record('m-bad', 'not json');
    const outside = record('m-outside', JSON.stringify({ account: OUTSIDE, full: false }));
    const event: SQSEvent = { Records: [bad, record('m-a', JSON.stringify({ account: A, full: false })), outside] };
    const sentToDeadLetters = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);

    test('unreadable, or for an account outside the member list: on the dead-letter queue at once, as it came, and done', async () => {
      cf = fakeCloudFront({ f: { ...opted, devEtag: 'E3', liveEtag: 'E1' } });
      sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
      const handler = makeSweepAccount(testRuntime({ ...ORG, SWEEP_DEAD_LETTER_QUEUE_URL: DEAD_LETTERS }));
      const r = await captureLogs(() => handler(event, lambdaContext(60_000)));
      assert.equal(r.error, undefined);
      // Done, not failed: SQS deletes them instead of handing them back twice more, an hour apart.
      assert.deepEqual(r.result, { batchItemFailures: [] });
      assert.deepEqual(
        sentToDeadLetters().map((m) => [m.QueueUrl, m.MessageBody]),
        [
          [DEAD_LETTERS, bad.body],
          [DEAD_LETTERS, outside.body],
        ],
        'each body as it came, so a redrive can move it back',
      );
      const reasons = sentToDeadLetters().map((m) => m.MessageAttributes?.reason?.StringValue);
      assert.match(String(reasons[0]), /sweep message is not JSON/);
      assert.match(String(reasons[1]), /account 999999999999 is not in the member list/);
      assert.deepEqual(
        cf.publishes.map((p) => p.name),
        ['f'],
        'the messages around account A did not stop it',
      );
      assert.equal(sts.commandCalls(AssumeRoleCommand).length, 0, 'never a role outside the list');
      const failed = r.lines.filter((l) => l.message === 'account sweep failed');
      assert.deepEqual(
        failed.map((l) => [l.account, l.errorName]),
        [
          [undefined, 'BadSweepRequestError'],
          [OUTSIDE, 'BadSweepRequestError'],
        ],
      );
      for (const line of failed) assert.match(String(line.error), /sent to the dead-letter queue at once/);
      assert.equal(r.lines.filter((l) => l['account-sweep-failed'] === 1).length, 2, 'counted, for the alarm: the invocation itself succeeds');
    });

    test('a member account is swept for both kinds: its opted-in connection function is published with the ordinary one', async () => {
      cf = fakeCloudFront({ f: { ...opted, devEtag: 'E3', liveEtag: 'E1' } }, { EC1: { name: 'mtls-check', ...opted, devEtag: 'E5', liveEtag: 'E4' } });
      stsIssues();
      const handler = makeSweepAccount(testRuntime(ORG));
      const r = await captureLogs(() => handler({ Records: [record('m-a', JSON.stringify({ account: A, full: false }))] }, lambdaContext(60_000)));
      assert.deepEqual(r.result, { batchItemFailures: [] }, String(r.error));
      assert.deepEqual(cf.publishes.map((p) => `${p.kind ?? 'function'}:${p.name}`).sort(), ['connection:EC1', 'function:f']);
      assert.deepEqual(
        cf.calls
          .filter((c) => c.op === 'ListConnectionFunctions')
          .map((c) => c.input.Stage)
          .sort(),
        ['DEVELOPMENT', 'LIVE'],
      );
    });

    test('without the dead-letter queue, or when it refuses the send, they fail alone and the redrive policy takes them there', async () => {
      cf = fakeCloudFront({ f: { ...opted, devEtag: 'E3', liveEtag: 'E1' } });
      const without = await captureLogs(() => makeSweepAccount(testRuntime(ORG))(event, lambdaContext(60_000)));
      assert.deepEqual(without.result, { batchItemFailures: [{ itemIdentifier: 'm-bad' }, { itemIdentifier: 'm-outside' }] });
      assert.deepEqual(sentToDeadLetters(), []);
      assert.match(String(without.lines.find((l) => l.message === 'account sweep failed')?.error), /BadSweepRequestError: sweep message is not JSON/);

      sqs.on(SendMessageCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
      const refused = await captureLogs(() =>
        makeSweepAccount(testRuntime({ ...ORG, SWEEP_DEAD_LETTER_QUEUE_URL: DEAD_LETTERS }))({ Records: [outside] }, lambdaContext(60_000)),
      );
      assert.deepEqual(refused.result, { batchItemFailures: [{ itemIdentifier: 'm-outside' }] });
      const line = refused.lines.find((l) => l.message === 'account sweep failed');
      assert.equal(line?.errorName, 'DeadLetterSendError');
      assert.match(String(line?.error), /not in the member list; the dead-letter queue refused it \(ThrottlingException: slow down\)/);
    });
  });

  test("one member's function never reads another member's test cases: a key outside <its account>/ blocks before any S3 read", async () => {
    const s3 = mockClient(S3Client);
    const cases = JSON.stringify([{ name: 'own case', eventType: 'viewer-request', event: { request: {} } }]);
    s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => cases } } as never);
    const gated: Settings = { ...ORG, PUBLISH_GATE: 'smoke', TEST_CASES_BUCKETS: 'org-gate-tests' };
    try {
      stsIssues();
      // Event path: f in A names B's cases.
      cf = fakeCloudFront({ f: { ...opted, tags: { ...opted.tags, 'auto-publish-tests': `s3://org-gate-tests/${B}/auth.json` } } });
      const r = await captureLogs(() => makeOnFunctionChange(testRuntime(gated))(eventIn(A, 'f'), lambdaContext()));
      const outcome = (r.result as { outcomes: { action: string; blocked?: { reason: string } }[] } | undefined)?.outcomes[0];
      assert.equal(outcome?.action, 'blocked');
      assert.match(
        outcome?.blocked?.reason ?? '',
        new RegExp(`outside this account's prefix: organisation mode reads a function's cases only from s3://BUCKET/${A}/`),
      );
      assert.equal(s3.commandCalls(GetObjectCommand).length, 0, "B's object is never read");
      assert.equal(cf.count('TestFunction'), 0);
      assert.equal(cf.publishes.length, 0);
      cf.restore();
      // The sweep worker: the same check, with the account of its message.
      cf = fakeCloudFront({
        theirs: { ...opted, tags: { ...opted.tags, 'auto-publish-tests': `s3://org-gate-tests/${B}/auth.json` } },
        own: { ...opted, tags: { ...opted.tags, 'auto-publish-tests': `s3://org-gate-tests/${A}/edge/cases.json` } },
      });
      const event = { Records: [{ messageId: 'm-a', body: JSON.stringify({ account: A, full: false }) }] } as SQSEvent;
      const w = await captureLogs(() => makeSweepAccount(testRuntime(gated))(event, lambdaContext(60_000)));
      assert.equal(w.error, undefined);
      assert.deepEqual(
        cf.publishes.map((p) => p.name),
        ['own'],
        'its own prefix is read and tested',
      );
      assert.deepEqual(
        s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key),
        [`${A}/edge/cases.json`],
      );
    } finally {
      s3.restore();
    }
  });

  test('the worker flushes one EMF record per account and never an empty one (Powertools would warn)', async (t) => {
    cf = fakeCloudFront({ f: opted });
    const texts: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error'] as const) {
      t.mock.method(console, method, (...args: unknown[]) => void texts.push(args.map(String).join(' ')));
    }
    const handler = makeSweepAccount(testRuntime(ORG));
    const records = [A, B].map((account, i) => ({ messageId: `m-${i}`, body: JSON.stringify({ account }) }));
    await handler({ Records: records } as SQSEvent, lambdaContext(60_000));
    const blobs = texts.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      blobs.map((b) => b.account),
      [A, B],
    );
    assert.equal(texts.filter((line) => /No application metrics to publish/.test(line)).length, 0);
  });

  test("MEMBER_ACCOUNTS empty: the worker takes each message's account from the queue and never calls ListAccounts; the fan-out lists once", async () => {
    cf = fakeCloudFront({ f: { ...opted, devEtag: 'E3', liveEtag: 'E1' } });
    stsIssues();
    orgs.on(ListAccountsCommand).resolves({ Accounts: [A, B].map((Id) => ({ Id, State: 'ACTIVE' as AccountState })) });
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const listing: Settings = { ORGANIZATION_MODE: 'true', MEMBER_ACCOUNTS: '', PUBLISH_GATE: 'off', SWEEP_QUEUE_URL: QUEUE };
    await makeSweepFanOut(testRuntime(listing))({}, lambdaContext(60_000));
    assert.equal(orgs.commandCalls(ListAccountsCommand).length, 1, 'the fan-out lists the members');
    const swept: string[] = [];
    const worker = makeSweepAccount(createSweepWorkerRuntime(loadConfig({ CLOUDFRONT_MAX_ATTEMPTS: '1', ...listing }), { credentials: TEST_CREDENTIALS }), {
      onAccountSwept: (account) => void swept.push(account),
    });
    const records = [A, B].map((account, i) => ({ messageId: `m-${i}`, body: JSON.stringify({ account, full: false }) }));
    const r = await captureLogs(() => worker({ Records: records } as SQSEvent, lambdaContext(60_000)));
    assert.deepEqual(r.result, { batchItemFailures: [] });
    assert.equal(orgs.commandCalls(ListAccountsCommand).length, 1, 'no listing by the worker');
    assert.deepEqual(swept, [A, B], "each message's account swept");
  });

  test("sweepQueueMembers: MEMBER_ACCOUNTS is still checked; without it every message's account is taken and nothing is listed", async () => {
    const listed = sweepQueueMembers({ memberAccounts: [A] });
    assert.deepEqual([await listed.isMember(A), await listed.isMember(OUTSIDE)], [true, false]);
    const trusting = sweepQueueMembers({ memberAccounts: [] });
    assert.equal(await trusting.isMember(OUTSIDE), true);
    await assert.rejects(trusting.list(), /never lists the organisation/);
  });

  test('the worker leaves an account it has no time for to the queue, without starting it', async () => {
    cf = fakeCloudFront({ f: opted });
    const handler = makeSweepAccount(testRuntime({ ...ORG, SWEEP_RESERVE_MS: '10000' }));
    const r = await captureLogs(() => handler({ Records: [{ messageId: 'm-a', body: JSON.stringify({ account: A }) }] } as SQSEvent, lambdaContext(5_000)));
    assert.deepEqual(r.result, { batchItemFailures: [{ itemIdentifier: 'm-a' }] });
    assert.equal(cf.calls.length, 0);
    assert.match(String(r.lines.find((l) => l.message === 'account sweep failed')?.error), /NotStartedError.*returns to the queue/);
  });
});
