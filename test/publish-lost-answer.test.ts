/**
 * A publish that landed but whose answer was lost (5xx after commit): the SDK retries it, the retry
 * meets the no-op-publish 412, and re-reading shows LIVE holding exactly the ETag we sent. That
 * publish is ours: the outcome is `published` (announced and counted), not `already-published`.
 * Through the real SDK retry middleware and the emulator, since the attempt count comes from there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand, PublishFunctionCommand, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';
import { cloudFrontGateway, createCloudFrontClient } from '../lib/cloudfront-gateway';
import { reconcile } from '../lib/reconcile';
import { isOptedIn, loadConfig } from '../lib/config';
import { clientFor, encode, withEmulator } from './emulator/helpers';

const config = loadConfig({});
const policy = { optedIn: (tags: Record<string, string>) => isOptedIn(config, tags), nameAllowed: () => true, dryRun: false, gate: false };

for (const [label, otherActorPublishes, expected] of [
  ['our own attempt landed, its answer lost', false, 'published'],
  ['another actor published the same version first', true, 'already-published'],
] as const) {
  test(`412 after a publish: ${label} → ${expected}`, () =>
    withEmulator({}, async (emulator) => {
      const admin = clientFor(emulator, { accessKeyId: 'console-user' });
      const created = await admin.send(
        new CreateFunctionCommand({
          Name: 'f',
          FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: encode('function handler(e) { return e.request; }'),
          Tags: { Items: [{ Key: 'auto-publish', Value: 'true' }] },
        }),
      );
      await admin.send(new PublishFunctionCommand({ Name: 'f', IfMatch: created.ETag }));
      const updated = await admin.send(
        new UpdateFunctionCommand({
          Name: 'f',
          IfMatch: created.ETag,
          FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: encode('function handler(e) { /* v2 */ return e.request; }'),
        }),
      );
      // Our first PublishFunction either commits and is answered 503 (after commit), or meets a
      // publish of the same version by another actor just before it; every other call is clean.
      let first = true;
      emulator.controls.setAuthorizer(({ operation }) => {
        const ourFirstPublish = first && operation === 'PublishFunction';
        if (ourFirstPublish) first = false;
        if (ourFirstPublish && otherActorPublishes) emulator.state.model.publishFunction('f', updated.ETag);
        emulator.controls.setFaults(ourFirstPublish && !otherActorPublishes ? { probability: 1, afterCommitShare: 1, seed: 1 } : undefined);
        return true;
      });
      const cloudfront = cloudFrontGateway(
        createCloudFrontClient({
          endpoint: emulator.endpoint,
          maxAttempts: 3,
          credentials: { accessKeyId: 'reconciler', secretAccessKey: 'x' },
        }),
      );
      const outcome = await reconcile({ name: 'f', arn: emulator.state.model.arnFor('f') }, 'UpdateFunction', { cloudfront, policy, eagerDevelopment: true });
      assert.equal(outcome.action, expected);
      assert.equal(outcome.etag, updated.ETag);
      const live = emulator.state.snapshot().find((s) => s.name === 'f')?.live?.etag;
      assert.equal(live, updated.ETag);
      const ours = emulator.controls.publishLog().filter((p) => p.actor === 'reconciler');
      assert.equal(ours.length, otherActorPublishes ? 0 : 1, 'exactly one publish of ours changed LIVE');
      assert.equal(outcome.publishAttempts, 1);
    }));
}

/** An endpoint that answers PublishFunction from a script: one status and error code per attempt. */
async function scriptedPublish(script: [number, string][]) {
  const { createServer } = await import('node:http');
  let attempt = 0;
  const server = createServer((req, res) => {
    req.resume();
    const [status, code] = script[Math.min(attempt++, script.length - 1)] as [number, string];
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': `r${attempt}` });
    res.end(
      `<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>r${attempt}</RequestId></ErrorResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, attempts: () => attempt, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// Only an attempt that may have changed state (5xx, timeout, dropped connection) makes a later 412
// "possibly ours"; a throttled attempt changed nothing, so a 412 after it is someone else's publish.
for (const [first, expected] of [
  [[503, 'ServiceUnavailable'], 'precondition-failed-on-retry'],
  [[500, 'InternalError'], 'precondition-failed-on-retry'],
  [[400, 'Throttling'], 'precondition-failed'],
  [[412, 'PreconditionFailed'], 'precondition-failed'],
] as const) {
  test(`publish: ${first[1]}, then PreconditionFailed → ${expected}`, async () => {
    const target = await scriptedPublish([[...first], [412, 'PreconditionFailed']]);
    try {
      const gateway = cloudFrontGateway(
        createCloudFrontClient({ endpoint: target.endpoint, maxAttempts: 3, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } }),
      );
      assert.equal(await gateway.publish('f', 'E2'), expected);
      assert.equal(target.attempts(), first[0] === 412 ? 1 : 2);
    } finally {
      await target.close();
    }
  });
}
