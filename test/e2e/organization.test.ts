/**
 * Organisation mode end to end: the emulator's accounts, STS and Organizations; member buses that
 * forward to the central bus by member/template.yml's rule; the central rule from serverless.yml; the
 * real handlers and the worker draining a local sweep queue. What a test counts is what the emulator
 * saw (its publish log per account, its AssumeRole log), never what our code says it did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand, TagResourceCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { editFunction } from '../../local/console-edit';
import {
  EVENT_HANDLER_ROLE_ARN,
  memberAccount,
  type OrganizationStack,
  type OrganizationStackOptions,
  SWEEP_WORKER_ROLE_ARN,
  startOrganizationStack,
} from '../../local/organization-stack';
import { DEFAULTS } from '../../lib/config';
import { SESSION_SECONDS } from '../../lib/sts-gateway';

const TAG = { Key: 'auto-publish', Value: 'true' };
const code = (v: string) => new TextEncoder().encode(`function handler(event) { // ${v}\n  return event.request;\n}`);

async function withOrganization(options: OrganizationStackOptions, body: (stack: OrganizationStack) => Promise<void>): Promise<void> {
  const stack = await startOrganizationStack({ ...options, settings: { PUBLISH_GATE: 'smoke', ...options.settings } });
  try {
    await body(stack);
  } finally {
    await stack.close();
  }
}

async function create(client: CloudFrontClient, name: string, tagged = true): Promise<void> {
  await client.send(
    new CreateFunctionCommand({
      Name: name,
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: code('v1'),
      ...(tagged ? { Tags: { Items: [TAG] } } : {}),
    }),
  );
}

const published = (stack: OrganizationStack, account: string) =>
  stack.emulator
    .account(account)
    .controls.publishLog()
    .map((p) => p.name);
const liveEtag = (stack: OrganizationStack, account: string, name: string) =>
  stack.emulator
    .account(account)
    .state.snapshot()
    .find((f) => f.name === name)?.live?.etag;
const developmentEtag = (stack: OrganizationStack, account: string, name: string) =>
  stack.emulator
    .account(account)
    .state.snapshot()
    .find((f) => f.name === name)?.development.etag;
/** The role whose session asked (the caller is arn:aws:sts::<account>:assumed-role/<role>/<session>). */
const callerRole = (call: { callerArn: string }) => {
  const [, account, , role] = /^arn:aws:sts::(\d{12}):(assumed-role)\/([^/]+)\//.exec(call.callerArn) ?? [];
  return `arn:aws:iam::${account}:role/${role}`;
};
const assumedInto = (stack: OrganizationStack) => stack.emulator.sts.assumeRoleCalls().map((c) => c.roleArn.split(':')[4]);

