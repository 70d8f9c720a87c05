/**
 * AUTO_PUBLISH_ALLOWED_NAMES end to end: anyone who can tag and update a function can make the
 * reconciler publish it, unless its name is outside the allowed patterns. Against the emulator, with
 * the real handlers on the local bus (event path) and the drift sweep: a tagged, updated function
 * outside the patterns is never published by the reconciler, and never even read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand, DescribeFunctionCommand, TagResourceCommand, UpdateFunctionCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { RECONCILER_ACTOR, startLocalStack, type LocalStack } from '../../local/local-stack';
import type { AuthorizationRequest } from '../../emulator';

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
