// The emulator's test/benchmark controls, observed through the real SDK.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand,
  DescribeFunctionCommand,
  ListFunctionsCommand,
  PublishFunctionCommand,
  UpdateFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import { CODE, clientFor, encode, errorOf, withEmulator } from './helpers';
import { TokenBucket } from '../../emulator/faults';

const config = { Comment: '', Runtime: 'cloudfront-js-2.0' as const };

describe('emulator controls', () => {
  it('latency delays every answer', async () => {
    await withEmulator({}, async (emulator) => {
      const cf = clientFor(emulator);
      let started = performance.now();
      await cf.send(new ListFunctionsCommand({}));
      const fast = performance.now() - started;
      emulator.controls.setLatency(150);
      started = performance.now();
      await cf.send(new ListFunctionsCommand({}));
      const slow = performance.now() - started;
      assert.ok(slow >= 145, `slow call took ${slow} ms`);
      // Only the ordering is asserted on the fast side: a loaded 2-core machine can stall any call.
      assert.ok(fast < slow, `fast call took ${fast} ms, the slow one ${slow} ms`);
      cf.destroy();
    });
  });

  it('keeps connections alive: sequential SDK calls, a second apart, share one connection', async () => {
    await withEmulator({}, async (emulator) => {
      const cf = clientFor(emulator);
      const before = emulator.controls.connections();
      for (let i = 0; i < 3; i++) {
        await cf.send(new ListFunctionsCommand({}));
        // Past a 1 s Keep-Alive hint, which Node's agent treats as 0 (it keeps 1 s in hand).
        await new Promise((resolve) => setTimeout(resolve, 1100));
      }
      assert.equal(emulator.controls.connections() - before, 1);
      cf.destroy();
    });
  });

  it('recordCallCpu keeps one CPU sample per CloudFront call while on, by operation, and none once off', async () => {
    await withEmulator({}, async (emulator) => {
      const cf = clientFor(emulator);
      await cf.send(new ListFunctionsCommand({}));
      assert.deepEqual(emulator.controls.callCpu(), {}, 'off by default');
      emulator.controls.recordCallCpu(true);
      await cf.send(new ListFunctionsCommand({}));
      await cf.send(new ListFunctionsCommand({}));
      await errorOf(() => cf.send(new DescribeFunctionCommand({ Name: 'absent' })));
      const samples = emulator.controls.callCpu();
      assert.deepEqual(Object.keys(samples).sort(), ['DescribeFunction', 'ListFunctions']);
      assert.equal(samples.ListFunctions?.length, 2);
      assert.equal(samples.DescribeFunction?.length, 1);
      for (const v of Object.values(samples).flat()) assert.ok(Number.isFinite(v) && v >= 0 && v < 5_000_000, `${v} us`);
      emulator.controls.recordCallCpu(false);
      await cf.send(new ListFunctionsCommand({}));
      assert.deepEqual(emulator.controls.callCpu(), {});
      cf.destroy();
    });
  });

  it('token bucket: over the limit the SDK sees Throttling "Rate exceeded" (400) with maxAttempts 1', async () => {
    await withEmulator({ rateLimit: { ratePerSecond: 1, burst: 2 } }, async (emulator) => {
      const cf = clientFor(emulator, { maxAttempts: 1 });
      await cf.send(new ListFunctionsCommand({}));
      await cf.send(new ListFunctionsCommand({}));
      const error = await errorOf(() => cf.send(new ListFunctionsCommand({})));
      assert.equal(error.name, 'Throttling');
      assert.equal(error.message, 'Rate exceeded');
      assert.equal(error.$metadata?.httpStatusCode, 400);
      cf.destroy();
    });
  });

  it('token bucket: the SDK retries Throttling and gets through (docs/cloudfront-api.md#errors)', async () => {
    await withEmulator({ rateLimit: { ratePerSecond: 20, burst: 1 } }, async (emulator) => {
      const cf = clientFor(emulator, { maxAttempts: 8 });
      const attempts: number[] = [];
      for (let i = 0; i < 3; i++) attempts.push((await cf.send(new ListFunctionsCommand({}))).$metadata.attempts ?? 0);
      assert.ok(
        attempts.some((a) => a > 1),
        `some call needed a retry: ${attempts}`,
      );
      assert.ok((emulator.controls.calls().ListFunctions ?? 0) > 3);
      cf.destroy();
    });
  });

  it('token bucket arithmetic: burst, then refill at the configured rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 3 }, () => now);
    assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false]);
    now = 499;
    assert.equal(bucket.tryTake(), false);
    now = 501;
    assert.equal(bucket.tryTake(), true);
    now = 10_000;
    assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false]);
  });

  it('seeded faults: 500/503 as the SDK sees them, reproducible by seed', async () => {
    const run = async (seed: number) =>
      withEmulator({ faults: { probability: 0.4, seed } }, async (emulator) => {
        const cf = clientFor(emulator, { maxAttempts: 1 });
        const outcomes: string[] = [];
        for (let i = 0; i < 30; i++) {
          try {
            await cf.send(new ListFunctionsCommand({}));
            outcomes.push('ok');
          } catch (error) {
            const e = error as { name: string; $metadata: { httpStatusCode: number }; $fault: string };
            assert.equal(e.$fault, 'server');
            outcomes.push(`${e.name}:${e.$metadata.httpStatusCode}`);
          }
        }
        cf.destroy();
        return outcomes;
      });
    const a = await run(42);
    const b = await run(42);
    const c = await run(7);
    assert.deepEqual(a, b, 'same seed, same faults');
    assert.notDeepEqual(a, c, 'another seed, other faults');
    const faults = a.filter((o) => o !== 'ok');
    assert.ok(faults.length > 3 && faults.length < 25, `about 40% faults, got ${faults.length}/30`);
    assert.ok(
      faults.every((f) => f === 'InternalError:500' || f === 'ServiceUnavailable:503'),
      faults.join(),
    );
  });

  it('faults before commit change nothing; after-commit faults keep the write (like a lost answer)', async () => {
    await withEmulator({}, async (emulator) => {
      const cf = clientFor(emulator, { maxAttempts: 1 });
      emulator.controls.setFaults({ probability: 1, seed: 1 });
      await errorOf(() => cf.send(new CreateFunctionCommand({ Name: 'before', FunctionConfig: config, FunctionCode: encode(CODE) })));
      assert.equal(emulator.state.snapshot().length, 0);
      emulator.controls.setFaults({ probability: 1, seed: 1, afterCommitShare: 1 });
      const error = await errorOf(() => cf.send(new CreateFunctionCommand({ Name: 'after', FunctionConfig: config, FunctionCode: encode(CODE) })));
      assert.equal(error.$fault, 'server');
      assert.deepEqual(
        emulator.state.snapshot().map((f) => f.name),
        ['after'],
      );
      emulator.controls.setFaults(undefined);
      await cf.send(new ListFunctionsCommand({}));
      cf.destroy();
    });
  });

  it('call counters per operation, including failed calls, and reset', async () => {
    await withEmulator({}, async (emulator) => {
      const cf = clientFor(emulator);
      await cf.send(new ListFunctionsCommand({}));
      await cf.send(new ListFunctionsCommand({}));
      await errorOf(() => cf.send(new DescribeFunctionCommand({ Name: 'nope', Stage: 'DEVELOPMENT' })));
      assert.deepEqual(emulator.controls.calls(), { ListFunctions: 2, DescribeFunction: 1 });
      emulator.controls.resetCalls();
      assert.deepEqual(emulator.controls.calls(), {});
      cf.destroy();
    });
  });

  it('publish log records successful publishes with the actor behind the access key', async () => {
    await withEmulator({ actors: { AKIDRECONCILER: 'reconciler' } }, async (emulator) => {
      emulator.controls.setActor('AKIDHUMAN', 'jane');
      const reconciler = clientFor(emulator, { accessKeyId: 'AKIDRECONCILER' });
      const human = clientFor(emulator, { accessKeyId: 'AKIDHUMAN' });
      const a = emulator.state.seed({ name: 'a', code: CODE });
      const b = emulator.state.seed({ name: 'b', code: CODE });
      await reconciler.send(new PublishFunctionCommand({ Name: 'a', IfMatch: a.developmentEtag }));
      await errorOf(() => reconciler.send(new PublishFunctionCommand({ Name: 'a', IfMatch: a.developmentEtag })));
      const updated = await human.send(
        new UpdateFunctionCommand({ Name: 'b', IfMatch: b.developmentEtag, FunctionConfig: config, FunctionCode: encode(CODE) }),
      );
      await human.send(new PublishFunctionCommand({ Name: 'b', IfMatch: updated.ETag }));
      const log = emulator.controls.publishLog();
      assert.deepEqual(
        log.map((p) => [p.name, p.etag, p.actor, p.accessKeyId]),
        [
          ['a', a.developmentEtag, 'reconciler', 'AKIDRECONCILER'],
          ['b', updated.ETag, 'jane', 'AKIDHUMAN'],
        ],
      );
      assert.ok(log.every((p) => p.time instanceof Date && /aws-sdk-js/.test(p.userAgent) && !p.faulted));
      emulator.controls.clearPublishLog();
      assert.equal(emulator.controls.publishLog().length, 0);
      reconciler.destroy();
      human.destroy();
    });
  });

  it('an authorizer can answer AccessDenied 403 per actor and operation', async () => {
    await withEmulator({ authorizer: (r) => !(r.actor === 'AKIDREADONLY' && r.operation === 'PublishFunction') }, async (emulator) => {
      const cf = clientFor(emulator, { accessKeyId: 'AKIDREADONLY' });
      const { developmentEtag } = emulator.state.seed({ name: 'a', code: CODE });
      const error = await errorOf(() => cf.send(new PublishFunctionCommand({ Name: 'a', IfMatch: developmentEtag })));
      assert.equal(error.name, 'AccessDenied');
      assert.equal(error.$metadata?.httpStatusCode, 403);
      await cf.send(new DescribeFunctionCommand({ Name: 'a', Stage: 'DEVELOPMENT' }));
      assert.equal(emulator.state.snapshot()[0]?.live, undefined);
      cf.destroy();
    });
  });

  it('code size limit is configurable', async () => {
    await withEmulator({ maxCodeBytes: 100 }, async (emulator) => {
      const cf = clientFor(emulator);
      const error = await errorOf(() => cf.send(new CreateFunctionCommand({ Name: 'a', FunctionConfig: config, FunctionCode: encode('x'.repeat(101)) })));
      assert.equal(error.name, 'FunctionSizeLimitExceeded');
      emulator.controls.setMaxCodeBytes(200);
      await cf.send(new CreateFunctionCommand({ Name: 'a', FunctionConfig: config, FunctionCode: encode('x'.repeat(101)) }));
      cf.destroy();
    });
  });

  it('account id is configurable and shows in ARNs', async () => {
    await withEmulator({ accountId: '111122223333' }, async (emulator) => {
      const cf = clientFor(emulator);
      const out = await cf.send(new CreateFunctionCommand({ Name: 'a', FunctionConfig: config, FunctionCode: encode(CODE) }));
      assert.equal(out.FunctionSummary?.FunctionMetadata?.FunctionARN, 'arn:aws:cloudfront::111122223333:function/a');
      assert.equal(emulator.cloudTrailEvents()[0]?.account, '111122223333');
      cf.destroy();
    });
  });
});
