/**
 * Organisation mode for connection functions (issue 19), end to end as in organization.test.ts: the
 * emulator's accounts, STS and Organizations, member buses forwarding to the central bus, the real
 * handlers and the worker draining the sweep queue. Under every connection-function reading, in one
 * organisation stack: the variants switched and every account emptied between readings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Variants } from '../../emulator';
import { editConnectionFunction } from '../../local/console-edit';
import { type OrganizationStack, startOrganizationStack } from '../../local/organization-stack';
import { ALLOWS, CONNECTION_READINGS, createConnection, startOver, titleOf } from './support';

const OPTED_IN = { 'auto-publish': 'true' };
const ORDINARY = (label: string) => `function handler(event) { /* ${label} */ return event.request; }`;

let stack: OrganizationStack;
before(async () => {
  stack = await startOrganizationStack({ accounts: 2, settings: { PUBLISH_GATE: 'smoke' } });
});
after(() => stack.close());

const under = (variants: Variants) => startOver(stack, variants);

/** What went LIVE in `account`, by kind and name: the emulator's publish log, never our own word. */
const publishedIn = (account: string) =>
  stack.emulator
    .account(account)
    .controls.publishLog()
    .map((p) => `${p.connectionFunctionId !== undefined ? 'connection' : 'function'}:${p.name}`)
    .sort();
const connectionIn = (account: string, name: string) =>
  stack.emulator
    .account(account)
    .state.connectionFunctions()
    .find((f) => f.name === name);

describe('organisation mode: connection functions, under every reading', () => {
  for (const variants of CONNECTION_READINGS) {
    test(`[${titleOf(variants)}] the sweep publishes both kinds in each member account, nothing not opted in; a console edit in A goes live in A only`, async () => {
      await under(variants);
      const [a, b] = stack.members as [string, string];
      // In each member: drift of both kinds left with no event (seeded), and a connection function nobody opted in.
      for (const account of [a, b]) {
        const state = stack.emulator.account(account).state;
        state.seed({ name: 'edge', code: ORDINARY('v1'), tags: OPTED_IN });
        state.seedConnectionFunction({ name: 'mtls-gate', code: ALLOWS('v1'), tags: OPTED_IN });
        state.seedConnectionFunction({ name: 'not-mine', code: ALLOWS('v1') });
      }
      const sweep = await stack.sweep();
      assert.deepEqual(sweep.deadLetters, []);
      assert.equal(sweep.swept.size, 2);
      for (const account of [a, b]) {
        assert.deepEqual(publishedIn(account), ['connection:mtls-gate', 'function:edge'], account);
        assert.equal(connectionIn(account, 'mtls-gate')?.live?.code, ALLOWS('v1'), account);
        assert.equal(connectionIn(account, 'not-mine')?.live, undefined, `${account}: not opted in, never published`);
        const listed = stack.emulator.account(account).controls.calls();
        assert.equal(listed.ListConnectionFunctions, 2, `${account}: one page of connection functions per stage`);
        assert.equal(listed.ListFunctions, 2, `${account}: one page of functions per stage`);
      }

      // A console edit in A: its record travels A's bus to the central one; published in A, B untouched.
      const id = connectionIn(a, 'mtls-gate')?.id as string;
      await editConnectionFunction(stack.clientFor(a, 'alice'), id, ALLOWS('v2'));
      await stack.settle();
      assert.equal(connectionIn(a, 'mtls-gate')?.live?.code, ALLOWS('v2'), 'live in A');
      assert.equal(connectionIn(b, 'mtls-gate')?.live?.code, ALLOWS('v1'), 'B untouched');
      assert.deepEqual(publishedIn(b), ['connection:mtls-gate', 'function:edge']);
      assert.ok(
        stack.outcomes.every((o) => o.action !== 'failed' && o.functionArn.includes(`::${o.account}:`)),
        JSON.stringify(stack.outcomes.filter((o) => o.action === 'failed')),
      );
    });
  }
});

test('organisation mode: a connection function created in a member by its console goes live there through the member role', async () => {
  await under(CONNECTION_READINGS[0] as Variants);
  const [a] = stack.members as [string];
  const fn = await createConnection(stack.clientFor(a, 'alice'), 'device-check', ALLOWS('v1'));
  await stack.settle();
  assert.equal(connectionIn(a, 'device-check')?.live?.code, ALLOWS('v1'));
  assert.deepEqual(
    stack.outcomes.map((o) => [o.account, o.functionArn, o.action, o.decidedBy]),
    [[a, fn.arn, 'published', 'event']],
  );
});
