// Organisation mode: one emulator, many accounts. The account a CloudFront call lands in follows
// the principal behind its access key (an assumed-role session, a bound static key, or the home
// account for any other key), seen through the real SDK clients.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  PublishFunctionCommand,
  TagResourceCommand,
  UpdateFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import { FIRST_FUNCTION_ETAG, etagForVersion } from '../../emulator';
import { CODE, encode, errorOf, withEmulator } from './helpers';
import { HOME, MEMBER_A, MEMBER_B, ROLE, assume, cloudFrontFor, memberAccountsWithRoles, roleArnIn, staticKey } from './org-support';

const config = { Comment: '', Runtime: 'cloudfront-js-2.0' as const };
const create = (name: string) => new CreateFunctionCommand({ Name: name, FunctionConfig: config, FunctionCode: encode(CODE) });
const functionArn = (account: string, name: string) => `arn:aws:cloudfront::${account}:function/${name}`;

describe('many accounts', () => {
  it('two accounts keep their own functions, ETags and tags; CloudTrail names the account of the call', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      const keysA = await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_A), { sessionName: 'sweep-a' });
      const keysB = await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_B), { sessionName: 'sweep-b' });
      const a = cloudFrontFor(emulator, keysA);
      const b = cloudFrontFor(emulator, keysB);
      const home = cloudFrontFor(emulator, staticKey('AKIDCENTRAL'));

      const createdA = await a.send(create('shared'));
      const updatedA = await a.send(new UpdateFunctionCommand({ Name: 'shared', IfMatch: createdA.ETag, FunctionConfig: config, FunctionCode: encode(CODE) }));
      await a.send(new TagResourceCommand({ Resource: functionArn(MEMBER_A, 'shared'), Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] } }));
      await a.send(new PublishFunctionCommand({ Name: 'shared', IfMatch: updatedA.ETag }));
      // The same name in B is another function: it starts its own version sequence, untagged.
      const createdB = await b.send(create('shared'));
      assert.equal(createdA.FunctionSummary?.FunctionMetadata?.FunctionARN, functionArn(MEMBER_A, 'shared'));
      assert.equal(createdB.FunctionSummary?.FunctionMetadata?.FunctionARN, functionArn(MEMBER_B, 'shared'));
      assert.equal(updatedA.ETag, etagForVersion(2));
      assert.equal(createdB.ETag, FIRST_FUNCTION_ETAG);

      const tagsB = await b.send(new ListTagsForResourceCommand({ Resource: functionArn(MEMBER_B, 'shared') }));
      assert.deepEqual(tagsB.Tags?.Items ?? [], []);
      const tagsA = await a.send(new ListTagsForResourceCommand({ Resource: functionArn(MEMBER_A, 'shared') }));
      assert.deepEqual(tagsA.Tags?.Items, [{ Key: 'auto-publish', Value: 'true' }]);
      // An ARN of another account names nothing in this one.
      const foreign = await errorOf(() => b.send(new ListTagsForResourceCommand({ Resource: functionArn(MEMBER_A, 'shared') })));
      assert.equal(foreign.name, 'NoSuchResource');
      assert.equal((await home.send(new ListFunctionsCommand({}))).FunctionList?.Items?.length ?? 0, 0, 'nothing landed in the home account');

      assert.deepEqual(
        emulator
          .account(MEMBER_A)
          .state.snapshot()
          .map((f) => [f.name, f.development.etag, f.live?.etag, f.tags]),
        [['shared', etagForVersion(2), etagForVersion(2), { 'auto-publish': 'true' }]],
      );
      assert.deepEqual(
        emulator
          .account(MEMBER_B)
          .state.snapshot()
          .map((f) => [f.name, f.development.etag, f.live?.etag, f.tags]),
        [['shared', FIRST_FUNCTION_ETAG, undefined, {}]],
      );
      assert.deepEqual(emulator.state.snapshot(), []);

      const events = emulator.cloudTrailEvents();
      assert.deepEqual(
        events.map((e) => [e.detail.eventName, e.account, e.detail.recipientAccountId, e.detail.userIdentity.accountId]),
        [
          ['CreateFunction2020_05_31', MEMBER_A, MEMBER_A, MEMBER_A],
          ['UpdateFunction2020_05_31', MEMBER_A, MEMBER_A, MEMBER_A],
          ['TagResource2020_05_31', MEMBER_A, MEMBER_A, MEMBER_A],
          ['PublishFunction2020_05_31', MEMBER_A, MEMBER_A, MEMBER_A],
          ['CreateFunction2020_05_31', MEMBER_B, MEMBER_B, MEMBER_B],
        ],
      );
      const identity = events[0]!.detail.userIdentity;
      assert.equal(identity.type, 'AssumedRole');
      assert.equal(identity.arn, `arn:aws:sts::${MEMBER_A}:assumed-role/${ROLE}/sweep-a`);
      assert.equal(identity.accessKeyId, keysA.accessKeyId);
      assert.equal(identity.userName, undefined);
      assert.equal(identity.sessionContext?.sessionIssuer.arn, roleArnIn(MEMBER_A));
      assert.equal(identity.sessionContext?.sessionIssuer.userName, ROLE);
      assert.match(identity.principalId, /^AROA[A-Z0-9]+:sweep-a$/);
      const publish = events[3]!.detail.responseElements as { functionSummary: { functionMetadata: { functionARN: string } } };
      assert.equal(publish.functionSummary.functionMetadata.functionARN, functionArn(MEMBER_A, 'shared'));

      // Counts: each account its own CloudFront calls; the top level all of them, STS included.
      assert.deepEqual(emulator.account(MEMBER_A).controls.calls(), {
        CreateFunction: 1,
        UpdateFunction: 1,
        TagResource: 1,
        PublishFunction: 1,
        ListTagsForResource: 1,
      });
      assert.deepEqual(emulator.account(MEMBER_B).controls.calls(), { CreateFunction: 1, ListTagsForResource: 2 });
      assert.deepEqual(emulator.account(HOME).controls.calls(), { ListFunctions: 1 });
      const all = emulator.controls.calls();
      assert.equal(all.AssumeRole, 2);
      assert.equal(all.CreateFunction, 2);
      assert.equal(all.ListTagsForResource, 3);

      const log = emulator.controls.publishLog();
      assert.deepEqual(
        log.map((p) => [p.account, p.name, p.actor, p.principalArn]),
        [[MEMBER_A, 'shared', 'sweep-a', keysA.arn]],
      );
      assert.deepEqual(emulator.account(MEMBER_B).controls.publishLog(), []);
      assert.equal(emulator.account(MEMBER_A).controls.publishLog().length, 1);
      for (const c of [a, b, home]) c.destroy();
    });
  });

  it('rate limit per account: A throttled leaves B alone; a per-account override; accounts added later get the limit', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      emulator.controls.setRateLimit({ ratePerSecond: 0.01, burst: 2 });
      const a = cloudFrontFor(emulator, await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_A)));
      const b = cloudFrontFor(emulator, await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_B)));
      const list = (client: typeof a) => client.send(new ListFunctionsCommand({}));

      await list(a);
      await list(a);
      assert.equal((await errorOf(() => list(a))).name, 'Throttling');
      // B's bucket is its own: still full.
      await list(b);
      await list(b);
      assert.equal((await errorOf(() => list(b))).name, 'Throttling');

      emulator.account(MEMBER_B).controls.setRateLimit(undefined);
      for (let i = 0; i < 5; i++) await list(b);
      assert.equal((await errorOf(() => list(a))).name, 'Throttling', 'the override is B’s alone');

      const later = emulator.addAccount('444444444444');
      emulator.iam.setPrincipal('AKIDLATER', 'arn:aws:iam::444444444444:user/late');
      const c = cloudFrontFor(emulator, staticKey('AKIDLATER'));
      await list(c);
      await list(c);
      assert.equal((await errorOf(() => list(c))).name, 'Throttling');
      assert.equal(later.controls.calls().ListFunctions, 3);
      for (const client of [a, b, c]) client.destroy();
    });
  });

  it('iam.setPrincipal binds a static key to a user or role of a member account', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      emulator.addAccount(MEMBER_A);
      emulator.iam.setPrincipal('AKIDALICE', `arn:aws:iam::${MEMBER_A}:user/alice`);
      emulator.iam.setPrincipal('AKIDLAMBDA', `arn:aws:iam::${MEMBER_A}:role/central-reconciler`);
      const alice = cloudFrontFor(emulator, staticKey('AKIDALICE'));
      const lambda = cloudFrontFor(emulator, staticKey('AKIDLAMBDA'));
      const stranger = cloudFrontFor(emulator, staticKey('AKIDSTRANGER'));
      await alice.send(create('by-alice'));
      await lambda.send(create('by-role'));
      await stranger.send(create('by-stranger'));

      assert.deepEqual(
        emulator
          .account(MEMBER_A)
          .state.snapshot()
          .map((f) => f.name),
        ['by-alice', 'by-role'],
      );
      assert.deepEqual(
        emulator.state.snapshot().map((f) => f.name),
        ['by-stranger'],
      );
      const [byAlice, byRole, byStranger] = emulator.cloudTrailEvents().map((e) => e.detail.userIdentity);
      assert.deepEqual([byAlice?.type, byAlice?.arn, byAlice?.userName], ['IAMUser', `arn:aws:iam::${MEMBER_A}:user/alice`, 'alice']);
      assert.deepEqual([byRole?.type, byRole?.arn], ['AssumedRole', `arn:aws:sts::${MEMBER_A}:assumed-role/central-reconciler/AKIDLAMBDA`]);
      // Unbound keys keep the single-account identity: an IAM user of the home account named after the key.
      assert.deepEqual([byStranger?.type, byStranger?.arn, byStranger?.accountId], ['IAMUser', `arn:aws:iam::${HOME}:user/AKIDSTRANGER`, HOME]);

      assert.throws(() => emulator.iam.setPrincipal('AKIDX', 'arn:aws:iam::999999999999:user/x'), RangeError);
      assert.throws(() => emulator.iam.setPrincipal('AKIDX', `arn:aws:s3:::${MEMBER_A}`), RangeError);
      assert.throws(() => emulator.iam.setPrincipal('AKIDX', `arn:aws:iam::${MEMBER_A}:group/devs`), RangeError);
      for (const c of [alice, lambda, stranger]) c.destroy();
    });
  });

  it('addAccount, account(), accounts(): 12 digits, no duplicates, home first then creation order', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      assert.deepEqual(emulator.accounts(), [HOME]);
      assert.equal(emulator.account(HOME).accountId, HOME);
      assert.equal(emulator.account(HOME).state.model, emulator.state.model, 'account(home) is the home account');
      const b = emulator.addAccount(MEMBER_B);
      emulator.addAccount(MEMBER_A, { name: 'A', email: 'a@example.org', state: 'SUSPENDED' });
      assert.deepEqual(emulator.accounts(), [HOME, MEMBER_B, MEMBER_A]);
      assert.equal(emulator.account(MEMBER_B), b, 'the same object every time');
      for (const bad of ['12345678901', '1234567890123', 'abcdefghijkl', HOME, MEMBER_A]) {
        assert.throws(() => emulator.addAccount(bad), RangeError, bad);
      }
      assert.throws(() => emulator.account('999999999999'), RangeError);
    });
  });

  it('variants: the top level sets every account, present and future; an account may override its own', async () => {
    await withEmulator({ accountId: HOME, variants: { liveLastModifiedTime: 'copied-from-development' } }, async (emulator) => {
      const a = emulator.addAccount(MEMBER_A);
      assert.equal(a.controls.variants().liveLastModifiedTime, 'copied-from-development', 'options.variants reach members');
      emulator.controls.setVariants({ validationError: 'InvalidArgument' });
      const b = emulator.addAccount(MEMBER_B);
      for (const account of [emulator.account(HOME), a, b]) assert.equal(account.controls.variants().validationError, 'InvalidArgument', account.accountId);

      b.controls.setVariants({ validationError: 'MalformedXML' });
      assert.equal(b.controls.variants().validationError, 'MalformedXML');
      assert.equal(a.controls.variants().validationError, 'InvalidArgument');
      assert.equal(emulator.controls.variants().validationError, 'InvalidArgument');
      assert.throws(() => emulator.controls.setVariants({ validationError: 'Nope' as never }), RangeError);
      assert.equal(a.controls.variants().validationError, 'InvalidArgument', 'a bad value changes no account');

      // Observed over the wire: a bad name is InvalidArgument in A, MalformedXML in B.
      emulator.iam.setPrincipal('AKIDA', `arn:aws:iam::${MEMBER_A}:user/a`);
      emulator.iam.setPrincipal('AKIDB', `arn:aws:iam::${MEMBER_B}:user/b`);
      const [ca, cb] = [cloudFrontFor(emulator, staticKey('AKIDA')), cloudFrontFor(emulator, staticKey('AKIDB'))];
      assert.equal((await errorOf(() => ca.send(create('bad name')))).name, 'InvalidArgument');
      assert.equal((await errorOf(() => cb.send(create('bad name')))).name, 'MalformedXML');
      ca.destroy();
      cb.destroy();
    });
  });

  it('quotas set at the top level apply to every account', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      emulator.controls.setFunctionQuota(1);
      const a = emulator.addAccount(MEMBER_A);
      a.state.seed({ name: 'one', code: CODE });
      assert.throws(() => a.state.seed({ name: 'two', code: CODE }), /maximum number of CloudFront functions/);
      emulator.state.seed({ name: 'one', code: CODE });
    });
  });

  it('state.reset() resets the home account only, resetAll() every account; suspended accounts still answer', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const a = emulator.addAccount(MEMBER_A);
      emulator.state.seed({ name: 'home-fn', code: CODE });
      a.state.seed({ name: 'a-fn', code: CODE });
      a.state.createDistribution();
      a.state.putObject('bucket', 'key', 'x');
      a.state.reset();
      assert.deepEqual(a.state.distributions(), []);
      assert.equal(emulator.state.objects().length, 1, "a member's reset leaves the shared S3 alone");
      a.state.seed({ name: 'a-fn', code: CODE });
      emulator.state.reset();
      assert.deepEqual(emulator.state.snapshot(), []);
      assert.deepEqual(
        a.state.snapshot().map((f) => f.name),
        ['a-fn'],
      );
      assert.equal(emulator.state.objects().length, 0);
      emulator.resetAll();
      assert.deepEqual(a.state.snapshot(), []);

      a.setState('SUSPENDED');
      emulator.iam.setPrincipal('AKIDA', `arn:aws:iam::${MEMBER_A}:user/a`);
      const client = cloudFrontFor(emulator, staticKey('AKIDA'));
      await client.send(create('still-served'));
      assert.deepEqual(
        a.state.snapshot().map((f) => f.name),
        ['still-served'],
      );
      assert.throws(() => a.setState('CLOSED' as never), RangeError);
      client.destroy();
    });
  });
});
