/**
 * Connection functions end to end (issue 19): the real SDK over HTTP against the emulator, its
 * CloudTrail records of connection functions on the local bus with the rule from serverless.yml, and
 * the real handlers. Every scenario runs under every value of every connection-function variant the
 * emulator defines: its 16 readings of CloudFront's answers and its 24 record shapes. One local stack
 * serves the whole file: between readings the variants are switched and the account emptied, rather
 * than a stack started per case.
 */
import './support';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionCombinations, describeVariants, type Variants } from '../../emulator';
import { type LocalStack, RECONCILER_ACTOR, startLocalStack } from '../../local/local-stack';
import { editConnectionFunction } from '../../local/console-edit';
import { smokeConnectionEvent } from '../../lib/gate';
import {
  ALLOWS,
  CONNECTION_READINGS,
  connectionOf,
  connectionPublishes,
  create,
  createConnection,
  DENIES,
  HISTORY_BUCKET,
  savedRecords,
  startOver,
  stateOf,
  tagConnection,
  titleOf,
  untagConnection,
  update,
} from './support';

const PAUSE_PARAMETER = '/cloudfront-autopublish/local/pause';
const CASES_BUCKET = 'gate-cases';
/**
 * A small TestConnectionFunction budget, only while the busy loop below is tested, keeps it short: 300
 * ms of 400 reads at least 75 (maximum 70), the slower the machine the higher. Every other version runs
 * under the emulator's default budget, so a loaded machine cannot push a good one over the maximum.
 */
const BUDGET_MS = 400;

const READINGS = CONNECTION_READINGS;
/** The readings of CloudFront's answers (the record shape at its default): what the gate, pause and history depend on. */
const ANSWER_READINGS = connectionCombinations();

let stack: LocalStack;
before(async () => {
  stack = await startLocalStack({
    settings: { HISTORY_BUCKET, PAUSE_PARAMETER, PAUSE_CACHE_SECONDS: '0', TEST_CASES_BUCKETS: CASES_BUCKET },
  });
});
after(() => stack.close());

/** Switches to `variants` and starts from an empty account (functions, buckets, the pause parameter), with no outcome kept. */
async function under(variants: Variants): Promise<void> {
  await startOver(stack, variants);
  stack.emulator.state.createBucket(HISTORY_BUCKET);
  assert.equal(describeVariants(stack.emulator.controls.variants()), describeVariants(variants));
}

const outcomesOf = (name: string) => stack.outcomes.filter((o) => o.functionName === name);
const deliveredNames = (from: number) =>
  stack.bus
    .deliveries()
    .slice(from)
    .filter((d) => d.status === 'delivered')
    .map((d) => (d.event.detail as { eventName: string }).eventName);

// ------------------------------------------------------------------------------ event path and sweep

