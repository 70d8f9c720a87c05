// The local bus: pattern filtering, seeded unreliability (docs/cloudfront-api.md#cloudtrail-events: CloudTrail→EventBridge delivery
// is best-effort: late, duplicated or missing), Lambda-like retries, and the serverless.yml reader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateFunctionCommand, PublishFunctionCommand, TagResourceCommand } from '@aws-sdk/client-cloudfront';
import { type BusEvent, type BusOptions, LocalBus } from '../../local/bus';
import { busRulesFromServerless, parseServerlessRules, readServerlessRules } from '../../local/serverless-rules';
import { CODE, clientFor, encode, withEmulator } from '../emulator/helpers';

const PATTERN = { source: ['aws.cloudfront'], detail: { eventName: [{ prefix: 'UpdateFunction' }] } };
const ev = (i: number, eventName = 'UpdateFunction2020_05_31'): BusEvent => ({ id: `e${i}`, source: 'aws.cloudfront', detail: { eventName } });

/** Puts `count` matching events into a fresh bus and returns the ids in arrival order. */
async function arrivals(options: BusOptions, count: number): Promise<{ order: string[]; bus: LocalBus }> {
  const order: string[] = [];
  const bus = new LocalBus(options);
  bus.addRule({ name: 'r', pattern: PATTERN, target: async (e) => void order.push(String(e.id)) });
  for (let i = 0; i < count; i++) bus.put(ev(i));
  await bus.drain();
  return { order, bus };
}

describe('local bus', () => {
  it('delivers only events that match the rule pattern, and records results', async () => {
    const bus = new LocalBus();
    bus.addRule({ name: 'updates', pattern: PATTERN, target: async (e) => `handled ${e.id}` });
    bus.put(ev(1));
    bus.put(ev(2, 'PublishFunction2020_05_31'));
    bus.put({ id: 'e3', source: 'aws.s3', detail: { eventName: 'UpdateFunction2020_05_31' } });
    await bus.idle();
    const records = bus.deliveries();
    assert.deepEqual(
      records.map((r) => [r.rule, r.eventId, r.status, r.result, r.attempt]),
      [['updates', 'e1', 'delivered', 'handled e1', 1]],
    );
    assert.deepEqual(bus.matchingRules(ev(9)), ['updates']);
  });

  it('put() never runs a target synchronously', async () => {
    const bus = new LocalBus();
    let ran = false;
    bus.addRule({
      name: 'r',
      pattern: PATTERN,
      target: async () => {
        ran = true;
      },
    });
    bus.put(ev(1));
    assert.equal(ran, false);
    await bus.idle();
    assert.equal(ran, true);
  });

  it('rejects a malformed pattern when the rule is added', () => {
    assert.throws(() => new LocalBus().addRule({ name: 'bad', pattern: { source: 'aws.cloudfront' }, target: async () => 0 }), /must be an array or an object/);
  });

  it('keeps order without reordering or delay', async () => {
    const { order } = await arrivals({}, 10);
    assert.deepEqual(
      order,
      Array.from({ length: 10 }, (_, i) => `e${i}`),
    );
  });

  it('duplication and loss at probability 1', async () => {
    const dup = await arrivals({ duplicateProbability: 1 }, 3);
    assert.deepEqual(dup.order, ['e0', 'e0', 'e1', 'e1', 'e2', 'e2']);
    assert.deepEqual(
      dup.bus.deliveries().map((r) => r.copy),
      [0, 1, 0, 1, 0, 1],
    );
    const lost = await arrivals({ lossProbability: 1 }, 3);
    assert.deepEqual(lost.order, []);
    assert.deepEqual(
      lost.bus.deliveries().map((r) => [r.eventId, r.status, r.attempt]),
      [
        ['e0', 'lost', 0],
        ['e1', 'lost', 0],
        ['e2', 'lost', 0],
      ],
    );
  });

  it('partial duplication/loss is deterministic by seed', async () => {
    const options = (seed: number): BusOptions => ({ seed, duplicateProbability: 0.3, lossProbability: 0.3 });
    const a = await arrivals(options(5), 40);
    const b = await arrivals(options(5), 40);
    const c = await arrivals(options(6), 40);
    assert.deepEqual(a.order, b.order);
    assert.notDeepEqual(a.order, c.order);
    const lost = a.bus.deliveries().filter((r) => r.status === 'lost').length;
    assert.ok(lost > 3 && lost < 25, `lost ${lost}/40`);
    assert.ok(a.order.length !== new Set(a.order).size, 'some duplicates');
  });

  it('reordering within a hold-back window is a seeded permutation', async () => {
    const a = await arrivals({ seed: 3, reorderWindow: 5 }, 10);
    const b = await arrivals({ seed: 3, reorderWindow: 5 }, 10);
    const ids = Array.from({ length: 10 }, (_, i) => `e${i}`);
    assert.deepEqual(a.order, b.order);
    assert.notDeepEqual(a.order, ids, 'order changed');
    assert.deepEqual([...a.order].sort(), [...ids].sort(), 'nothing lost or added');
    // Reordering happens within windows of 5: the first five arrive before the last five.
    assert.deepEqual([...a.order.slice(0, 5)].sort(), ids.slice(0, 5));
  });

  it('a partial window is released after reorderFlushMs, and drain() releases it at once', async () => {
    const bus = new LocalBus({ reorderWindow: 10, reorderFlushMs: 30 });
    const seen: string[] = [];
    bus.addRule({ name: 'r', pattern: PATTERN, target: async (e) => void seen.push(String(e.id)) });
    bus.put(ev(1));
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, []);
    await bus.idle();
    assert.deepEqual(seen, ['e1']);
    bus.put(ev(2));
    const started = performance.now();
    await bus.drain();
    assert.deepEqual(seen, ['e1', 'e2']);
    assert.ok(performance.now() - started < 25, 'drain did not wait for the flush timer');
  });

  it('delivery delay within the configured range', async () => {
    const bus = new LocalBus({ delayMs: { min: 60, max: 80 } });
    const started = performance.now();
    let at = 0;
    bus.addRule({
      name: 'r',
      pattern: PATTERN,
      target: async () => {
        at = performance.now() - started;
      },
    });
    bus.put(ev(1));
    await bus.idle();
    // The lower bound is the contract; the upper one only says "not never" (a loaded machine is slow).
    assert.ok(at >= 58 && at < 5_000, `delivered after ${at} ms`);
  });

  it('Lambda-like retries: a failing target is retried, then dead-lettered', async () => {
    const bus = new LocalBus({ retry: { maxRetries: 2, delayMs: 1 } });
    let flaky = 0;
    bus.addRule({
      name: 'flaky',
      pattern: PATTERN,
      target: async () => {
        flaky += 1;
        if (flaky < 3) throw new Error(`attempt ${flaky} failed`);
        return 'finally';
      },
    });
    bus.addRule({ name: 'broken', pattern: PATTERN, target: async () => Promise.reject(new Error('always')), retry: { maxRetries: 1, delayMs: 1 } });
    bus.put(ev(1));
    await bus.idle();
    const byRule = (rule: string) =>
      bus
        .deliveries()
        .filter((r) => r.rule === rule)
        .map((r) => [r.attempt, r.status]);
    assert.deepEqual(byRule('flaky'), [
      [1, 'failed'],
      [2, 'failed'],
      [3, 'delivered'],
    ]);
    assert.deepEqual(byRule('broken'), [
      [1, 'failed'],
      [2, 'failed'],
    ]);
    assert.deepEqual(
      bus.deadLetters().map((d) => [d.rule, d.attempts, d.error]),
      [['broken', 2, 'always']],
    );
  });

  it('without a retry policy a failure goes straight to the dead letters', async () => {
    const bus = new LocalBus();
    bus.addRule({
      name: 'r',
      pattern: PATTERN,
      target: () => {
        throw new Error('sync throw');
      },
    });
    bus.put(ev(1));
    await bus.idle();
    assert.deepEqual(
      bus.deadLetters().map((d) => [d.attempts, d.error]),
      [[1, 'sync throw']],
    );
  });
});

