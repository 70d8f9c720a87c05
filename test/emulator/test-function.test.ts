// TestFunction as the real API answers it, through the real SDK: the TestResult members, the compute
// budget behind ComputeUtilization (emulator/runtime.ts), the request errors, both stages, and the
// misbehaviour controls. Sources: docs/cloudfront-api.md#testfunction.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type CloudFrontClient, PublishFunctionCommand, TestFunctionCommand, UpdateFunctionCommand, type TestResult } from '@aws-sdk/client-cloudfront';
import { MAX_EVENT_OBJECT_BYTES, TIMEOUT_MESSAGE, type Emulator } from '../../emulator';
import { emulatorForSuite, encode, errorOf } from './helpers';

const viewerRequest = (uri = '/a') =>
  JSON.stringify({
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '198.51.100.11' },
    request: { method: 'GET', uri, querystring: {}, headers: {}, cookies: {} },
  });
const viewerResponse = () =>
  JSON.stringify({
    version: '1.0',
    context: { eventType: 'viewer-response' },
    viewer: { ip: '198.51.100.11' },
    request: { method: 'GET', uri: '/a', querystring: {}, headers: {}, cookies: {} },
    response: { statusCode: 200, statusDescription: 'OK', headers: {}, cookies: {} },
  });
const BUDGET_MS = 400;
/** Busy for `share` of the budget on the runtime's own clock: elapsed can only be longer. */
const busy = (share: number) =>
  `function handler(event) { var t = Date.now(); while (Date.now() - t < ${Math.round(BUDGET_MS * share)}) {} return event.request; }`;

