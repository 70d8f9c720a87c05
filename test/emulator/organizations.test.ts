// Organizations ListAccounts on the emulator through @aws-sdk/client-organizations: every account, in
// creation order, paged as paginateListAccounts pages it; only the management account may list.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListAccountsCommand, paginateListAccounts, type Account } from '@aws-sdk/client-organizations';
import { startEmulator } from '../../emulator';
import { errorOf, withEmulator } from './helpers';
import { HOME, MEMBER_A, assume, memberAccountsWithRoles, organizationsFor, roleArnIn, staticKey } from './org-support';

const memberId = (i: number) => String(200000000000 + i);

describe('Organizations ListAccounts', () => {
  it('pages through every account with paginateListAccounts: home first, creation order, ACTIVE and SUSPENDED', async () => {
    const joined = Date.parse('2026-02-01T08:00:00.250Z');
    await withEmulator({ accountId: HOME, now: () => new Date(joined) }, async (emulator) => {
      for (let i = 1; i <= 24; i++) emulator.addAccount(memberId(i), i % 5 === 0 ? { state: 'SUSPENDED' } : {});
      emulator.addAccount('999999999999', { name: 'Payments', email: 'aws+payments@example.org' });
      const org = organizationsFor(emulator, staticKey('AKIDCENTRAL'));

      const pages: Account[][] = [];
      for await (const page of paginateListAccounts({ client: org, pageSize: 7 }, {})) pages.push(page.Accounts ?? []);
      assert.deepEqual(
        pages.map((p) => p.length),
        [7, 7, 7, 5],
      );
      const accounts = pages.flat();
      assert.deepEqual(
        accounts.map((a) => a.Id),
        emulator.accounts(),
      );
      assert.equal(accounts[0]?.Id, HOME);
      const suspended = accounts.filter((a) => a.State === 'SUSPENDED').map((a) => a.Id);
      assert.deepEqual(suspended, [5, 10, 15, 20].map(memberId));
      for (const a of accounts) {
        assert.ok(a.State === 'ACTIVE' || a.State === 'SUSPENDED', `${a.Id} has a State`);
        assert.equal(a.Status, a.State);
        assert.equal(a.Arn, `arn:aws:organizations::${HOME}:account/${emulator.organization.id}/${a.Id}`);
        assert.equal(a.JoinedMethod, 'CREATED');
        assert.deepEqual(a.JoinedTimestamp, new Date(joined));
      }
      assert.match(emulator.organization.id, /^o-[a-z0-9]{10}$/);
      const payments = accounts.at(-1)!;
      assert.deepEqual([payments.Name, payments.Email], ['Payments', 'aws+payments@example.org']);

      // No MaxResults: 20 a page, the real default.
      const first = await org.send(new ListAccountsCommand({}));
      assert.equal(first.Accounts?.length, 20);
      assert.ok(first.NextToken);
      const rest = await org.send(new ListAccountsCommand({ NextToken: first.NextToken }));
      assert.equal(rest.Accounts?.length, 6);
      assert.equal(rest.NextToken, undefined);
      assert.equal(emulator.controls.calls().ListAccounts, 6);
      org.destroy();
    });
  });

  it('a member account caller is denied: AccessDeniedException (400)', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      memberAccountsWithRoles(emulator);
      const keys = await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(MEMBER_A));
      const member = organizationsFor(emulator, keys);
      const error = await errorOf(() => member.send(new ListAccountsCommand({})));
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.message, "You don't have permissions to access this resource.");
      assert.equal(error.$metadata?.httpStatusCode, 400);
      emulator.iam.setPrincipal('AKIDMEMBERUSER', `arn:aws:iam::${MEMBER_A}:user/ops`);
      const user = organizationsFor(emulator, staticKey('AKIDMEMBERUSER'));
      assert.equal((await errorOf(() => user.send(new ListAccountsCommand({})))).name, 'AccessDeniedException');
      // A role session in the management account may list.
      emulator.iam.createRole({ account: HOME, roleName: 'lister', trustedPrincipalArns: [`arn:aws:iam::${HOME}:root`] });
      const lister = organizationsFor(emulator, await assume(emulator, staticKey('AKIDCENTRAL'), roleArnIn(HOME, 'lister')));
      assert.equal((await lister.send(new ListAccountsCommand({}))).Accounts?.length, 3);
      for (const c of [member, user, lister]) c.destroy();
    });
  });

  it('InvalidInputException for MaxResults out of 1-20 and a forged NextToken', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const org = organizationsFor(emulator, staticKey('AKIDCENTRAL'));
      for (const MaxResults of [0, 21]) {
        const error = await errorOf(() => org.send(new ListAccountsCommand({ MaxResults })));
        assert.equal(error.name, 'InvalidInputException', String(MaxResults));
        assert.equal(error.$metadata?.httpStatusCode, 400);
      }
      const forged = await errorOf(() => org.send(new ListAccountsCommand({ NextToken: 'bm90LWEtdG9rZW4' })));
      assert.equal(forged.name, 'InvalidInputException');
      assert.equal((forged as unknown as { Reason?: string }).Reason, 'INVALID_NEXT_TOKEN');
      assert.equal((await org.send(new ListAccountsCommand({ MaxResults: 20 }))).Accounts?.length, 1);
      org.destroy();
    });
  });

  it('the JSON 1.1 wire: x-amzn-ErrorType on errors, UnknownOperationException for another target', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const post = (target: string, body = '{}') =>
        fetch(`${emulator.endpoint}/`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
          body,
        });
      const unknown = await post('AWSOrganizationsV20161128.CreateAccount');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
      assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException');
      const listed = await post('AWSOrganizationsV20161128.ListAccounts', '{"MaxResults":1}');
      assert.equal(listed.headers.get('content-type'), 'application/x-amz-json-1.1');
      const body = (await listed.json()) as { Accounts: Array<Record<string, unknown>>; NextToken?: string };
      assert.equal(typeof body.Accounts[0]?.JoinedTimestamp, 'number', 'epoch seconds');
      assert.equal(body.NextToken, undefined, 'one account, one page');
    });
  });

  it('options.organizationId names the organisation; a malformed one is refused', async () => {
    await withEmulator({ accountId: HOME, organizationId: 'o-abcdef1234' }, async (emulator) => {
      assert.equal(emulator.organization.id, 'o-abcdef1234');
      assert.equal(emulator.organization.accounts()[0]?.Arn, `arn:aws:organizations::${HOME}:account/o-abcdef1234/${HOME}`);
    });
    await assert.rejects(() => startEmulator({ organizationId: 'org-1' }), RangeError);
  });
});