describe('connection functions: event path and sweep, under every reading', () => {
  for (const variants of READINGS) {
    test(`[${titleOf(variants)}] a console create and edit of an opted-in one go live; one not opted in never publishes until tagged; a lost event is repaired by the sweep`, async () => {
      await under(variants);
      const console = stack.clientFor('console-user');
      const deliveriesBefore = stack.bus.deliveries().length;

      // Opted in at creation, edited in the console: each version goes live from its own event.
      const gate = await createConnection(console, 'mtls-gate', ALLOWS('v1'));
      await stack.settle();
      assert.deepEqual([connectionOf(stack, gate.id).liveCode, connectionOf(stack, gate.id).inSync], [ALLOWS('v1'), true], 'v1 live on creation');
      const v2 = await editConnectionFunction(console, gate.id, ALLOWS('v2'));
      await stack.settle();
      assert.equal(connectionOf(stack, gate.id).dev, v2);
      assert.deepEqual(
        [connectionOf(stack, gate.id).liveCode, connectionOf(stack, gate.id).inSync],
        [ALLOWS('v2'), true],
        `the console edit is live: ${JSON.stringify(stack.outcomes.map((o) => [o.trigger, o.action, o.etag, o.error]))}`,
      );

      // Not opted in: created and edited, never published, whatever the record says.
      const other = await createConnection(console, 'not-mine', ALLOWS('v1'), false);
      const otherEdit = await editConnectionFunction(console, other.id, ALLOWS('v2'));
      await stack.settle();
      await stack.sweep();
      assert.equal(connectionOf(stack, other.id).live, undefined, 'not opted in: never published');
      assert.deepEqual(connectionPublishes(stack, other.id), []);

      // TagResource on its connection-function ARN, after the fact: published at once.
      await tagConnection(console, other.arn);
      await stack.settle();
      assert.deepEqual([connectionOf(stack, other.id).dev, connectionOf(stack, other.id).liveCode], [otherEdit, ALLOWS('v2')], 'the tag opts it in');

      // The edit's record lost: nothing on the event path; the drift sweep repairs it.
      stack.loseNext((e) => e.detail.eventName.startsWith('UpdateConnectionFunction'));
      await editConnectionFunction(console, gate.id, ALLOWS('v3'));
      await stack.settle();
      assert.equal(connectionOf(stack, gate.id).liveCode, ALLOWS('v2'), 'the event was lost: nothing published yet');
      const summary = await stack.sweep();
      assert.equal(connectionOf(stack, gate.id).liveCode, ALLOWS('v3'), 'the sweep published it');
      assert.deepEqual(
        summary.outcomes.filter((o) => o.action === 'published').map((o) => [o.functionName, o.functionArn]),
        [['mtls-gate', gate.arn]],
        'the sweep published the drifted function, and only it',
      );

      // Opted out again: an edit and a sweep publish nothing.
      await untagConnection(console, other.arn);
      await editConnectionFunction(console, other.id, ALLOWS('v3'));
      await stack.settle();
      await stack.sweep();
      assert.equal(connectionOf(stack, other.id).liveCode, ALLOWS('v2'), 'opted out: the edit stays in DEVELOPMENT');

      // What reached the handler: the records of the writes, never our own publishes.
      const suffix = variants.cloudTrailEventName === 'suffixed' ? '2020_05_31' : '';
      assert.deepEqual(
        deliveredNames(deliveriesBefore),
        [
          'CreateConnectionFunction',
          'UpdateConnectionFunction',
          'CreateConnectionFunction',
          'UpdateConnectionFunction',
          'TagResource',
          'UpdateConnectionFunction',
        ].map((name) => name + suffix),
        'the lost record and UntagResource (no rule matches it) never reach it',
      );
      // A record that names no function is swept for and kept as a failure; only those.
      const unnamed = variants.cloudTrailFunctionName === 'neither' || variants.cloudTrailFunctionName === 'responseElements';
      assert.equal(stack.failureQueue.length > 0, unnamed, `failures: ${stack.failureQueue.map((f) => f.responsePayload.errorMessage).join('; ')}`);
      for (const record of stack.failureQueue) assert.equal(record.responsePayload.errorType, 'BadEventError');
      assert.equal(stack.bus.deadLetters().length, 0);
      // Every publish was the reconciler's and each ended a differing LIVE: v1, v2, v3 of one, v2 of the other.
      assert.equal(connectionPublishes(stack, gate.id).length, 3);
      assert.equal(connectionPublishes(stack, other.id).length, 1);
      assert.ok(
        stack.outcomes.every((o) => o.action !== 'failed'),
        JSON.stringify(stack.outcomes.filter((o) => o.action === 'failed')),
      );
    });
  }
});

// ------------------------------------------------------------------------------------ publish gate

const THROWS = (label: string) => `function connectionHandler(connection) { throw new Error('broken by ${label}'); }`;
const UNDECIDED = (label: string) => `function connectionHandler(connection) { /* ${label} */ connection.logCustomData('looked, decided nothing'); }`;
const BUSY = (label: string, ms: number) =>
  `function connectionHandler(connection) { /* ${label} */ var end = Date.now() + ${ms}; while (Date.now() < end) {} connection.allow(); }`;
/** Allows only the certificate a user's case names. */
const ALLOWS_DEVICE = (label: string, subject: string) =>
  `function connectionHandler(connection) { /* ${label} */ if (connection.clientCertificate.certificates.leaf.subject === ${JSON.stringify(subject)}) connection.allow(); else connection.deny(); }`;

