/**
 * The CLI's contract (docs/cli-contract.md), against the emulator: exit codes, --version, each
 * command's help, stray arguments and mistyped flags, `wait`, and every --json document validated
 * against docs/cli-output.schema.json.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/index';
import { explain, main } from '../../cli/main';
import { COMMANDS, type CommandName } from '../../cli/commands';
import { type Schema, validate } from '../support/json-schema';

const ROOT = join(__dirname, '..', '..');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-output.schema.json'), 'utf8')) as Schema;
const GOOD = 'function handler(event) { return event.request; }';
const THROWS = 'function handler(event) { throw new Error("broken on purpose"); }';
const OPTED_IN = { 'auto-publish': 'true' };
const BUCKET = 'contract-history';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012' });
});
after(() => emulator.close());
beforeEach(() => {
  emulator.state.reset();
  emulator.controls.clearPublishLog();
  emulator.state.createBucket(BUCKET);
  emulator.state.seed({ name: 'in-sync', code: GOOD, tags: OPTED_IN, publish: true });
  emulator.state.seed({ name: 'pending', code: GOOD, tags: OPTED_IN, publish: false });
  emulator.state.seed({ name: 'untagged', code: GOOD, tags: {}, publish: false });
});

/** With the publish gate on, as a deployment with publishGate=smoke; `err` is each line written to stderr. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFRONT_MAX_ATTEMPTS: '2', PUBLISH_GATE: 'smoke' };
  delete env.CLOUDFRONT_ENDPOINT;
  delete env.HISTORY_BUCKET;
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(...t.split('\n')), interactive: false, env });
  return { code, out: out.join('\n'), err };
}

const on = () => ['--endpoint', emulator.endpoint];
const published = () => emulator.controls.publishLog().map((p) => p.name);
const seedBroken = (name: string) => emulator.state.seed({ name, code: THROWS, tags: OPTED_IN, publish: false });
const developmentEtag = (name: string) => emulator.state.model.describeFunction(name, 'DEVELOPMENT').etag;

test('--version prints the package version, exit 0', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await cli('--version');
  assert.deepEqual([r.code, r.out], [0, `cf-autopublish ${version}`]);
});

test('every command has its own --help: its synopsis and only the options it takes; `help NAME` says the same', async () => {
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    const r = await cli(name, '--help');
    assert.equal(r.code, 0, name);
    assert.ok(r.out.startsWith(`Usage: cf-autopublish ${name}`), `${name}: ${r.out.split('\n')[0]}`);
    const listed = [...r.out.matchAll(/^ {2}(?:-h, )?--([\w-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...COMMANDS[name].options, 'help'], name);
    assert.equal((await cli('help', name)).out, r.out, `help ${name}`);
  }
  const overview = await cli('--help');
  assert.equal(overview.code, 0);
  for (const name of Object.keys(COMMANDS)) assert.match(overview.out, new RegExp(`^ {2}${name}\\b`, 'm'), name);
});

test('a stray argument is a usage error (exit 2) and nothing runs: `sweep my-fn` publishes nothing', async () => {
  const r = await cli('sweep', 'pending', ...on());
  assert.equal(r.code, 2);
  assert.deepEqual(r.err, [
    'cf-autopublish: sweep takes no function name (it sweeps them all; `reconcile NAME` does one): unexpected "pending" (see cf-autopublish sweep --help)',
  ]);
  assert.deepEqual(published(), []);
  for (const args of [
    ['status', 'x'],
    ['reconcile', 'pending', 'in-sync'],
    ['wait'],
    ['pause', 'now', '--reason', 'r'],
    ['diff', 'a', 'LIVE', 'DEVELOPMENT', 'more'],
  ]) {
    const stray = await cli(...args, ...on());
    assert.equal(stray.code, 2, args.join(' '));
    assert.equal(stray.err.length, 1, args.join(' '));
  }
  assert.deepEqual(published(), []);
});

test('a mistyped flag gets one line naming it and the closest flag; an option of another command is refused', async () => {
  const typo = await cli('sweep', '--dryrun', ...on());
  assert.equal(typo.code, 2);
  assert.deepEqual(typo.err, ['cf-autopublish: unknown option --dryrun; did you mean --dry-run? (see cf-autopublish sweep --help)']);
  assert.deepEqual(published(), [], 'a mistyped --dry-run must not publish');
  const timeout = await cli('wait', 'pending', '--timout', '5', ...on());
  assert.deepEqual(timeout.err, ['cf-autopublish: unknown option --timout; did you mean --timeout? (see cf-autopublish wait --help)']);
  const other = await cli('sweep', '--yes', ...on());
  assert.deepEqual([other.code, other.err], [2, ['cf-autopublish: sweep does not take --yes (see cf-autopublish sweep --help)']]);
  const command = await cli('swep', ...on());
  assert.deepEqual([command.code, command.err], [2, ['cf-autopublish: unknown command "swep"; did you mean "sweep"? (see cf-autopublish --help)']]);
  const missing = await cli('status', '--endpoint');
  assert.deepEqual([missing.code, missing.err], [2, ['cf-autopublish: --endpoint needs a value (see cf-autopublish status --help)']]);
});

test('exit codes: 0 done and in sync, 1 error, 2 bad usage, 3 blocked by the gate, 4 status --check out of sync', async () => {
  seedBroken('broken');
  assert.equal((await cli('status', '--check', ...on())).code, 4, 'pending and broken are opted in and not live');
  const check = await cli('status', '--check', ...on());
  assert.deepEqual(check.err, ['cf-autopublish: 2 opted-in function(s) not in sync: broken, pending']);
  assert.equal((await cli('status', ...on())).code, 0, 'without --check, status only reports');
  assert.equal((await cli('reconcile', 'pending', ...on())).code, 0);
  assert.equal((await cli('reconcile', 'broken', ...on())).code, 3);
  assert.equal((await cli('test', 'broken', ...on())).code, 3);
  assert.equal((await cli('test', 'pending', ...on())).code, 0);
  assert.equal((await cli('reconcile', 'no-such-function', ...on())).code, 1);
  assert.equal((await cli('status', '--frobnicate', ...on())).code, 2);
  emulator.state.model.deleteFunction('broken', developmentEtag('broken'));
  assert.equal((await cli('status', '--check', ...on())).code, 0, 'every opted-in function in sync');
});

test('sweep and reconcile say in plain text why the gate blocked a function', async () => {
  seedBroken('broken');
  const swept = await cli('sweep', ...on());
  assert.equal(swept.code, 0, swept.err.join('\n'));
  assert.match(swept.out, /^Blocked by the publish gate \(LIVE unchanged\):\n {2}broken E\w+: .*the function threw: .*broken on purpose.* \(test case smoke/m);
  const one = await cli('reconcile', 'broken', ...on());
  assert.equal(one.code, 3);
  assert.match(one.out, /^ {2}broken E\w+: .*broken on purpose/m);
});

test('wait: exit 0 at once when LIVE already equals DEVELOPMENT', async () => {
  const r = await cli('wait', 'in-sync', ...on());
  assert.deepEqual([r.code, r.out], [0, `in-sync is live: LIVE = DEVELOPMENT = ${developmentEtag('in-sync')}.`]);
});

test('wait: exit 0 once the publish happens while it waits', async () => {
  const started = Date.now();
  const publishLater = setTimeout(() => emulator.state.model.publishFunction('pending', developmentEtag('pending')), 300);
  const r = await cli('wait', 'pending', '--timeout', '10', ...on());
  clearTimeout(publishLater);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.ok(Date.now() - started < 5000);
});

test('wait: exit 3 at once when the gate would block DEVELOPMENT, without publishing', async () => {
  seedBroken('broken');
  const started = Date.now();
  const r = await cli('wait', 'broken', '--timeout', '30', ...on());
  assert.equal(r.code, 3);
  assert.match(r.out, /^broken DEVELOPMENT E\w+ would be blocked by the publish gate, so it will not go live: .*broken on purpose/);
  assert.ok(Date.now() - started < 10_000, 'it did not wait for the timeout');
  assert.deepEqual(published(), []);
});

test('wait: exit 1 on timeout, and at once when the function is not opted in, saying which', async () => {
  const started = Date.now();
  const late = await cli('wait', 'pending', '--timeout', '1', ...on());
  assert.equal(late.code, 1);
  assert.ok(Date.now() - started >= 1000);
  assert.match(late.err[0] ?? '', /^cf-autopublish: timed out after 1 s: pending LIVE \(never published\) is not DEVELOPMENT E\w+/);
  const untagged = await cli('wait', 'untagged', ...on());
  assert.equal(untagged.code, 1);
  assert.match(untagged.err[0] ?? '', /^cf-autopublish: untagged is not opted in \(tag auto-publish=true\)/);
  assert.equal((await cli('wait', 'pending', '--timeout', 'soon', ...on())).code, 2);
  assert.deepEqual(published(), []);
});

test('every command with --json writes one document that docs/cli-output.schema.json accepts', async () => {
  seedBroken('broken');
  const documents: Record<string, unknown>[] = [];
  const run = async (expected: number, ...args: string[]) => {
    const r = await cli(...args, '--json', ...on());
    assert.equal(r.code, expected, `${args.join(' ')}: ${r.err.join('\n')}`);
    const document = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(validate(document, SCHEMA), [], args.join(' '));
    assert.equal(document.command, args[0]);
    documents.push(document);
    return document;
  };
  await run(0, 'status');
  await run(0, 'test', 'pending');
  await run(3, 'test', 'broken');
  await run(3, 'wait', 'broken');
  await run(3, 'reconcile', 'broken');
  await run(0, 'sweep', '--dry-run');
  const reconciled = await run(0, 'reconcile', 'pending', '--history-bucket', BUCKET);
  assert.deepEqual([reconciled.functionName, reconciled.action, reconciled.etag], ['pending', 'published', developmentEtag('pending')]);
  await run(0, 'wait', 'pending');
  emulator.state.model.updateFunction({
    name: 'in-sync',
    ifMatch: developmentEtag('in-sync'),
    config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
    code: Buffer.from(`${GOOD} // v2`),
  });
  await run(0, 'sweep', '--history-bucket', BUCKET);
  const history = await run(0, 'history', 'in-sync', '--history-bucket', BUCKET);
  assert.equal((history.versions as unknown[]).length, 1);
  assert.deepEqual(new Set(documents.map((d) => d.command)), new Set(['status', 'test', 'wait', 'reconcile', 'sweep', 'history']));

  // The same documents about connection functions (issue 19): one that goes live, one that throws.
  const before = documents.length;
  const allow = 'function connectionHandler(connection) { connection.allow(); }';
  const mtls = emulator.state.seedConnectionFunction({ name: 'mtls', code: allow, tags: OPTED_IN, publish: true });
  emulator.state.seedConnectionFunction({ name: 'mtls-broken', code: 'function connectionHandler(c) { c.alow(); }', tags: OPTED_IN, publish: false });
  emulator.state.model.connectionFunctions.update({
    id: mtls.id,
    ifMatch: mtls.developmentEtag,
    config: { comment: '', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
    code: Buffer.from(`${allow} // v2`),
  });
  const status = await run(0, 'status');
  assert.ok((status.functions as { kind?: string }[]).some((f) => f.kind === 'connection'));
  await run(3, 'test', 'mtls-broken');
  await run(3, 'wait', 'mtls-broken');
  await run(3, 'reconcile', 'mtls-broken');
  await run(0, 'test', 'mtls');
  const swept = await run(0, 'sweep', '--history-bucket', BUCKET);
  assert.ok((swept.outcomes as { functionArn: string; action: string }[]).some((o) => o.functionArn === mtls.arn && o.action === 'published'));
  await run(0, 'wait', 'mtls');
  const saved = await run(0, 'history', 'mtls', '--history-bucket', BUCKET);
  assert.equal((saved.versions as { functionId?: string }[])[0]?.functionId, mtls.id);
  assert.equal(documents.length - before, 8);
  for (const d of documents) assert.equal(d.schemaVersion, 1);

  // The validator is not vacuous: the old field names are refused.
  const { functionName, ...renamed } = reconciled;
  assert.notDeepEqual(validate({ ...renamed, function: functionName }, SCHEMA), []);
  assert.notDeepEqual(validate({ ...reconciled, schemaVersion: 2 }, SCHEMA), []);
});

test('an https endpoint that fails TLS gets one line, not OpenSSL internals', async () => {
  // A plain HTTP server spoken to over https: OpenSSL's "wrong version number", with its source file.
  const server = http.createServer((_, response) => response.end('not TLS'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const r = await cli('status', '--endpoint', endpoint);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [`cf-autopublish: TLS with CloudFront at ${endpoint} failed: it does not speak TLS there (an http:// endpoint?)`]);
  } finally {
    server.close();
  }
  const selfSigned = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.equal(
    explain(selfSigned, { endpoint: 'https://cf.internal', profile: undefined, env: {} }),
    'TLS with CloudFront at https://cf.internal failed: its certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); for a local emulator use http://',
  );
});