describe('serverless.yml rules', () => {
  it('reads the eventBridge pattern of the real serverless.yml and it fires on emulator events', async () => {
    const result = readServerlessRules('serverless.yml');
    assert.ok(result.rules.length >= 1, 'at least one eventBridge pattern rule');
    const rule = result.rules[0]!;
    assert.equal(typeof rule.pattern, 'object');
    await withEmulator({}, async (emulator) => {
      const bus = new LocalBus();
      const handled: string[] = [];
      for (const r of busRulesFromServerless(result, {
        [rule.functionName]: async (e) => void handled.push(String((e.detail as { eventName: string }).eventName)),
      })) {
        bus.addRule(r);
      }
      emulator.onCloudTrailEvent((e) => bus.put(e));
      const cf = clientFor(emulator);
      const created = await cf.send(
        new CreateFunctionCommand({ Name: 'f', FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode(CODE) }),
      );
      await cf.send(new PublishFunctionCommand({ Name: 'f', IfMatch: created.ETag }));
      await cf.send(new TagResourceCommand({ Resource: 'arn:aws:cloudfront::123456789012:function/f', Tags: { Items: [{ Key: 'k', Value: 'v' }] } }));
      await bus.drain();
      // docs/cloudfront-api.md#cloudtrail-events: the rule must never match PublishFunction.
      assert.deepEqual(handled, ['CreateFunction2020_05_31', 'TagResource2020_05_31']);
      cf.destroy();
    });
  });

  it('parses CloudFormation tags, takes maximumRetryAttempts, skips schedules and unresolved patterns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sls-'));
    const path = join(dir, 'serverless.yml');
    writeFileSync(
      path,
      [
        'service: x',
        'functions:',
        '  a:',
        '    handler: a.handler',
        '    maximumRetryAttempts: 1',
        '    destinations: { onFailure: { type: sqs, arn: !GetAtt Q.Arn } }',
        '    role: !Sub arn:aws:iam::${AWS::AccountId}:role/x',
        '    events:',
        '      - eventBridge:',
        '          pattern:',
        '            source: [aws.cloudfront]',
        '      - schedule: rate(5 minutes)',
        '      - eventBridge:',
        '          pattern: ${file(./pattern.json)}',
        '  b:',
        '    handler: b.handler',
        '    events:',
        '      - eventBridge:',
        '          eventBus: custom',
        '          pattern: { source: [custom.app] }',
      ].join('\n'),
    );
    const result = readServerlessRules(path);
    assert.deepEqual(
      result.rules.map((r) => [r.name, r.functionName, r.maximumRetryAttempts, r.eventBus ?? 'default', r.pattern]),
      [
        ['a-0', 'a', 1, 'default', { source: ['aws.cloudfront'] }],
        ['b-0', 'b', 2, 'custom', { source: ['custom.app'] }],
      ],
    );
    assert.deepEqual(
      result.skipped.map((s) => [s.functionName, s.index]),
      [['a', 2]],
    );
    assert.deepEqual(parseServerlessRules('service: empty').rules, []);
  });
});