describe('connection functions: the publish gate, under every reading of CloudFront', () => {
  for (const variants of ANSWER_READINGS) {
    test(`[${titleOf(variants)}] a throw, no decision and compute over the maximum are blocked, LIVE kept; a deny goes live`, async () => {
      await under(variants);
      const console = stack.clientFor('console-user');
      const fn = await createConnection(console, 'device-check', ALLOWS('v1'));
      await stack.settle();
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v1'));

      const cases: [string, string, RegExp][] = [
        ['throws', THROWS('v2'), /^smoke connection-request: the function threw: broken by v2$/],
        ['decides nothing', UNDECIDED('v3'), /^smoke connection-request: the function made no decision: it must call allow or deny/],
        // A loaded machine can stretch the 300 ms loop past the 400 ms budget: a timeout blocks it for the same cause.
        [
          'over the compute maximum',
          BUSY('v4', 300),
          /^smoke connection-request: (ComputeUtilization \d+ is above the maximum 70|the function threw: The function exceeded the maximum compute time)/,
        ],
      ];
      const budget = stack.emulator.controls.testFunctionBudget();
      for (const [what, source, reason] of cases) {
        if (what === 'over the compute maximum') stack.emulator.controls.setTestFunctionBudget(BUDGET_MS);
        const etag = await editConnectionFunction(console, fn.id, source);
        await stack.settle();
        stack.emulator.controls.setTestFunctionBudget(budget);
        assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v1'), `${what}: LIVE keeps v1`);
        const blocked = outcomesOf('device-check').at(-1);
        assert.deepEqual([blocked?.action, blocked?.etag, blocked?.blocked?.testCase], ['blocked', etag, 'smoke connection-request'], what);
        assert.match(blocked?.blocked?.reason ?? '', reason, what);
      }

      // A deny is a decision: the smoke test passes it.
      await editConnectionFunction(console, fn.id, DENIES('v5'));
      await stack.settle();
      assert.equal(connectionOf(stack, fn.id).liveCode, DENIES('v5'), 'the deny went live');
      assert.deepEqual(
        outcomesOf('device-check').map((o) => o.action),
        ['published', 'blocked', 'blocked', 'blocked', 'published'],
      );
      // Each blocked version was tested, never published: three TestConnectionFunction answers blocked them.
      assert.equal(connectionPublishes(stack, fn.id).length, 2);
    });

    test(`[${titleOf(variants)}] a user's connection-request case from S3 expecting allow blocks a deny`, async () => {
      await under(variants);
      const device = (smokeConnectionEvent() as { clientCertificate: { certificates: { leaf: { subject: string } } } }).clientCertificate.certificates.leaf
        .subject;
      const known = structuredClone(smokeConnectionEvent());
      stack.emulator.state.putObject(
        CASES_BUCKET,
        'device-check/cases.json',
        JSON.stringify([{ name: 'a known device is allowed', eventType: 'connection-request', event: known, expect: 'allow' }]),
      );
      const ci = stack.clientFor('ci-job');
      const tags = { 'auto-publish': 'true', 'auto-publish-tests': `s3://${CASES_BUCKET}/device-check/cases.json` };
      const fn = await createConnection(ci, 'device-check', ALLOWS_DEVICE('v1', device), tags);
      await stack.settle();
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS_DEVICE('v1', device), 'the case passed');

      // An edit that denies every device: smoke would pass it; the user's case does not.
      const denying = await editConnectionFunction(ci, fn.id, ALLOWS_DEVICE('v2', 'CN=nobody'));
      await stack.settle();
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS_DEVICE('v1', device), 'LIVE unchanged');
      const blocked = outcomesOf('device-check').at(-1);
      assert.deepEqual([blocked?.action, blocked?.etag, blocked?.blocked?.testCase], ['blocked', denying, 'a known device is allowed']);
      assert.equal(blocked?.blocked?.reason, 'a known device is allowed: expected allow, the function decided deny');
    });
  }
});

// --------------------------------------------------------------------------------- pause and history

