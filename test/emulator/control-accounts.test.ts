// The control HTTP routes for organisation mode (emulator/control-http.ts): accounts, roles, bound
// keys, functions seeded into an account, and `?account=` on the existing routes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListFunctionsCommand } from '@aws-sdk/client-cloudfront';
import { CODE, withEmulator } from './helpers';
import { HOME, MEMBER_A, cloudFrontFor, staticKey } from './org-support';

describe('control HTTP: accounts, roles, principals, functions', () => {
  it('builds a multi-account world that the SDK then sees', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${emulator.endpoint}/_emulator/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await res.text();
        return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as any) };
      };

      const added = await call('POST', 'accounts', { accountId: MEMBER_A, name: 'web', email: 'web@example.org' });
      assert.equal(added.status, 201);
      assert.deepEqual([added.body.accountId, added.body.name, added.body.email, added.body.state], [MEMBER_A, 'web', 'web@example.org', 'ACTIVE']);
      assert.equal((await call('POST', 'accounts', { accountId: MEMBER_A })).status, 400, 'a duplicate');
      assert.equal((await call('POST', 'accounts', { accountId: '12' })).body.code, 'InvalidRequest');
      assert.equal((await call('PUT', `accounts/${MEMBER_A}`, { state: 'SUSPENDED' })).body.state, 'SUSPENDED');
      assert.equal((await call('PUT', `accounts/${MEMBER_A}`, { state: 'GONE' })).status, 400);
      assert.equal((await call('PUT', 'accounts/999999999999', { state: 'ACTIVE' })).status, 404);
      assert.deepEqual(
        (await call('GET', 'accounts')).body.map((a: { accountId: string; state: string }) => [a.accountId, a.state]),
        [
          [HOME, 'ACTIVE'],
          [MEMBER_A, 'SUSPENDED'],
        ],
      );

      const role = await call('POST', 'roles', { account: MEMBER_A, roleName: 'member', trustedPrincipalArns: [`arn:aws:iam::${HOME}:root`] });
      assert.equal(role.status, 201);
      assert.equal(role.body.arn, `arn:aws:iam::${MEMBER_A}:role/member`);
      assert.equal((await call('POST', 'roles', { account: '999999999999', roleName: 'x', trustedPrincipalArns: [] })).status, 400);
      assert.equal((await call('GET', 'roles')).body.length, 1);
      assert.equal((await call('DELETE', `roles/${MEMBER_A}/member`)).status, 204);
      assert.deepEqual(emulator.iam.roles(), []);

      const bound = await call('PUT', 'principals/AKIDWEB', { arn: `arn:aws:iam::${MEMBER_A}:user/deployer` });
      assert.deepEqual(bound.body, { accessKeyId: 'AKIDWEB', arn: `arn:aws:iam::${MEMBER_A}:user/deployer`, account: MEMBER_A });
      assert.equal((await call('PUT', 'principals/AKIDX', { arn: 'arn:aws:iam::999999999999:user/x' })).status, 400);

      const seeded = await call('POST', `functions?account=${MEMBER_A}`, { name: 'fn', code: CODE, publish: true, tags: { 'auto-publish': 'true' } });
      assert.equal(seeded.status, 201);
      assert.equal(seeded.body.liveEtag, seeded.body.developmentEtag);
      assert.equal((await call('POST', `functions?account=${MEMBER_A}`, { name: 'fn', code: CODE })).body.code, 'FunctionAlreadyExists');
      assert.equal((await call('POST', 'functions?account=999999999999', { name: 'fn', code: CODE })).body.code, 'NoSuchAccount');
      assert.deepEqual(
        (await call('GET', `functions?account=${MEMBER_A}`)).body.map((f: { name: string; tags: unknown }) => [f.name, f.tags]),
        [['fn', { 'auto-publish': 'true' }]],
      );
      assert.deepEqual((await call('GET', 'functions')).body, [], 'no account: the home account');

      // The bound key sees the seeded function over the wire.
      const cf = cloudFrontFor(emulator, staticKey('AKIDWEB'));
      const listed = await cf.send(new ListFunctionsCommand({ Stage: 'LIVE' }));
      assert.deepEqual(
        listed.FunctionList?.Items?.map((f) => f.Name),
        ['fn'],
      );
      cf.destroy();

      // Distributions and variants take ?account= too; PUT variants without it sets every account.
      const dist = await call('POST', `distributions?account=${MEMBER_A}`, {});
      assert.equal(dist.status, 201);
      assert.equal(emulator.account(MEMBER_A).state.distributions().length, 1);
      assert.equal(emulator.state.distributions().length, 0);
      await call('PUT', `variants?account=${MEMBER_A}`, { validationError: 'InvalidArgument' });
      assert.equal(emulator.controls.variants().validationError, 'MalformedXML');
      assert.equal((await call('GET', `variants?account=${MEMBER_A}`)).body.validationError, 'InvalidArgument');
      await call('PUT', 'variants', { liveLastModifiedTime: 'copied-from-development' });
      assert.equal(emulator.account(MEMBER_A).controls.variants().liveLastModifiedTime, 'copied-from-development');
    });
  });
});
