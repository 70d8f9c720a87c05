/**
 * Bad input for the event handler: every case in test/corpus/cases/ runs through the real handler
 * (handlers/on-function-change.ts) against the emulator, and must end as the case says:
 *
 *   "ignored (<reason>)"                  the handler returns, its `ignored` reason contains <reason>
 *   "rejected with an error naming <X>"   the invocation fails, its error message contains <X>
 *   "swept, then rejected with an error naming <X>"
 *                                         a record of ours that names no function: the handler sweeps
 *                                         the account (as the scheduled sweep would), then fails so
 *                                         the failure queue keeps the record
 *   "reconciled (<action>)"               the handler trusted only the name and decided <action>
 *
 * A case holds `event` (any JSON value), or `raw` (text handed over as a string), and optionally
 * `pad: {at, bytes}` which sets the dotted path `at` to a string of `bytes` characters (256 KB cases
 * without 256 KB files).
 *
 * "Truncated" here: Lambda parses the payload before our code runs, so a truncated JSON payload fails
 * in the runtime and never reaches the handler. What our code can receive is the text as a string,
 * and that is rejected with an error saying it is not a JSON object (cases `raw`).
 *
 * For every case: no CloudFront write, no call that is not a read of a valid name, error messages
 * that stay short (no 256 KB echo). The emulator holds opted-in, unpublished functions (`fn`, `a`)
 * that a leaking `../fn`, `fn%2Fpublish` or `a b` would publish. A swept case may publish exactly
 * those two (what the sweep is for), nothing else; the functions are seeded afresh after it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { startEmulator, type AuthorizationRequest, type Emulator } from '../../emulator';
import type { EventSummary } from '../../handlers/on-function-change';
import { cloudFrontGateway, createCloudFrontClient } from '../../lib/cloudfront-gateway';
import { captureLogs, eventHandlerWith, lambdaContext, TEST_CREDENTIALS } from '../support/lambda';

interface Case {
  file: string;
  case: string;
  expect: string;
  event?: unknown;
  raw?: string;
  pad?: { at: string; bytes: number };
}

const dir = new URL('./cases/', import.meta.url);
const cases: Case[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Omit<Case, 'file'>) }));

// CloudFront's name rule, restated here rather than imported: the test must not share a bug with lib/.
const NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;
const WRITES = ['CreateFunction', 'UpdateFunction', 'PublishFunction', 'DeleteFunction', 'TagResource', 'UntagResource', 'TestFunction', 'Unknown'];

function inputOf(c: Case): unknown {
  if (c.raw !== undefined) return c.raw;
  const event = structuredClone(c.event);
  if (c.pad) {
    const keys = c.pad.at.split('.');
    let node = event as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = 'x'.repeat(c.pad.bytes);
  }
  return event;
}

let emulator: Emulator;
let requests: AuthorizationRequest[] = [];
let handler: ReturnType<typeof eventHandlerWith>;

function seed(): void {
  emulator.state.reset();
  emulator.controls.clearPublishLog();
  emulator.state.seed({ name: 'fn', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
  emulator.state.seed({ name: 'a', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
  emulator.state.seed({ name: 'url-rewrite', code: 'function handler(e) { return e.request; }', tags: { team: 'web' } });
}

before(async () => {
  emulator = await startEmulator({ accountId: '123456789012' });
  emulator.controls.setAuthorizer((request) => {
    requests.push(request);
    return true;
  });
  handler = eventHandlerWith({ CLOUDFRONT_ENDPOINT: emulator.endpoint });
  seed();
});

after(async () => {
  await emulator.close();
});

function assertNoWriteAndOnlyValidNames(label: string): void {
  const calls = emulator.controls.calls();
  for (const op of WRITES) assert.equal(calls[op] ?? 0, 0, `${label}: ${op} was called`);
  assert.deepEqual(emulator.controls.publishLog(), [], `${label}: something was published`);
  for (const r of requests) {
    const name = r.operation === 'ListTagsForResource' ? r.target?.split(':function/')[1] : r.target;
    assert.ok(name !== undefined && NAME_RULE.test(name), `${label}: ${r.operation} was called for ${JSON.stringify(r.target)}`);
  }
}

describe('bad-input corpus, through the real event handler and the emulator', () => {
  test('the corpus covers at least 40 cases', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
  });

  for (const c of cases) {
    test(`${c.file}: ${c.expect}`, async () => {
      requests = [];
      emulator.controls.resetCalls();
      const input = inputOf(c);
      if (c.pad) assert.ok(JSON.stringify(input).length >= 256 * 1024, 'a 256 KB case is at least 256 KB');
      const r = await captureLogs<EventSummary>(() => handler(input, lambdaContext()));

      const ignored = /^ignored \((.+)\)$/s.exec(c.expect);
      const swept = /^swept, then rejected with an error naming (.+)$/s.exec(c.expect);
      const rejected = swept ?? /^rejected with an error naming (.+)$/s.exec(c.expect);
      const reconciled = /^reconciled \((.+)\)$/s.exec(c.expect);
      if (ignored) {
        assert.equal(r.error, undefined, `expected to be ignored, got ${String(r.error)}`);
        assert.ok(r.result?.ignored?.includes(ignored[1]!), `reason ${JSON.stringify(r.result?.ignored)} does not contain ${ignored[1]}`);
        assert.deepEqual(r.result?.outcomes, []);
        assert.ok(r.result!.ignored!.length < 1024, 'the reason stays short');
      } else if (rejected) {
        assert.ok(r.error instanceof Error, `expected a rejection, got ${JSON.stringify(r.result)}`);
        assert.ok(r.error.message.includes(rejected[1]!), `error ${JSON.stringify(r.error.message)} does not name ${rejected[1]}`);
        assert.ok(r.error.message.length < 1024, `the error stays short (${r.error.message.length} chars)`);
        assert.equal(r.error.name, 'BadEventError');
      } else if (reconciled) {
        assert.equal(r.error, undefined, String(r.error));
        assert.equal(r.result?.outcomes[0]?.action, reconciled[1]);
      } else {
        assert.fail(`${c.file}: unknown expectation ${JSON.stringify(c.expect)}`);
      }
      if (swept) {
        // The sweep, and only the sweep: both stages listed, the seeded functions read, the two
        // opted-in unpublished ones published, and no other write.
        try {
          const calls = emulator.controls.calls();
          assert.equal(calls.ListFunctions, 2, `${c.file}: both stages listed once`);
          // Connection functions too, once per stage: the emulator knows the operation, so none is Unknown.
          assert.equal(calls.ListConnectionFunctions, 2, `${c.file}: both stages of connection functions listed once`);
          assert.equal(calls.Unknown, undefined, `${c.file}: no call the emulator does not know`);
          assert.deepEqual(
            emulator.controls
              .publishLog()
              .map((p) => p.name)
              .sort(),
            ['a', 'fn'],
          );
          for (const op of WRITES.filter((w) => w !== 'PublishFunction' && w !== 'TestFunction' && w !== 'Unknown'))
            assert.equal(calls[op] ?? 0, 0, `${c.file}: ${op} was called`);
          // The listings (both kinds' and the distributions') name no function.
          for (const r of requests.filter((q) => !['ListFunctions', 'ListConnectionFunctions', 'ListDistributions'].includes(q.operation))) {
            const name = r.operation === 'ListTagsForResource' ? r.target?.split(':function/')[1] : r.target;
            assert.ok(['fn', 'a', 'url-rewrite'].includes(name ?? ''), `${c.file}: ${r.operation} was called for ${JSON.stringify(r.target)}`);
          }
        } finally {
          seed();
        }
      } else {
        assertNoWriteAndOnlyValidNames(c.file);
      }
      // Nothing the handler logged echoes a 256 KB input.
      for (const line of r.lines) assert.ok(JSON.stringify(line).length < 8 * 1024, `a ${JSON.stringify(line).length}-char log line`);
    });
  }
});

describe('names are validated before they reach a URL path', () => {
  const bad = ['../fn', 'fn%2Fpublish', 'fn/publish', 'a b', 'función', '', 'x'.repeat(65), 'fn\n', 'fn?Stage=LIVE', '.', '..'];

  test('the gateway refuses to describe or publish an invalid name without sending anything', async () => {
    const gateway = cloudFrontGateway(createCloudFrontClient({ endpoint: emulator.endpoint, maxAttempts: 1, credentials: TEST_CREDENTIALS }));
    requests = [];
    emulator.controls.resetCalls();
    for (const name of bad) {
      await assert.rejects(gateway.describe(name, 'DEVELOPMENT'), /invalid function name/, JSON.stringify(name));
      await assert.rejects(gateway.describe(name, 'LIVE'), /invalid function name/, JSON.stringify(name));
      await assert.rejects(gateway.publish(name, 'EAAAAAAAAAAAB'), /invalid function name/, JSON.stringify(name));
    }
    assert.deepEqual(emulator.controls.calls(), {}, 'not one request reached CloudFront');
    assert.deepEqual(requests, []);
  });
});
