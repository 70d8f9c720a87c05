/**
 * `cf-autopublish history`, `diff` and `rollback` end to end: the reconciler saves what each publish
 * replaced (the local stack, the real handlers), then the CLI, as an operator, lists it, diffs it and
 * rolls back through the gate, against the emulator's CloudFront and S3.
 */
import './support';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../cli/main';
import { RECONCILER_ACTOR } from '../../local/local-stack';
import { code, create, HISTORY_BUCKET, savedRecords, stateOf, update, withStack } from './support';

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFRONT_MAX_ATTEMPTS: '2' };
  for (const name of ['CLOUDFRONT_ENDPOINT', 'S3_ENDPOINT', 'HISTORY_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE']) delete env[name];
  const exit = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, env });
  return { exit, out: out.join('\n'), err: err.join('\n') };
}

const liveCode = (stack: Parameters<Parameters<typeof withStack>[1]>[0], name: string) =>
  stack.emulator.state.snapshot().find((f) => f.name === name)?.live?.code;

test('history, diff and rollback: the previous code goes live again, through the gate, and what it replaced is saved', () =>
  withStack({ settings: { HISTORY_BUCKET } }, async (stack) => {
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    const console = stack.clientFor('console-user');
    await create(console, 'url-rewrite', true);
    await stack.settle();
    const v1 = stateOf(stack, 'url-rewrite').live as string;
    const v2 = await update(console, 'url-rewrite', 'v2');
    await stack.settle();
    assert.equal(stateOf(stack, 'url-rewrite').live, v2);
    const on = ['--endpoint', stack.emulator.endpoint, '--history-bucket', HISTORY_BUCKET];

    const history = await cli('history', 'url-rewrite', ...on);
    assert.equal(history.exit, 0, history.err);
    assert.match(history.out, new RegExp(`^url-rewrite: LIVE ${v2}, DEVELOPMENT ${v2} \\(in sync\\)`));
    assert.match(history.out, /SAVED AT\s+ETAG\s+REPLACED BY\s+WITH\s+TRIGGER\s+KEY/);
    assert.match(history.out, new RegExp(`\\S+Z\\s+${v1}\\s+\\S*console-user\\s+${v2}\\s+UpdateFunction\\s+\\S+-${v1}\\.json`));
    const json = JSON.parse((await cli('history', 'url-rewrite', '--json', ...on)).out) as { liveEtag: string; versions: { key: string; etag: string }[] };
    assert.equal(json.liveEtag, v2);
    assert.deepEqual(
      json.versions.map((v) => v.etag),
      [v1],
    );

    const same = await cli('diff', 'url-rewrite', ...on);
    assert.equal(same.exit, 0, same.err);
    assert.match(same.out, /no differences/);
    const diff = await cli('diff', 'url-rewrite', v1, 'LIVE', ...on);
    assert.equal(diff.exit, 0, diff.err);
    assert.deepEqual(diff.out.split('\n').slice(2), [
      '@@ -1 +1 @@',
      '-function handler(event) { /* v1 */ return event.request; }',
      '+function handler(event) { /* v2 */ return event.request; }',
    ]);
    assert.match(diff.out.split('\n')[0] ?? '', new RegExp(`^--- url-rewrite saved .* \\(${v1}\\)$`));
    assert.equal(diff.out.split('\n')[1], `+++ url-rewrite LIVE (${v2})`);

    const preview = await cli('rollback', 'url-rewrite', ...on);
    assert.equal(preview.exit, 0, preview.err);
    assert.match(preview.out, /Would roll back url-rewrite: LIVE .* → the version saved .* \(was ETag .*, replaced by .* after an edit by .*console-user\)/);
    assert.equal(stateOf(stack, 'url-rewrite').dev, v2, 'without --yes nothing changed');

    // The rollback's own UpdateFunction reaches the event path too; held here so the CLI's reconcile is the one that publishes.
    stack.hold();
    const calls = stack.emulator.controls.calls();
    const rolled = await cli('rollback', 'url-rewrite', '--yes', ...on);
    assert.equal(rolled.exit, 0, `${rolled.out}\n${rolled.err}`);
    const after = stateOf(stack, 'url-rewrite');
    assert.equal(after.live, after.dev, 'published');
    assert.notEqual(after.dev, v2);
    assert.equal(liveCode(stack, 'url-rewrite'), Buffer.from(code('v1')).toString(), 'the previous code is LIVE again');
    assert.ok((stack.emulator.controls.calls().TestFunction ?? 0) > (calls.TestFunction ?? 0), 'through the gate');
    const publish = stack.emulator.controls.publishLog().at(-1);
    assert.equal(publish?.etag, after.dev);
    assert.notEqual(publish?.actor, RECONCILER_ACTOR, "the operator's credentials, not the reconciler's");
    assert.match(rolled.out, new RegExp(`Wrote the saved code and config to DEVELOPMENT of url-rewrite: ETag ${after.dev}`));
    assert.match(rolled.out, new RegExp(`Tested and published url-rewrite ${after.dev}: rolled back`));
    const saved = await savedRecords(stack);
    assert.deepEqual(
      saved.map((s) => [s.record.etag, s.record.replacedBy.trigger]).sort(),
      [
        [v1, 'UpdateFunction'],
        [v2, 'rollback'],
      ].sort(),
      'the version the rollback replaced is saved too: a rollback can be undone',
    );
    stack.release();
    await stack.settle();
    assert.equal(stateOf(stack, 'url-rewrite').live, after.dev, 'the event path finds nothing more to do');
  }));

