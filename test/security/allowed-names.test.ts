/**
 * AUTO_PUBLISH_ALLOWED_NAMES end to end: anyone who can tag and update a function can make the
 * reconciler publish it, unless its name is outside the allowed patterns. Against the emulator, with
 * the real handlers on the local bus (event path) and the drift sweep: a tagged, updated function
 * outside the patterns is never published by the reconciler, and never even read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CreateFunctionCommand, DescribeFunctionCommand, TagResourceCommand, UpdateFunctionCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { RECONCILER_ACTOR, startLocalStack, type LocalStack } from '../../local/local-stack';
import type { AuthorizationRequest } from '../../emulator';
import { loadConfig, nameGuard } from '../../lib/config';

let stack: LocalStack;
let console_: CloudFrontClient;
const requests: AuthorizationRequest[] = [];
const code = (v: number) => new TextEncoder().encode(`function handler(event) { return event.request; } // ${v}`);
const config = { Comment: '', Runtime: 'cloudfront-js-2.0' as const };
const opted = { Items: [{ Key: 'auto-publish', Value: 'true' }] };

before(async () => {
  stack = await startLocalStack({ settings: { AUTO_PUBLISH_ALLOWED_NAMES: 'edge-*,auth-login', CLOUDFRONT_MAX_ATTEMPTS: '2' } });
  stack.emulator.controls.setAuthorizer((r) => {
    requests.push(r);
    return true;
  });
  console_ = stack.clientFor('console');
});
after(async () => {
  await stack?.close();
});

const reconcilerTargets = () => requests.filter((r) => r.actor === RECONCILER_ACTOR).map((r) => r.target ?? '');
const publishedByUs = (name: string) => stack.emulator.controls.publishLog().filter((p) => p.name === name && p.actor === RECONCILER_ACTOR);

async function update(name: string, v: number): Promise<void> {
  const d = await console_.send(new DescribeFunctionCommand({ Name: name, Stage: 'DEVELOPMENT' }));
  await console_.send(new UpdateFunctionCommand({ Name: name, IfMatch: d.ETag, FunctionConfig: config, FunctionCode: code(v) }));
}

test('event path: created with the tag, tagged afterwards, updated: only the allowed names are published', async () => {
  for (const name of ['edge-rewrite', 'auth-login', 'auth-login-2', 'rogue']) {
    await console_.send(new CreateFunctionCommand({ Name: name, FunctionConfig: config, FunctionCode: code(1), Tags: opted }));
  }
  await console_.send(new CreateFunctionCommand({ Name: 'sneaky', FunctionConfig: config, FunctionCode: code(1) }));
  await console_.send(new TagResourceCommand({ Resource: stack.emulator.state.model.arnFor('sneaky'), Tags: opted }));
  for (const name of ['edge-rewrite', 'rogue', 'sneaky']) await update(name, 2);
  await stack.settle();

  assert.equal(publishedByUs('edge-rewrite').length >= 1, true);
  assert.equal(publishedByUs('auth-login').length, 1);
  for (const name of ['auth-login-2', 'rogue', 'sneaky']) {
    assert.deepEqual(publishedByUs(name), [], `${name} was published`);
    assert.ok(
      stack.outcomes.some((o) => o.functionName === name && o.action === 'skipped-not-allowed' && o.decidedBy === 'event'),
      `${name}: skipped-not-allowed`,
    );
  }
  const snapshot = Object.fromEntries(stack.emulator.state.snapshot().map((f) => [f.name, f]));
  assert.equal(snapshot.rogue?.live, undefined, 'rogue never went LIVE');
  assert.equal(snapshot['edge-rewrite']?.live?.etag, snapshot['edge-rewrite']?.development.etag);
});

test('sweep: the functions outside the patterns stay unpublished, and are not even read', async () => {
  stack.hold(); // the events wait until the sweep has run, so the sweep is what decides
  await update('rogue', 3);
  await update('edge-rewrite', 3);
  const summary = await stack.sweep();
  stack.release();
  assert.deepEqual(summary.failed, []);
  assert.ok(summary.outcomes.some((o) => o.functionName === 'rogue' && o.action === 'skipped-not-allowed'));
  assert.ok(summary.outcomes.some((o) => o.functionName === 'edge-rewrite' && o.action === 'published'));
  await stack.settle();
  for (const name of ['auth-login-2', 'rogue', 'sneaky']) assert.deepEqual(publishedByUs(name), [], `${name} was published`);
  // The guard comes before any read: the reconciler never asked CloudFront about these names.
  for (const target of reconcilerTargets()) {
    assert.ok(!/(^|\/)(auth-login-2|rogue|sneaky)$/.test(target), `the reconciler called CloudFront about ${target}`);
  }
});

/**
 * The patterns come from the operator, the names from anyone who can create a function. A regex built
 * from `a*a*…a*b` tried every split of a 64-character name among its stars: 6 stars took 1.5 s, 8 did
 * not finish in 20 s, and a Lambda spends its whole timeout on one event. The guard runs in a child
 * process, so a guard that never returns fails this test at the bound instead of hanging the suite.
 */
