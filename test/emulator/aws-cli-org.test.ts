// The real AWS CLI (botocore) in organisation mode: a world set up over the control HTTP API, then
// `aws sts`, `aws organizations` and `aws cloudfront` with the issued keys. Skipped when `aws` is not
// installed; emulator/ORGANIZATIONS.md has a transcript.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { withEmulator } from './helpers';

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);
const HOME = '111111111111';
const A = '222222222222';
const B = '333333333333';
const ROLE_A = `arn:aws:iam::${A}:role/cf-autopublish-member`;

type Keys = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_SESSION_TOKEN?: string };
const central: Keys = { AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'x' };

async function awsCli(endpoint: string, keys: Keys, args: string[]): Promise<{ ok: true; out: any } | { ok: false; stderr: string }> {
  // The keys replace any the environment has: AWS_SESSION_TOKEN must not leak in from outside.
  const { AWS_SESSION_TOKEN: _ignored, AWS_PROFILE: _profile, ...outer } = process.env;
  const env = { ...outer, ...keys, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
  try {
    const { stdout } = await run('aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], { env });
    return { ok: true, out: stdout.trim() === '' ? undefined : JSON.parse(stdout) };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}

async function control(endpoint: string, method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${endpoint}/_emulator/${path}`, { method, body: JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

describe('the AWS CLI in organisation mode', { skip: hasAws ? false : 'aws CLI not installed' }, () => {
  it('sts get-caller-identity and assume-role, cloudfront with the issued keys, organizations list-accounts (paged)', async () => {
    await withEmulator({ accountId: HOME }, async (emulator) => {
      const ep = emulator.endpoint;
      await control(ep, 'POST', 'accounts', { accountId: A, name: 'web' });
      await control(ep, 'POST', 'accounts', { accountId: B, name: 'legacy', state: 'SUSPENDED' });
      await control(ep, 'POST', 'roles', { account: A, roleName: 'cf-autopublish-member', trustedPrincipalArns: [`arn:aws:iam::${HOME}:root`] });
      await control(ep, 'POST', `functions?account=${A}`, {
        name: 'url-rewrite',
        code: 'function handler(e) { return e.request; }',
        tags: { 'auto-publish': 'true' },
      });

      const me = await awsCli(ep, central, ['sts', 'get-caller-identity']);
      assert.ok(me.ok, me.ok ? '' : me.stderr);
      assert.deepEqual([me.out.Account, me.out.Arn], [HOME, `arn:aws:iam::${HOME}:user/AKIDCLI`]);

      const assumed = await awsCli(ep, central, ['sts', 'assume-role', '--role-arn', ROLE_A, '--role-session-name', 'cli', '--duration-seconds', '900']);
      assert.ok(assumed.ok, assumed.ok ? '' : assumed.stderr);
      const c = assumed.out.Credentials;
      assert.match(c.AccessKeyId, /^ASIA/);
      assert.equal(assumed.out.AssumedRoleUser.Arn, `arn:aws:sts::${A}:assumed-role/cf-autopublish-member/cli`);
      assert.ok(!Number.isNaN(Date.parse(c.Expiration)));
      const memberKeys: Keys = { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken };

      const listed = await awsCli(ep, memberKeys, ['cloudfront', 'list-functions']);
      assert.ok(listed.ok, listed.ok ? '' : listed.stderr);
      assert.deepEqual(
        listed.out.FunctionList.Items.map((f: { Name: string; FunctionMetadata: { FunctionARN: string } }) => f.FunctionMetadata.FunctionARN),
        [`arn:aws:cloudfront::${A}:function/url-rewrite`],
      );
      const inHome = await awsCli(ep, central, ['cloudfront', 'list-functions']);
      assert.ok(inHome.ok);
      assert.equal(inHome.out.FunctionList.Items?.length ?? 0, 0);

      // --page-size 1: one request per account, the CLI following NextToken.
      const accounts = await awsCli(ep, central, ['organizations', 'list-accounts', '--page-size', '1']);
      assert.ok(accounts.ok, accounts.ok ? '' : accounts.stderr);
      assert.deepEqual(
        accounts.out.Accounts.map((a: { Id: string; State: string; Name: string }) => [a.Id, a.State, a.Name]),
        [
          [HOME, 'ACTIVE', `account-${HOME}`],
          [A, 'ACTIVE', 'web'],
          [B, 'SUSPENDED', 'legacy'],
        ],
      );
      assert.equal(emulator.controls.calls().ListAccounts, 3);

      const fromMember = await awsCli(ep, memberKeys, ['organizations', 'list-accounts']);
      assert.ok(!fromMember.ok);
      assert.match(
        fromMember.stderr,
        /\(AccessDeniedException\) when calling the ListAccounts operation: You don't have permissions to access this resource\./,
      );

      const denied = await awsCli(ep, central, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${B}:role/none`, '--role-session-name', 'cli']);
      assert.ok(!denied.ok);
      assert.match(
        denied.stderr,
        new RegExp(
          `\\(AccessDenied\\) when calling the AssumeRole operation: User: arn:aws:iam::${HOME}:user/AKIDCLI is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${B}:role/none`,
        ),
      );
    });
  });
});