test('an edit in account A goes live in A, and nothing happens in B', () =>
  withOrganization({ accounts: 2 }, async (stack) => {
    const [a, b] = stack.members as [string, string];
    // The same name in both accounts, both opted in.
    stack.emulator
      .account(b)
      .state.seed({ name: 'router', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' }, publish: true });
    const userB = stack.clientFor(b, 'bob');
    await create(stack.clientFor(a, 'alice'), 'router');
    await stack.settle();
    assert.deepEqual(published(stack, a), ['router']);
    assert.equal(liveEtag(stack, a, 'router'), developmentEtag(stack, a, 'router'));
    assert.deepEqual(published(stack, b), [], 'B was never published');
    const bCalls = stack.emulator.account(b).controls.calls();
    assert.equal(bCalls.PublishFunction ?? 0, 0);
    assert.equal(bCalls.DescribeFunction ?? 0, 0, 'nothing in B was even read');
    assert.deepEqual(assumedInto(stack), [a], 'only A was entered');
    assert.deepEqual(stack.emulator.sts.assumeRoleCalls().map(callerRole), [EVENT_HANDLER_ROLE_ARN], "as the event handler's own role");
    // B's own edit, later, goes live in B only.
    await editFunction(userB, 'router', 'function handler(e) { return e.request; } // v2');
    await stack.settle();
    assert.deepEqual(published(stack, b), ['router']);
    assert.deepEqual(published(stack, a), ['router'], 'A untouched by B');
    assert.ok(
      stack.outcomes.every((o) => o.functionArn.includes(`::${o.account}:`)),
      'each outcome is about a function of its own account',
    );
  }));

test('an event from an account outside the member list is ignored, with no STS call', () =>
  withOrganization({ accounts: 1, outsiders: 1 }, async (stack) => {
    const [outside] = stack.outsiders as [string];
    // The outsider's function really exists and is opted in: only the list keeps us out.
    await create(stack.clientFor(outside, 'mallory'), 'forged');
    const [record] = stack.emulator.cloudTrailEvents().filter((e) => e.account === outside);
    assert.ok(record, 'the outsider has a CloudTrail record to forge from');
    // Put straight onto the central bus, as a forged PutEvents from inside the organisation would.
    stack.centralBus.put(record);
    await stack.settle();
    assert.deepEqual(stack.emulator.sts.assumeRoleCalls(), [], 'no AssumeRole');
    assert.deepEqual(published(stack, outside), []);
    assert.equal(stack.outcomes.length, 0);
    const deliveries = stack.centralBus.deliveries().filter((d) => d.status === 'delivered');
    assert.match(String((deliveries[0]?.result as { ignored?: string })?.ignored), new RegExp(`${outside} is not in the member list`));
  }));

test('a member without the member stack fails only its own sweep message, which ends in the dead-letter queue', () =>
  withOrganization({ accounts: 3, withoutMemberStack: [memberAccount(2)] }, async (stack) => {
    for (const account of stack.members) {
      stack.emulator.account(account).state.seed({ name: 'edge', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
    }
    const sweep = await stack.sweep();
    assert.equal(sweep.fanOut.accounts, 3);
    assert.deepEqual(sweep.deadLetters, [memberAccount(2)]);
    assert.deepEqual(published(stack, memberAccount(1)), ['edge']);
    assert.deepEqual(published(stack, memberAccount(3)), ['edge']);
    assert.deepEqual(published(stack, memberAccount(2)), []);
    const denied = stack.emulator.sts.assumeRoleCalls().filter((c) => c.outcome === 'denied');
    // maxReceiveCount 3: three receives, each one AssumeRole, then the dead-letter queue.
    assert.equal(denied.length, 3);
    assert.ok(denied.every((c) => c.roleArn === `arn:aws:iam::${memberAccount(2)}:role/${DEFAULTS.memberRoleName}`));
  }));

test('a sweep message that can never succeed, unreadable or for an account outside the member list, is dead-lettered on its first receive', () =>
  withOrganization({ accounts: 2, outsiders: 1 }, async (stack) => {
    const [outside] = stack.outsiders as [string];
    for (const account of [...stack.members, outside]) {
      stack.emulator.account(account).state.seed({ name: 'edge', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
    }
    // On the queue beside the fan-out's own messages, as a stray or forged sender would put them.
    stack.queue.send('{"account": 42}');
    stack.queue.send(JSON.stringify({ account: outside, full: false }));
    const sweep = await stack.sweep();
    assert.deepEqual(sweep.deadLetters, ['{"account": 42}', outside]);
    // Sent by the worker on the first receive (a reason; the redrive policy would give none, and only
    // after three receives an hour apart).
    assert.deepEqual(
      stack.queue.deadLetters.map((m) => [m.body, m.reason]),
      [
        ['{"account": 42}', 'sweep message names no 12-digit account (account: 42)'],
        [JSON.stringify({ account: outside, full: false }), `account ${outside} is not in the member list`],
      ],
    );
    assert.equal(stack.queue.depth, 0, 'nothing returns to the sweep queue');
    assert.deepEqual(assumedInto(stack).sort(), [...stack.members].sort(), 'never a role outside the list');
    assert.ok(
      stack.emulator.sts.assumeRoleCalls().every((c) => callerRole(c) === SWEEP_WORKER_ROLE_ARN),
      "the sweep enters accounts as the worker's own role",
    );
    assert.deepEqual(published(stack, outside), []);
    for (const account of stack.members) assert.deepEqual(published(stack, account), ['edge'], account);
  }));

test('STS is called once per account per credential lifetime, however many events', (t) => {
  // One clock for the emulator (which issues and expires the keys), the SDK (which asks its credential
  // provider again near expiry) and our cache: Date itself, moved by the test.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  return withOrganization({ accounts: 2 }, async (stack) => {
    const [a, b] = stack.members as [string, string];
    const alice = stack.clientFor(a, 'alice');
    const bob = stack.clientFor(b, 'bob');
    for (let i = 0; i < 3; i++) {
      await create(alice, `fn-${i}`);
      await create(bob, `fn-${i}`);
    }
    await stack.settle();
    assert.deepEqual(published(stack, a).length, 3);
    assert.deepEqual(published(stack, b).length, 3);
    assert.deepEqual(assumedInto(stack).sort(), [a, b], 'one AssumeRole per account for six events');
    const [first] = stack.emulator.sts.assumeRoleCalls();
    assert.match(first?.sessionName ?? '', /^cloudfront-autopublish/, 'the session names the reconciler');

    // Within the lifetime, less the refresh window: still the same credentials.
    t.mock.timers.setTime(Date.now() + (SESSION_SECONDS - 6 * 60) * 1000);
    await editFunction(alice, 'fn-0', 'function handler(e) { return e.request; } // v2');
    await stack.settle();
    assert.equal(assumedInto(stack).length, 2);
    // Inside the refresh window: fresh credentials before the old ones expire, then reused.
    t.mock.timers.setTime(Date.now() + 2 * 60 * 1000);
    await editFunction(alice, 'fn-1', 'function handler(e) { return e.request; } // v2');
    await editFunction(alice, 'fn-2', 'function handler(e) { return e.request; } // v2');
    await stack.settle();
    assert.deepEqual(assumedInto(stack).sort(), [a, a, b]);
    // Past the first credentials' expiry: had they been kept, the emulator would answer ExpiredToken.
    t.mock.timers.setTime(Date.now() + 10 * 60 * 1000);
    await editFunction(alice, 'fn-0', 'function handler(e) { return e.request; } // v3');
    await stack.settle();
    assert.deepEqual(assumedInto(stack).sort(), [a, a, b]);
    assert.equal(published(stack, a).length, 7, 'no call failed on expired credentials');
    assert.equal(stack.failureQueue.length, 0);
  });
});

test('a sweep over 20 accounts with one failing still publishes in the other 19', () =>
  withOrganization({ accounts: 20, withoutMemberStack: [memberAccount(7)], workerConcurrency: 4 }, async (stack) => {
    for (const account of stack.members) {
      const state = stack.emulator.account(account).state;
      state.seed({ name: 'headers', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
      state.seed({ name: 'not-mine', code: 'function handler(e) { return e.request; }' });
    }
    const sweep = await stack.sweep();
    assert.deepEqual(sweep.deadLetters, [memberAccount(7)]);
    for (const account of stack.members) {
      assert.deepEqual(published(stack, account), account === memberAccount(7) ? [] : ['headers'], account);
    }
    assert.equal(sweep.swept.size, 19);
    // Each member entered once per receive; the failing one three times.
    const perAccount = new Map<string, number>();
    for (const account of assumedInto(stack)) perAccount.set(account ?? '', (perAccount.get(account ?? '') ?? 0) + 1);
    assert.equal(perAccount.get(memberAccount(7)), 3);
    assert.ok([...perAccount].filter(([account]) => account !== memberAccount(7)).every(([, n]) => n === 1));
  }));

test('with MEMBER_ACCOUNTS empty, the sweep covers the ACTIVE accounts Organizations lists, and no SUSPENDED one', () =>
  withOrganization({ accounts: 3, memberList: 'organization' }, async (stack) => {
    stack.emulator.account(memberAccount(3)).setState('SUSPENDED');
    for (const account of stack.members) {
      stack.emulator.account(account).state.seed({ name: 'edge', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
    }
    const sweep = await stack.sweep();
    // The management account is ACTIVE too: it has no member stack, so its message fails alone.
    assert.equal(sweep.fanOut.accounts, 3, 'central + members 1 and 2');
    assert.deepEqual(sweep.deadLetters, [stack.central]);
    assert.deepEqual(published(stack, memberAccount(1)), ['edge']);
    assert.deepEqual(published(stack, memberAccount(2)), ['edge']);
    assert.deepEqual(published(stack, memberAccount(3)), [], 'SUSPENDED: never listed, never entered');
    assert.ok(!assumedInto(stack).includes(memberAccount(3)));
    assert.equal(stack.emulator.controls.calls().ListAccounts, 1, "the fan-out's listing only: the worker trusts the sweep queue");
  }));

test("one worker sweeping account after account reuses its connections: the member accounts' clients share one HTTP handler", () =>
  withOrganization({ accounts: 5, workerConcurrency: 1 }, async (stack) => {
    for (const account of stack.members) {
      stack.emulator.account(account).state.seed({ name: 'edge', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
    }
    const before = stack.emulator.controls.connections();
    const sweep = await stack.sweep();
    assert.equal(sweep.swept.size, 5);
    // One to STS, and to CloudFront one per listing running at once (both stages of both kinds: four),
    // opened by the first account and reused by the next four; a client per account would open as
    // many again for each of them.
    const opened = stack.emulator.controls.connections() - before;
    assert.ok(opened <= 5, `${opened} connections for 5 accounts swept one after another`);
  }));

/**
 * A record that names no function (emulator variant cloudTrailFunctionName: the name only in
 * responseElements, which a TagResource record lacks, or nowhere): the event handler puts one sweep
 * message for the record's account on the sweep queue, the worker sweeps that account through its
 * member role, and the record is still kept as a failure. No other account is entered.
 */
for (const cloudTrailFunctionName of ['neither', 'responseElements'] as const) {
  test(`a record naming no function (cloudTrailFunctionName=${cloudTrailFunctionName}): its account is swept at once, only it, and the record is kept as a failure`, () =>
    withOrganization({ accounts: 2, emulator: { variants: { cloudTrailFunctionName, cloudTrailEventName: 'plain' } } }, async (stack) => {
      const [a, b] = stack.members as [string, string];
      stack.emulator.account(b).state.seed({ name: 'router', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
      const alice = stack.clientFor(a, 'alice');
      await create(alice, 'router', false);
      await stack.settle();
      const edited = await editFunction(alice, 'router', 'function handler(e) { return e.request; } // v2');
      await stack.settle();
      assert.equal(liveEtag(stack, a, 'router'), undefined, 'not opted in yet');
      // The opt-in tag: its record never names the function under either reading.
      await alice.send(new TagResourceCommand({ Resource: stack.emulator.account(a).state.model.arnFor('router'), Tags: { Items: [TAG] } }));
      await stack.settle();
      assert.equal(liveEtag(stack, a, 'router'), edited, 'live without a scheduled sweep');
      assert.deepEqual(published(stack, b), [], "B's unpublished opted-in function was not touched");
      assert.ok(!assumedInto(stack).includes(b), 'B was never entered');
      assert.equal(stack.queue.depth, 0);
      assert.deepEqual(stack.queue.deadLetters, []);
      const unnamed = cloudTrailFunctionName === 'neither' ? 3 : 1;
      assert.equal(stack.failureQueue.length, unnamed, 'every record naming no function is kept as a failure');
      for (const record of stack.failureQueue) {
        assert.equal(record.responsePayload.errorType, 'BadEventError');
        assert.equal((record.requestPayload as { account?: string }).account, a);
      }
    }));
}

test('a record naming no function from an account outside the member list is ignored: no sweep message, no STS call', () =>
  withOrganization({ accounts: 1, outsiders: 1, emulator: { variants: { cloudTrailFunctionName: 'neither' } } }, async (stack) => {
    const [outside] = stack.outsiders as [string];
    await create(stack.clientFor(outside, 'mallory'), 'forged');
    const [record] = stack.emulator.cloudTrailEvents().filter((e) => e.account === outside);
    assert.equal(record?.detail.requestParameters, 'HIDDEN_DUE_TO_SECURITY_REASONS');
    stack.centralBus.put(record!);
    await stack.settle();
    assert.deepEqual(stack.emulator.sts.assumeRoleCalls(), []);
    assert.deepEqual(published(stack, outside), []);
    assert.equal(stack.failureQueue.length, 0);
    const deliveries = stack.centralBus.deliveries().filter((d) => d.status === 'delivered');
    assert.match(String((deliveries[0]?.result as { ignored?: string })?.ignored), new RegExp(`${outside} is not in the member list`));
  }));