describe('connection functions: pause and history, under every reading of CloudFront', () => {
  for (const variants of ANSWER_READINGS) {
    test(`[${titleOf(variants)}] paused: the edit is held by the event path and the sweep, nothing tested or published; resumed: the sweep publishes it`, async () => {
      await under(variants);
      const console = stack.clientFor('console-user');
      const fn = await createConnection(console, 'mtls-gate', ALLOWS('v1'));
      await stack.settle();
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v1'));
      stack.emulator.ssm.putParameter(PAUSE_PARAMETER, 'paused: incident 4711');
      stack.emulator.controls.resetCalls();
      await editConnectionFunction(console, fn.id, ALLOWS('v2'));
      await stack.settle();
      const held = await stack.sweep();
      assert.deepEqual(
        outcomesOf('mtls-gate')
          .slice(1)
          .map((o) => [o.decidedBy, o.action, o.pause]),
        [
          ['event', 'paused', 'paused: incident 4711'],
          ['sweep', 'paused', 'paused: incident 4711'],
        ],
      );
      assert.equal(held.counts.paused, 1);
      const calls = stack.emulator.controls.calls();
      assert.equal(calls.TestConnectionFunction, undefined, 'no TestConnectionFunction while paused');
      assert.equal(calls.PublishConnectionFunction, undefined, 'no PublishConnectionFunction while paused');
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v1'), 'LIVE keeps v1');

      stack.emulator.ssm.putParameter(PAUSE_PARAMETER, 'active');
      const resumed = await stack.sweep();
      assert.equal(resumed.counts.published, 1);
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v2'));
    });

    test(`[${titleOf(variants)}] history: LIVE saved before a connection publish, under its own key, apart from an ordinary function of the same name`, async () => {
      await under(variants);
      const console = stack.clientFor('console-user');
      // The same name in both kinds, both opted in, both published on creation.
      await create(console, 'shared-name', true);
      const fn = await createConnection(console, 'shared-name', ALLOWS('v1'));
      await stack.settle();
      const v1Live = connectionOf(stack, fn.id).live;
      assert.ok(v1Live, 'the connection function went live on creation');
      assert.deepEqual(await savedRecords(stack), [], 'nothing LIVE to save before the first publishes');

      const calls: string[] = [];
      stack.emulator.controls.setAuthorizer((request) => {
        if (request.actor === RECONCILER_ACTOR) calls.push(request.operation);
        return true;
      });
      try {
        await editConnectionFunction(console, fn.id, ALLOWS('v2'));
        await update(console, 'shared-name', 'v2');
        await stack.settle();
      } finally {
        stack.emulator.controls.setAuthorizer(undefined);
      }
      assert.equal(connectionOf(stack, fn.id).liveCode, ALLOWS('v2'));
      assert.equal(stateOf(stack, 'shared-name').inSync, true);
      const get = calls.indexOf('GetConnectionFunction');
      const publish = calls.indexOf('PublishConnectionFunction');
      assert.ok(get !== -1 && get < publish && calls.slice(get, publish).includes('PutObject'), `LIVE read and saved before the publish: ${calls.join(',')}`);

      const saved = await savedRecords(stack);
      const account = stack.emulator.accountId;
      const connection = saved.filter((s) => s.key.startsWith(`${account}/connection-function:${fn.id}/`));
      const ordinary = saved.filter((s) => s.key.startsWith(`${account}/shared-name/`));
      assert.equal(connection.length, 1, saved.map((s) => s.key).join(', '));
      assert.equal(ordinary.length, 1, saved.map((s) => s.key).join(', '));
      assert.equal(saved.length, 2, 'nothing else saved');
      const [{ key, record }] = connection as [(typeof connection)[number]];
      assert.equal(key, `${account}/connection-function:${fn.id}/${record.savedAt}-${v1Live}.json`);
      assert.equal(Buffer.from(record.code, 'base64').toString(), ALLOWS('v1'), 'the code LIVE held');
      assert.deepEqual([record.functionKind, record.functionId, record.etag], ['connection', fn.id, v1Live]);
      assert.equal(
        Buffer.from((ordinary[0] as (typeof saved)[number]).record.code, 'base64')
          .toString()
          .includes('v1'),
        true,
      );
      assert.equal(outcomesOf('shared-name').find((o) => o.functionArn === fn.arn && o.action === 'published' && o.history)?.history, key);
    });
  }
});