describe('TestFunction through the SDK', () => {
  let emulator: Emulator;
  let cf: CloudFrontClient;
  const test = async (name: string, code: string, event = viewerRequest()): Promise<TestResult> => {
    const { developmentEtag } = emulator.state.seed({ name, code });
    const out = await cf.send(new TestFunctionCommand({ Name: name, IfMatch: developmentEtag, Stage: 'DEVELOPMENT', EventObject: encode(event) }));
    assert.ok(out.TestResult);
    return out.TestResult;
  };

  emulatorForSuite({ testFunctionBudgetMs: BUDGET_MS }, (e, c) => {
    emulator = e;
    cf = c;
  });
  beforeEach(() => {
    emulator.state.reset();
    emulator.controls.setTestFunctionBudget(BUDGET_MS);
    emulator.controls.setComputeUtilizationOverride(undefined);
    emulator.controls.setLatency(undefined);
    emulator.controls.setRateLimit(undefined);
    emulator.controls.setFaults(undefined);
    emulator.controls.resetCalls();
  });

  describe('TestResult members', () => {
    it('a fine run: FunctionSummary of the tested stage, wrapped output, empty error message, logs, utilization a numeric string', async () => {
      const result = await test(
        'ok',
        'function handler(event) { console.log("uri", event.request.uri); console.log({ n: 1 }); event.request.uri += "index.html"; return event.request; }',
        viewerRequest('/docs/'),
      );
      assert.equal(result.FunctionErrorMessage, '');
      assert.deepEqual(JSON.parse(result.FunctionOutput ?? ''), {
        request: { method: 'GET', uri: '/docs/index.html', querystring: {}, headers: {}, cookies: {} },
      });
      assert.deepEqual(result.FunctionExecutionLogs, ['uri /docs/', '{"n":1}']);
      assert.equal(result.FunctionSummary?.Name, 'ok');
      assert.equal(result.FunctionSummary?.FunctionMetadata?.Stage, 'DEVELOPMENT');
      assert.match(result.ComputeUtilization ?? '', /^(100|[1-9][0-9]?)$/);
    });

    it('a viewer-response function: output wrapped as {"response": …}', async () => {
      const result = await test(
        'resp',
        'function handler(event) { event.response.headers["x-gate"] = { value: "1" }; return event.response; }',
        viewerResponse(),
      );
      assert.deepEqual(Object.keys(JSON.parse(result.FunctionOutput ?? '{}') as object), ['response']);
      assert.deepEqual((JSON.parse(result.FunctionOutput ?? '{}') as { response: { headers: unknown } }).response.headers, { 'x-gate': { value: '1' } });
    });

    it('a throwing function: the thrown message, no output, the lines logged before the throw', async () => {
      const result = await test('thrower', 'function handler(event) { console.log("before"); throw new Error("boom at " + event.request.uri); }');
      assert.equal(result.FunctionErrorMessage, 'boom at /a');
      assert.equal(result.FunctionOutput, '');
      assert.deepEqual(result.FunctionExecutionLogs, ['before']);
      // A thrown non-Error reads as its string form.
      assert.equal((await test('thrower2', 'function handler() { throw "plain"; }')).FunctionErrorMessage, 'plain');
    });

    it('a syntax error: "SyntaxError: …" in FunctionErrorMessage, not a failed call', async () => {
      const result = await test('broken', 'function handler(event) { return event.request');
      assert.match(result.FunctionErrorMessage ?? '', /^SyntaxError: /);
      assert.equal(result.FunctionOutput, '');
      assert.deepEqual(result.FunctionExecutionLogs ?? [], []);
    });

    it('logs stop at 10 KB (CloudFront truncates function logs there)', async () => {
      const result = await test(
        'chatty',
        'function handler(event) { for (var i = 0; i < 30; i++) console.log(String(i).padEnd(1000, ".")); return event.request; }',
      );
      assert.equal(result.FunctionExecutionLogs?.length, 10);
      assert.equal(result.FunctionErrorMessage, '');
    });
  });

  describe('ComputeUtilization against the compute budget', () => {
    it('a busy loop over 85% of the budget reads above 70; a function that returns at once reads low', async () => {
      const high = await test('hot', busy(0.85));
      assert.equal(high.FunctionErrorMessage, '');
      assert.ok(Number(high.ComputeUtilization) >= 85, `hot: ${high.ComputeUtilization}`);
      assert.ok(Number(high.ComputeUtilization) > 70);
      const low = await test('cool', 'function handler(event) { return event.request; }');
      assert.ok(Number(low.ComputeUtilization) >= 1 && Number(low.ComputeUtilization) <= 25, `cool: ${low.ComputeUtilization}`);
    });

    it('the budget is a control: the same loop reads lower under a larger budget', async () => {
      emulator.controls.setTestFunctionBudget(BUDGET_MS * 4);
      assert.equal(emulator.controls.testFunctionBudget(), BUDGET_MS * 4);
      const result = await test('hot', busy(0.85));
      const value = Number(result.ComputeUtilization);
      assert.ok(value >= 21 && value <= 50, `under 4× the budget: ${result.ComputeUtilization}`);
      assert.throws(() => emulator.controls.setTestFunctionBudget(0), RangeError);
      assert.throws(() => emulator.controls.setTestFunctionBudget(1.5), RangeError);
    });

    it('over the budget: stopped, TIMEOUT_MESSAGE, utilization "100", no output (sync loops and endless await chains)', async () => {
      for (const [name, code] of [
        ['spin', 'function handler(event) { console.log("start"); while (true) {} }'],
        ['awaits', 'async function handler(event) { for (;;) await null; }'],
        ['top-level', 'while (true) {} function handler(event) { return event.request; }'],
        ['just-over', busy(1.2)],
      ] as const) {
        const started = performance.now();
        const result = await test(name, code);
        assert.equal(result.FunctionErrorMessage, TIMEOUT_MESSAGE, name);
        assert.equal(result.ComputeUtilization, '100', name);
        assert.equal(result.FunctionOutput, '', name);
        assert.ok(performance.now() - started < BUDGET_MS * 5, `${name} answered in time`);
      }
      assert.equal(TIMEOUT_MESSAGE, 'The function exceeded the maximum compute time.');
    });

    it('overBudget=capped-100: over the budget is no error, "100" with the output of a run that finished; an endless one is stopped at 2x', async () => {
      emulator.controls.setVariants({ overBudget: 'capped-100' });
      try {
        const finished = await test('capped-over', busy(1.2));
        assert.equal(finished.FunctionErrorMessage, '');
        assert.equal(finished.ComputeUtilization, '100');
        assert.match(finished.FunctionOutput ?? '', /"request"/);
        const started = performance.now();
        const endless = await test('capped-spin', 'function handler(event) { while (true) {} }');
        assert.equal(endless.FunctionErrorMessage, '');
        assert.equal(endless.ComputeUtilization, '100');
        assert.equal(endless.FunctionOutput, '');
        assert.ok(performance.now() - started < BUDGET_MS * 8, 'answered in time');
      } finally {
        emulator.controls.setVariants({ overBudget: 'error' });
      }
    });

    it('an override replaces the measurement ("" and "0" are answers real calls give)', async () => {
      for (const value of ['', '0', '85']) {
        emulator.controls.setComputeUtilizationOverride(value);
        const result = await test(`o${value || 'empty'}`, 'function handler(event) { return event.request; }');
        assert.equal(result.ComputeUtilization ?? '', value);
        assert.equal(result.FunctionErrorMessage, '');
      }
    });
  });

  describe('request errors', () => {
    it('a stale If-Match → PreconditionFailed 412; none → InvalidIfMatchVersion 400', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f1', code: 'function handler(e) { return e.request; }' });
      await cf.send(
        new UpdateFunctionCommand({
          Name: 'f1',
          IfMatch: developmentEtag,
          FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: encode('function handler(e) { return e.request; }'),
        }),
      );
      const stale = await errorOf(() => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: developmentEtag, EventObject: encode(viewerRequest()) })));
      assert.equal(stale.name, 'PreconditionFailed');
      assert.equal(stale.$metadata?.httpStatusCode, 412);
      const missing = await errorOf(() => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: undefined, EventObject: encode(viewerRequest()) })));
      assert.equal(missing.name, 'InvalidIfMatchVersion');
      assert.equal(missing.$metadata?.httpStatusCode, 400);
    });

    it('an unknown function → NoSuchFunctionExists 404', async () => {
      const error = await errorOf(() => cf.send(new TestFunctionCommand({ Name: 'nope', IfMatch: 'ETVPDKIKX0DER', EventObject: encode(viewerRequest()) })));
      assert.equal(error.name, 'NoSuchFunctionExists');
      assert.equal(error.$metadata?.httpStatusCode, 404);
    });

    it('EventObject not JSON, not an object, or over 40960 bytes → InvalidArgument 400; exactly 40960 bytes runs', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f1', code: 'function handler(e) { return e.request; }' });
      const send = (event: string) => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: developmentEtag, EventObject: encode(event) }));
      const padded = (bytes: number) => {
        const base = viewerRequest();
        const pad = bytes - Buffer.byteLength(base) - ',"pad":""'.length;
        return `${base.slice(0, -1)},"pad":"${'x'.repeat(pad)}"}`;
      };
      assert.equal(Buffer.byteLength(padded(MAX_EVENT_OBJECT_BYTES)), MAX_EVENT_OBJECT_BYTES);
      for (const [label, event] of [
        ['not JSON', 'not json'],
        ['an array', '[]'],
        ['empty', ''],
        ['over 40960 bytes', padded(MAX_EVENT_OBJECT_BYTES + 1)],
      ] as const) {
        const error = await errorOf(() => send(event));
        assert.equal(error.name, 'InvalidArgument', label);
        assert.equal(error.$metadata?.httpStatusCode, 400, label);
      }
      const ok = await send(padded(MAX_EVENT_OBJECT_BYTES));
      assert.equal(ok.TestResult?.FunctionErrorMessage, '');
      assert.equal((JSON.parse(ok.TestResult?.FunctionOutput ?? '{}') as { request: { uri: string } }).request.uri, '/a');
    });
  });

  describe('stages', () => {
    it('LIVE runs the published code with the LIVE ETag, DEVELOPMENT the newer code with its own; crossing them → 412', async () => {
      const { developmentEtag: v1 } = emulator.state.seed({ name: 'f1', code: 'function handler(e) { console.log("v1"); return e.request; }' });
      await cf.send(new PublishFunctionCommand({ Name: 'f1', IfMatch: v1 }));
      const updated = await cf.send(
        new UpdateFunctionCommand({
          Name: 'f1',
          IfMatch: v1,
          FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: encode('function handler(e) { console.log("v2"); return e.request; }'),
        }),
      );
      const v2 = updated.ETag!;
      const run = (stage: 'DEVELOPMENT' | 'LIVE', etag: string) =>
        cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: etag, Stage: stage, EventObject: encode(viewerRequest()) }));
      const live = await run('LIVE', v1);
      assert.deepEqual(live.TestResult?.FunctionExecutionLogs, ['v1']);
      assert.equal(live.TestResult?.FunctionSummary?.FunctionMetadata?.Stage, 'LIVE');
      const dev = await run('DEVELOPMENT', v2);
      assert.deepEqual(dev.TestResult?.FunctionExecutionLogs, ['v2']);
      assert.equal(dev.TestResult?.FunctionSummary?.FunctionMetadata?.Stage, 'DEVELOPMENT');
      assert.equal((await errorOf(() => run('LIVE', v2))).name, 'PreconditionFailed');
      assert.equal((await errorOf(() => run('DEVELOPMENT', v1))).name, 'PreconditionFailed');
    });
  });

  describe('controls apply to TestFunction like to any call', () => {
    it('counted, delayed by the latency, throttled by the rate limit, failed by faults; no CloudTrail event', async () => {
      const { developmentEtag } = emulator.state.seed({ name: 'f1', code: 'function handler(e) { return e.request; }' });
      const send = () => cf.send(new TestFunctionCommand({ Name: 'f1', IfMatch: developmentEtag, EventObject: encode(viewerRequest()) }));
      emulator.clearCloudTrailEvents();
      await send();
      assert.equal(emulator.controls.calls().TestFunction, 1);

      emulator.controls.setLatency(150);
      const started = performance.now();
      await send();
      assert.ok(performance.now() - started >= 145);
      emulator.controls.setLatency(undefined);

      emulator.controls.setRateLimit({ ratePerSecond: 0.001, burst: 1 });
      await send();
      const throttled = await errorOf(send);
      assert.equal(throttled.name, 'Throttling');
      emulator.controls.setRateLimit(undefined);

      emulator.controls.setFaults({ probability: 1, seed: 3 });
      const faulted = await errorOf(send);
      assert.ok(faulted.name === 'InternalError' || faulted.name === 'ServiceUnavailable', faulted.name);
      assert.ok((faulted.$metadata?.httpStatusCode ?? 0) >= 500);
      emulator.controls.setFaults(undefined);

      assert.equal(emulator.controls.calls().TestFunction, 5);
      assert.deepEqual(emulator.cloudTrailEvents(), []);
    });
  });
});
