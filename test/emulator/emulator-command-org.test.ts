// `cf-autopublish emulator` once a member account exists: each printed CloudTrail line names the
// account, and a role session (which has no user name) by its ARN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand } from '@aws-sdk/client-cloudfront';
import { runEmulator } from '../../cli/emulator-command';
import type { Io } from '../../cli/io';
import { CODE, encode } from './helpers';
import { assume, cloudFrontFor, staticKey } from './org-support';

test('emulator command: CloudTrail lines carry the account and the assumed-role ARN', async () => {
  const out: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: () => {}, interactive: false, env: {} };
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const running = runEmulator({ account: '111111111111', until }, io);
  while (!out.some((l) => l.includes('listening on'))) await new Promise((res) => setTimeout(res, 10));
  const endpoint = /listening on (http:\/\/\S+)/.exec(out[0] ?? '')?.[1] ?? '';
  const control = (path: string, body: unknown) => fetch(`${endpoint}/_emulator/${path}`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await control('accounts', { accountId: '222222222222' })).status, 201);
  assert.equal((await control('roles', { account: '222222222222', roleName: 'member', trustedPrincipalArns: ['arn:aws:iam::111111111111:root'] })).status, 201);

  const keys = await assume({ endpoint }, staticKey('AKIDWATCH'), 'arn:aws:iam::222222222222:role/member', { sessionName: 'watch' });
  const cf = cloudFrontFor({ endpoint }, keys);
  await cf.send(new CreateFunctionCommand({ Name: 'watched', FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode(CODE) }));
  cf.destroy();
  assert.ok(
    out.some((l) => / 222222222222 arn:aws:sts::222222222222:assumed-role\/member\/watch CreateFunction\S* watched$/.test(l)),
    out.join('\n'),
  );
  stop();
  assert.equal(await running, 0);
});
