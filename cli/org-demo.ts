/**
 * `npm start -- --accounts N`: organisation mode on the embedded emulator. A central account runs the
 * reconciler; N member accounts have the member stack (a rule forwarding to the central bus, the
 * member role); one more account of the organisation is not in the member list. People edit functions
 * in every account; the event path publishes through each member's role, then one fanned-out sweep
 * repairs what no event announced.
 */
import { CreateFunctionCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { editFunction } from '../local/console-edit';
import { type OrganizationStack, startOrganizationStack } from '../local/organization-stack';
import { STATE_COLUMNS, stateRow } from './demo';
import type { Io } from './io';
import { table } from './table';

const source = (body: string) => `function handler(event) {\n  ${body}\n  return event.request;\n}`;
const TAGGED = { 'auto-publish': 'true' };

async function createTagged(client: CloudFrontClient, name: string, body: string): Promise<void> {
  await client.send(
    new CreateFunctionCommand({
      Name: name,
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: new TextEncoder().encode(source(body)),
      Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] },
    }),
  );
}

export async function runOrganizationDemo({ accounts, io }: { accounts: number; io: Io }): Promise<number> {
  const started = Date.now();
  const stack = await startOrganizationStack({ accounts, outsiders: 1, settings: { PUBLISH_GATE: 'smoke' } });
  try {
    const [outsider] = stack.outsiders as [string];
    io.out(
      `CloudFront, STS and Organizations emulator on ${stack.emulator.endpoint}. Central account ${stack.central}; ` +
        `member accounts ${stack.members.join(', ')} (member stack deployed); ${outsider} is in the organisation but not in MEMBER_ACCOUNTS.\n`,
    );
    for (const account of [...stack.members, outsider]) {
      const state = stack.emulator.account(account).state;
      state.seed({ name: 'url-rewrite', code: source('// v1'), tags: TAGGED, publish: true });
      state.seed({ name: 'ab-test', code: source('// v1'), tags: { team: 'web' }, publish: true });
      // Created by a job whose CloudTrail event never arrived: only the sweep will see it.
      state.seed({ name: 'cache-key', code: source('// v1, event lost'), tags: TAGGED });
    }
    for (const account of stack.members) {
      const user = stack.clientFor(account, 'console-user');
      await editFunction(user, 'url-rewrite', source(`// v2 in ${account}`));
      await editFunction(user, 'ab-test', source('// experiment 7'));
      await createTagged(stack.clientFor(account, 'ci-job'), 'security-headers', '// adds headers');
      io.out(`  ${account}: console user edits url-rewrite (tagged) and ab-test (not tagged); CI job creates security-headers (tagged)`);
    }
    await editFunction(stack.clientFor(outsider, 'console-user'), 'url-rewrite', source('// v2 outside'));
    io.out(`  ${outsider}: console user edits url-rewrite (tagged), in an account outside the member list`);

    await stack.settle();
    const sweep = await stack.sweep();
    io.out(
      `\nAfter the event path and one sweep (fanned out to ${sweep.fanOut.accounts} account(s) over the sweep queue; ` +
        `dead-lettered: ${sweep.deadLetters.join(', ') || 'none'}):\n`,
    );
    io.out(stateTable(stack, [...stack.members, outsider]));

    const assumed = stack.emulator.sts.assumeRoleCalls();
    const perAccount = stack.members.map((account) => `${account}: ${publishesIn(stack, account)}`);
    const stale = stack.members.flatMap((account) =>
      stack.emulator
        .account(account)
        .state.snapshot()
        .filter((f) => f.tags['auto-publish'] === 'true' && f.live?.etag !== f.development.etag)
        .map((f) => `${account}/${f.name}`),
    );
    io.out(
      `\nPublishes by the reconciler per account: ${perAccount.join('; ')}. AssumeRole calls: ${assumed.length} ` +
        `(one per member account for each central role that enters it, the event handler's and the worker's: ${new Set(assumed.map((c) => c.roleArn)).size} member roles). ` +
        `${outsider}: ${publishesIn(stack, outsider)} publishes, ${assumed.filter((c) => c.roleArn.includes(`::${outsider}:`)).length} AssumeRole. ` +
        `Opted-in functions not live in member accounts: ${stale.length}. (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    return stale.length > 0 || sweep.deadLetters.length > 0 ? 1 : 0;
  } finally {
    await stack.close();
  }
}

function publishesIn(stack: OrganizationStack, account: string): number {
  return stack.emulator.account(account).controls.publishLog().length;
}

function stateTable(stack: OrganizationStack, accounts: readonly string[]): string {
  const rows = accounts.flatMap((account) => {
    const outcomes = stack.outcomes.filter((o) => o.account === account);
    return stack.emulator
      .account(account)
      .state.snapshot()
      .map((f) => [account, ...stateRow(f, outcomes)]);
  });
  return table(['ACCOUNT', ...STATE_COLUMNS], rows);
}
