// TestConnectionFunction's runner, tested directly (no HTTP): connectionHandler(connection) with
// allow()/deny(), in runtime.ts's sandbox and compute budget.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runConnectionFunction } from '../../emulator/connection-runtime';
import { TIMEOUT_MESSAGE } from '../../emulator/runtime';
import { CONNECTION_OBJECT } from './helpers';

const CONNECTION = JSON.stringify(CONNECTION_OBJECT);

describe('TestConnectionFunction runner', () => {
  it('allow: the connection object reaches the handler; the output says allow', async () => {
    const run = await runConnectionFunction(
      'function connectionHandler(connection) { console.log(connection.clientIp, connection.clientCertificate.certificates.leaf.serialNumber); connection.allow(); }',
      CONNECTION,
    );
    assert.deepEqual(
      { decision: run.decision, output: run.output, errorMessage: run.errorMessage, logs: run.logs },
      { decision: 'allow', output: '{"decision":"allow"}', errorMessage: '', logs: ['203.0.113.42 4a:3f:5c:92:d1:e8:7b:6c'] },
    );
    assert.ok(Number(run.computeUtilization) >= 1);
  });

  it('deny, from an async handler that returns connection.deny(); logCustomData is accepted', async () => {
    const run = await runConnectionFunction(
      `async function connectionHandler(connection) {
        await null;
        connection.logCustomData('INVALID_OU:' + connection.clientCertificate.certificates.leaf.subject);
        return connection.deny();
      }`,
      CONNECTION,
    );
    assert.equal(run.decision, 'deny');
    assert.equal(run.output, '{"decision":"deny"}');
    assert.equal(run.errorMessage, '');
  });

  it('no decision: a handler that calls neither says none (CloudFront would deny)', async () => {
    const run = await runConnectionFunction('function connectionHandler(connection) { console.log("hm"); }', CONNECTION);
    assert.equal(run.decision, 'none');
    assert.equal(run.output, '{"decision":"none"}');
    assert.deepEqual(run.logs, ['hm']);
  });

  it('the first decision stands: deny then allow is deny', async () => {
    const run = await runConnectionFunction('function connectionHandler(c) { c.deny(); c.allow(); }', CONNECTION);
    assert.equal(run.decision, 'deny');
  });

  it('a throw (a typo) is an error with no output and no decision, even after a decision', async () => {
    const typo = await runConnectionFunction('function connectionHandler(connection) { connection.alow(); }', CONNECTION);
    assert.match(typo.errorMessage, /alow is not a function/);
    assert.deepEqual([typo.output, typo.decision], ['', 'none']);
    const late = await runConnectionFunction('function connectionHandler(c) { c.allow(); throw new Error("after"); }', CONNECTION);
    assert.deepEqual([late.errorMessage, late.output, late.decision], ['after', '', 'none']);
  });

  it('code without connectionHandler (a viewer function) and code that does not parse are errors', async () => {
    const viewer = await runConnectionFunction('function handler(event) { return event.request; }', CONNECTION);
    assert.match(viewer.errorMessage, /does not define a connectionHandler/);
    assert.equal(viewer.decision, 'none');
    const broken = await runConnectionFunction('function connectionHandler(c) { c.allow();', CONNECTION);
    assert.match(broken.errorMessage, /^SyntaxError: /);
    assert.equal(broken.decision, 'none');
  });

  it('the compute budget: a run reaching it is stopped at 100 (overBudget error), or answers 100 without an error (capped-100)', async () => {
    const spin = 'function connectionHandler(c) { while (true) {} }';
    const stopped = await runConnectionFunction(spin, CONNECTION, { budgetMs: 100 });
    assert.deepEqual([stopped.errorMessage, stopped.computeUtilization, stopped.output, stopped.decision], [TIMEOUT_MESSAGE, '100', '', 'none']);
    const slow = 'function connectionHandler(c) { var t = Date.now(); while (Date.now() - t < 150) {} c.allow(); }';
    const capped = await runConnectionFunction(slow, CONNECTION, { budgetMs: 100, overBudget: 'capped-100' });
    assert.deepEqual([capped.errorMessage, capped.computeUtilization, capped.decision], ['', '100', 'allow']);
    const busy = await runConnectionFunction('function connectionHandler(c) { var t = Date.now(); while (Date.now() - t < 170) {} c.allow(); }', CONNECTION, {
      budgetMs: 200,
    });
    assert.ok(Number(busy.computeUtilization) >= 85, busy.computeUtilization);
    assert.equal(busy.decision, 'allow');
  });

  it('the same sandbox as TestFunction: no host objects', async () => {
    const run = await runConnectionFunction('function connectionHandler(c) { console.log(typeof process, typeof require); c.allow(); }', CONNECTION);
    assert.deepEqual(run.logs, ['undefined undefined']);
  });
});