test('the name guard is linear in practice: the worst patterns a 64-character rule allows finish at once', async () => {
  const cases = [
    [`${'a*'.repeat(31)}b`, 'a'.repeat(64), false],
    [`${'a*'.repeat(31)}b`, `${'a'.repeat(63)}b`, true],
    ['*a'.repeat(32), `${'a'.repeat(63)}b`, false],
    [`*${'a*'.repeat(31)}`, 'b'.repeat(64), false],
    ['*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-x', '-'.repeat(64), false],
  ] as const;
  const script = `
    const { loadConfig, nameGuard } = require(${JSON.stringify(fileURLToPath(new URL('../../lib/config.ts', import.meta.url)))});
    const cases = ${JSON.stringify(cases)};
    const started = performance.now();
    const results = [];
    for (const [pattern, name] of cases) {
      const allowed = nameGuard(loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: pattern }));
      let result;
      for (let i = 0; i < 1000; i++) result = allowed(name);
      results.push(result);
    }
    process.stdout.write(JSON.stringify({ results, ms: performance.now() - started }));`;
  const BOUND_MS = 30_000; // generous: the child's start-up on a loaded machine; the matching itself takes milliseconds
  const run = await new Promise<{ error: Error | null; stdout: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '-e', script], { timeout: BOUND_MS, encoding: 'utf8' }, (error, stdout) => resolve({ error, stdout }));
  });
  assert.equal(run.error, null, `the guard did not answer ${cases.length * 1000} checks within ${BOUND_MS / 1000} s`);
  const { results, ms } = JSON.parse(run.stdout) as { results: boolean[]; ms: number };
  assert.deepEqual(
    results,
    cases.map(([, , expected]) => expected),
  );
  assert.ok(ms < 5_000, `${cases.length * 1000} checks of the worst patterns took ${ms.toFixed(0)} ms`);
});

test('the name guard matches as the patterns say: `*` is any run of name characters, the rest is literal', () => {
  // Small alphabets and lengths, so the reference regex (backtracking is harmless at this size) and
  // the guard meet the corner cases: adjacent stars, a star at either end, repeated prefixes.
  const letter = fc.constantFrom('a', 'b', '-');
  const pattern = fc.array(fc.constantFrom('a', 'b', '-', '*'), { minLength: 1, maxLength: 8 }).map((c) => c.join(''));
  const name = fc.oneof(
    fc.array(letter, { maxLength: 10 }).map((c) => c.join('')),
    fc.array(fc.constantFrom('a', '.', ' ', '/'), { maxLength: 4 }).map((c) => c.join('')),
  );
  const reference = (p: string) => new RegExp(`^${p.replace(/-/g, '\\-').replace(/\*/g, '[a-zA-Z0-9_-]*')}$`);
  fc.assert(
    fc.property(fc.array(pattern, { minLength: 1, maxLength: 3 }), name, (patterns, n) => {
      const allowed = nameGuard(loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: patterns.join(',') }));
      assert.equal(
        allowed(n),
        patterns.some((p) => reference(p).test(n)),
        `${patterns.join(',')} vs ${JSON.stringify(n)}`,
      );
    }),
    { numRuns: 2000 },
  );
});