test('rollback: a saved version the gate blocks is written to DEVELOPMENT but not published; bad arguments are named', () =>
  withStack({ settings: { HISTORY_BUCKET } }, async (stack) => {
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    const ci = stack.clientFor('ci-job');
    await create(ci, 'geo', true);
    await stack.settle();
    // A version that throws would not have been published by the gate; put it LIVE by hand, then replace it.
    await update(ci, 'geo', 'broken');
    stack.hold();
    const { PublishFunctionCommand } = await import('@aws-sdk/client-cloudfront');
    const broken = await (async () => {
      const { editFunction } = await import('../../local/console-edit');
      const etag = await editFunction(ci, 'geo', 'function handler(event) { throw new Error("boom"); }');
      await ci.send(new PublishFunctionCommand({ Name: 'geo', IfMatch: etag }));
      return etag;
    })();
    stack.release();
    await stack.settle();
    await update(ci, 'geo', 'v3');
    await stack.settle();
    const v3 = stateOf(stack, 'geo').live;
    assert.notEqual(v3, broken);
    const on = ['--endpoint', stack.emulator.endpoint, '--history-bucket', HISTORY_BUCKET];

    stack.hold();
    const blocked = await cli('rollback', 'geo', '--to', broken, '--yes', ...on);
    assert.equal(blocked.exit, 1, blocked.out);
    assert.match(blocked.out, /The gate blocked geo .*DEVELOPMENT holds the rolled-back code; LIVE is unchanged\./, blocked.err);
    assert.equal(stateOf(stack, 'geo').live, v3);

    assert.equal((await cli('rollback', 'geo', '--to', 'nope', ...on)).exit, 1);
    assert.match((await cli('rollback', 'geo', '--to', 'nope', ...on)).err, /no saved version of geo matches "nope"/);
    assert.match((await cli('rollback', 'geo', '--steps', '0', ...on)).err, /--steps: "0" is not a whole number of 1 or more/);
    assert.match((await cli('rollback', 'geo', '--steps', '99', ...on)).err, /--steps 99: geo has only \d saved version/);
    assert.match((await cli('history', 'geo', '--endpoint', stack.emulator.endpoint)).err, /no history bucket: pass --history-bucket/);
    stack.release();
  }));
