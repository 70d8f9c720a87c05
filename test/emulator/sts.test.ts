// STS on the emulator through @aws-sdk/client-sts: AssumeRole against the roles' trust lists, the
// issued keys' lifetime on the emulator's clock, GetCallerIdentity, and the query-protocol errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ListFunctionsCommand } from '@aws-sdk/client-cloudfront';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { errorOf, withEmulator } from './helpers';
import { HOME, MEMBER_A, MEMBER_B, ROLE, assume, cloudFrontFor, memberAccountsWithRoles, roleArnIn, staticKey, stsFor } from './org-support';

const ALICE = `arn:aws:iam::${HOME}:user/alice`;
const BOB = `arn:aws:iam::${HOME}:user/bob`;

describe('STS AssumeRole', () => {
  it('issues ASIA keys for the role session: Credentials, AssumedRoleUser, Expiration; the call is logged', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    await withEmulator({ accountId: HOME, now: () => new Date(now) }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      const sts = stsFor(emulator, staticKey('AKIDCENTRAL'));
      const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_A), RoleSessionName: 'sweep', DurationSeconds: 900 }));
      const c = out.Credentials!;
      assert.match(c.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
      assert.ok((c.SecretAccessKey?.length ?? 0) >= 40);
      assert.ok((c.SessionToken?.length ?? 0) > 100);
      assert.deepEqual(c.Expiration, new Date(now + 900_000));
      assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${MEMBER_A}:assumed-role/${ROLE}/sweep`);
      assert.match(out.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z0-9]+:sweep$/);

      // Without DurationSeconds: one hour.
      now += 1000;
      const second = await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_B), RoleSessionName: 'sweep' }));
      assert.deepEqual(second.Credentials?.Expiration, new Date(now + 3_600_000));
      assert.deepEqual(
        emulator.sts.assumeRoleCalls().map((call) => [call.callerArn, call.roleArn, call.sessionName, call.durationSeconds, call.outcome]),
        [
          [`arn:aws:iam::${HOME}:user/AKIDCENTRAL`, roleArnIn(MEMBER_A), 'sweep', 900, 'issued'],
          [`arn:aws:iam::${HOME}:user/AKIDCENTRAL`, roleArnIn(MEMBER_B), 'sweep', 3600, 'issued'],
        ],
      );
      assert.equal(emulator.controls.calls().AssumeRole, 2);
      assert.deepEqual(emulator.cloudTrailEvents(), [], 'STS calls are not CloudTrail-recorded by the emulator');
      sts.destroy();
    });
  });

  it('AccessDenied (403) for a role that does not exist and for one that does not trust the caller', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      emulator.addAccount(MEMBER_A);
      emulator.iam.setPrincipal('AKIDALICE', ALICE);
      emulator.iam.setPrincipal('AKIDBOB', BOB);
      emulator.iam.createRole({ account: MEMBER_A, roleName: 'alice-only', trustedPrincipalArns: [ALICE] });
      emulator.iam.createRole({ account: MEMBER_A, roleName: 'other-org', trustedPrincipalArns: ['arn:aws:iam::999999999999:root'] });
      const bob = stsFor(emulator, staticKey('AKIDBOB'));

      for (const role of [
        roleArnIn(MEMBER_A, 'no-such-role'),
        roleArnIn(MEMBER_A, 'alice-only'),
        roleArnIn(MEMBER_A, 'other-org'),
        'arn:aws:iam::999999999999:role/x',
      ]) {
        const error = await errorOf(() => bob.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'try' })));
        assert.equal(error.name, 'AccessDenied', role);
        assert.equal(error.$metadata?.httpStatusCode, 403);
        assert.equal(error.message, `User: ${BOB} is not authorized to perform: sts:AssumeRole on resource: ${role}`);
      }
      // Exact-ARN trust: alice gets in where bob did not.
      const keys = await assume(emulator, staticKey('AKIDALICE'), roleArnIn(MEMBER_A, 'alice-only'));
      assert.equal(keys.arn, `arn:aws:sts::${MEMBER_A}:assumed-role/alice-only/reconciler`);
      assert.deepEqual(
        emulator.sts.assumeRoleCalls().map((c) => c.outcome),
        ['denied', 'denied', 'denied', 'denied', 'issued'],
      );

      emulator.iam.deleteRole(MEMBER_A, 'alice-only');
      const gone = await errorOf(() => assume(emulator, staticKey('AKIDALICE'), roleArnIn(MEMBER_A, 'alice-only')));
      assert.equal(gone.name, 'AccessDenied');
      bob.destroy();
    });
  });

  it('trust by :root admits any principal of that account, and nobody from another account', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      emulator.iam.setPrincipal('AKIDALICE', ALICE);
      emulator.iam.setPrincipal('AKIDMEMBER', `arn:aws:iam::${MEMBER_B}:user/intruder`);
      await assume(emulator, staticKey('AKIDALICE'), roleArnIn(MEMBER_A));
      await assume(emulator, staticKey('AKIDUNBOUND'), roleArnIn(MEMBER_A));
      const denied = await errorOf(() => assume(emulator, staticKey('AKIDMEMBER'), roleArnIn(MEMBER_A)));
      assert.equal(denied.name, 'AccessDenied');
      assert.match(denied.message, new RegExp(`^User: arn:aws:iam::${MEMBER_B}:user/intruder is not authorized`));
    });
  });

  it('role chaining: a session of a trusted role may assume on, capped at the maximum session (1 h by default)', async () => {
    const start = Date.parse('2026-03-01T10:00:00Z');
    await withEmulator({ accountId: HOME, now: () => new Date(start) }, async (emulator) => {
      emulator.addAccount(MEMBER_A);
      emulator.addAccount(MEMBER_B);
      emulator.iam.setPrincipal('AKIDLAMBDA', `arn:aws:iam::${HOME}:role/central-reconciler`);
      emulator.iam.createRole({ account: MEMBER_A, roleName: 'hop', trustedPrincipalArns: [`arn:aws:iam::${HOME}:role/central-reconciler`] });
      emulator.iam.createRole({ account: MEMBER_B, roleName: 'target', trustedPrincipalArns: [roleArnIn(MEMBER_A, 'hop')] });

      const hop = await assume(emulator, staticKey('AKIDLAMBDA'), roleArnIn(MEMBER_A, 'hop'), { durationSeconds: 7200 });
      const sts = stsFor(emulator, hop);
      const chained = await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_B, 'target'), RoleSessionName: 'chained', DurationSeconds: 7200 }));
      assert.equal(chained.AssumedRoleUser?.Arn, `arn:aws:sts::${MEMBER_B}:assumed-role/target/chained`);
      assert.deepEqual(chained.Credentials?.Expiration, new Date(start + 3_600_000), 'asked 2 h, got 1 h');
      assert.equal(emulator.sts.assumeRoleCalls()[1]?.callerArn, hop.arn);
      // The chain does not run backwards: target does not trust central-reconciler itself.
      assert.equal((await errorOf(() => assume(emulator, staticKey('AKIDLAMBDA'), roleArnIn(MEMBER_B, 'target')))).name, 'AccessDenied');

      emulator.sts.setMaxSessionSeconds(7200);
      const longer = await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_B, 'target'), RoleSessionName: 'chained', DurationSeconds: 7200 }));
      assert.deepEqual(longer.Credentials?.Expiration, new Date(start + 7_200_000));
      assert.throws(() => emulator.sts.setMaxSessionSeconds(899), RangeError);
      assert.throws(() => emulator.sts.setMaxSessionSeconds(43201), RangeError);
      sts.destroy();
    });
  });

  it('ValidationError (400) for a bad RoleSessionName or DurationSeconds, nothing logged', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      const sts = stsFor(emulator, staticKey('AKIDCENTRAL'));
      const cases: Array<[string, number | undefined, RegExp]> = [
        ['x', undefined, /Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2/],
        ['a'.repeat(65), undefined, /at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64/],
        ['has space', undefined, /Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
        ['ok', 899, /Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900/],
        ['ok', 43201, /Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200/],
      ];
      for (const [session, duration, message] of cases) {
        const error = await errorOf(() =>
          sts.send(
            new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_A), RoleSessionName: session, ...(duration === undefined ? {} : { DurationSeconds: duration }) }),
          ),
        );
        assert.equal(error.name, 'ValidationError', session);
        assert.equal(error.$metadata?.httpStatusCode, 400);
        assert.match(error.message, message);
      }
      const both = await errorOf(() => sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_A), RoleSessionName: 'x', DurationSeconds: 1 })));
      assert.match(both.message, /^2 validation errors detected: /);
      // The boundaries are valid.
      await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_A), RoleSessionName: 'ab', DurationSeconds: 900 }));
      await sts.send(new AssumeRoleCommand({ RoleArn: roleArnIn(MEMBER_A), RoleSessionName: 'a+=,.@-_'.padEnd(64, 'z'), DurationSeconds: 43200 }));
      assert.equal(emulator.sts.assumeRoleCalls().length, 2);
      sts.destroy();
    });
  });

  it('an issued key past its expiry: ExpiredToken from CloudFront (403), S3 (400) and STS', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    await withEmulator({ accountId: HOME, now: () => new Date(now) }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      emulator.state.putObject('cases', 'k.json', '{}');
      const keys = await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_A), { durationSeconds: 900 });
      const cf = cloudFrontFor(emulator, keys);
      const s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: keys, maxAttempts: 1 });
      const sts = stsFor(emulator, keys);

      now += 899_000;
      await cf.send(new ListFunctionsCommand({}));
      await s3.send(new GetObjectCommand({ Bucket: 'cases', Key: 'k.json' }));
      now += 1000;
      const expired = await errorOf(() => cf.send(new ListFunctionsCommand({})));
      assert.equal(expired.name, 'ExpiredToken');
      assert.equal(expired.message, 'The security token included in the request is expired');
      assert.equal(expired.$metadata?.httpStatusCode, 403);
      const fromS3 = await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'cases', Key: 'k.json' })));
      assert.equal(fromS3.name, 'ExpiredToken');
      assert.equal(fromS3.$metadata?.httpStatusCode, 400);
      const fromSts = await errorOf(() => sts.send(new GetCallerIdentityCommand({})));
      assert.equal(fromSts.name, 'ExpiredToken');
      // A fresh session works again; the expired call was counted in its account but left no CloudTrail record.
      const fresh = cloudFrontFor(emulator, await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_A)));
      await fresh.send(new ListFunctionsCommand({}));
      assert.equal(emulator.account(MEMBER_A).controls.calls().ListFunctions, 3);
      for (const c of [cf, s3, sts, fresh]) c.destroy();
    });
  });

  it('GetCallerIdentity: the home user of an unbound key, a bound user, an assumed-role session', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      emulator.iam.setPrincipal('AKIDALICE', `arn:aws:iam::${MEMBER_B}:user/alice`);
      const who = async (keys: Parameters<typeof stsFor>[1]) => {
        const sts = stsFor(emulator, keys);
        try {
          const out = await sts.send(new GetCallerIdentityCommand({}));
          return [out.Account, out.Arn, out.UserId];
        } finally {
          sts.destroy();
        }
      };
      const [account, arn, userId] = await who(staticKey('AKIDSOMEONE'));
      assert.deepEqual([account, arn], [HOME, `arn:aws:iam::${HOME}:user/AKIDSOMEONE`]);
      assert.match(userId ?? '', /^AIDA/);
      assert.deepEqual((await who(staticKey('AKIDALICE'))).slice(0, 2), [MEMBER_B, `arn:aws:iam::${MEMBER_B}:user/alice`]);
      const session = await who(await assume(emulator, staticKey('AKIDSOMEONE'), roleArnIn(MEMBER_A), { sessionName: 'me' }));
      assert.deepEqual(session.slice(0, 2), [MEMBER_A, `arn:aws:sts::${MEMBER_A}:assumed-role/${ROLE}/me`]);
      assert.match(session[2] ?? '', /^AROA[A-Z0-9]+:me$/);
      assert.equal(emulator.controls.calls().GetCallerIdentity, 3);
    });
  });

  it('an unknown Action answers InvalidAction in the query error shape', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const res = await fetch(`${emulator.endpoint}/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'Action=GetSessionToken&Version=2011-06-15',
      });
      assert.equal(res.status, 400);
      const text = await res.text();
      assert.match(text, /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/);
      assert.match(text, /<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
      assert.equal(emulator.controls.calls().Unknown, 1);
    });
  });

  it('iam.createRole refuses an unknown account, a bad name, a bad trust ARN, a duplicate', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      emulator.addAccount(MEMBER_A);
      const ok = { account: MEMBER_A, roleName: 'r', trustedPrincipalArns: [ALICE] };
      assert.deepEqual(emulator.iam.createRole(ok), { arn: roleArnIn(MEMBER_A, 'r'), trustedPrincipalArns: [ALICE] });
      assert.throws(() => emulator.iam.createRole(ok), RangeError);
      assert.throws(() => emulator.iam.createRole({ ...ok, account: '999999999999' }), RangeError);
      assert.throws(() => emulator.iam.createRole({ ...ok, roleName: 'has space' }), RangeError);
      assert.throws(() => emulator.iam.createRole({ ...ok, roleName: 'r2', trustedPrincipalArns: ['alice'] }), RangeError);
      assert.throws(() => emulator.iam.deleteRole(MEMBER_A, 'nope'), RangeError);
      assert.deepEqual(emulator.iam.roles(), [{ arn: roleArnIn(MEMBER_A, 'r'), trustedPrincipalArns: [ALICE] }]);
    });
  });
});
