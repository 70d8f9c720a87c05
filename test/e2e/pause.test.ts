/**
 * The brake end to end (issue 18, section 1): the local stack (real handlers, the rules of
 * serverless.yml, the emulator's CloudFront, CloudTrail and SSM) with an operator who pauses through
 * the CLI's code path, edits, sweeps, and resumes; and a pause parameter nobody can read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalStack, RECONCILER_ACTOR } from '../../local/local-stack';
import { editFunction } from '../../local/console-edit';
import { ACTIVE } from '../../lib/pause';
import { main } from '../../cli/main';

const PARAMETER = '/cloudfront-autopublish/local/pause';
const source = (body: string) => `function handler(event) {\n  ${body}\n  return event.request;\n}`;
const settings = { PAUSE_PARAMETER: PARAMETER, PAUSE_CACHE_SECONDS: '0' };

test('pause, then an edit and a sweep: held, LIVE untouched, nothing tested; resume: the next sweep publishes it, no replay', async () => {
  const stack = await startLocalStack({ settings });
  try {
    const { emulator } = stack;
    emulator.ssm.putParameter(PARAMETER, ACTIVE);
    const { liveEtag } = emulator.state.seed({ name: 'url-rewrite', code: source('// v1'), tags: { 'auto-publish': 'true' }, publish: true });
    // The operator pauses through the CLI.
    const out: string[] = [];
    // No keys in the environment: against a loopback endpoint the CLI signs as itself (cli/main.ts, clientOptions).
    const env = { PAUSE_PARAMETER: PARAMETER };
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), interactive: false, env };
    assert.equal(await main(['pause', '--reason', 'incident 4711', '--endpoint', emulator.endpoint], io), 0, out.join('\n'));
    assert.equal(emulator.ssm.getParameter(PARAMETER)?.value, 'paused: incident 4711');

    emulator.controls.resetCalls();
    await editFunction(stack.clientFor('console-user'), 'url-rewrite', source('// v2'));
    await stack.settle();
    const held = await stack.sweep();
    assert.deepEqual(
      stack.outcomes.map((o) => [o.decidedBy, o.action, o.pause]),
      [
        ['event', 'paused', 'paused: incident 4711'],
        ['sweep', 'paused', 'paused: incident 4711'],
      ],
    );
    assert.equal(held.counts.paused, 1);
    assert.equal(emulator.controls.calls().TestFunction, undefined, 'no TestFunction while paused');
    assert.deepEqual(emulator.controls.publishLog(), [], 'no PublishFunction while paused');
    const [fn] = emulator.state.snapshot();
    assert.equal(fn?.live?.etag, liveEtag, 'LIVE keeps the old version');
    assert.ok(emulator.controls.calls().DescribeFunction! >= 2, 'the reads that decide still happen');

    out.length = 0;
    assert.equal(await main(['status', '--endpoint', emulator.endpoint], io), 0, out.join('\n'));
    assert.match(out.join('\n'), /Pause: PAUSED \(\/cloudfront-autopublish\/local\/pause: "paused: incident 4711"\)/);

    assert.equal(await main(['resume', '--endpoint', emulator.endpoint], io), 0, out.join('\n'));
    assert.equal(emulator.ssm.getParameter(PARAMETER)?.value, ACTIVE);
    const resumed = await stack.sweep();
    assert.equal(resumed.counts.published, 1);
    const publishes = emulator.controls.publishLog();
    assert.deepEqual(
      publishes.map((p) => [p.name, p.actor]),
      [['url-rewrite', RECONCILER_ACTOR]],
    );
    assert.equal(emulator.state.snapshot()[0]?.live?.etag, emulator.state.snapshot()[0]?.development.etag);
  } finally {
    await stack.close();
  }
});

test('an unreadable pause parameter fails the invocation (the event is retried, the sweep fails) and nothing is published', async () => {
  const stack = await startLocalStack({ settings, bus: { retry: { maxRetries: 2, delayMs: 1 } } });
  try {
    const { emulator } = stack;
    emulator.state.seed({ name: 'url-rewrite', code: source('// v1'), tags: { 'auto-publish': 'true' }, publish: true });
    emulator.ssm.setFault({ code: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameter' });
    await editFunction(stack.clientFor('console-user'), 'url-rewrite', source('// v2'));
    await stack.settle();
    await assert.rejects(stack.sweep(), {
      name: 'PauseReadError',
      message: /cannot read the pause parameter \/cloudfront-autopublish\/local\/pause: AccessDeniedException/,
    });
    assert.deepEqual(stack.outcomes, [], 'no outcome decided on a guess');
    assert.deepEqual(emulator.controls.publishLog(), []);
    // Retryable: tried 3 times as Lambda would, never sent to the failure queue as hopeless.
    const [dead, ...more] = stack.bus.deadLetters();
    assert.equal(more.length, 0);
    assert.equal(dead?.attempts, 3);
    assert.match(dead?.error ?? '', /PauseReadError|cannot read the pause parameter/);
    assert.deepEqual(stack.failureQueue, []);
    // Readable again (nobody created it: ParameterNotFound publishes as usual).
    emulator.ssm.setFault(undefined);
    const summary = await stack.sweep();
    assert.equal(summary.counts.published, 1);
  } finally {
    await stack.close();
  }
});
