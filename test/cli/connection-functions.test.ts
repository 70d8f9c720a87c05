/**
 * The CLI and connection functions (issue 19), against the emulator: `status` shows the kind, a name
 * both kinds have is refused until `--kind` says which, the gate's verdicts (a deny is a decision, a
 * throw blocks), rollback through UpdateConnectionFunction with the operator's credentials, and every
 * --json document about a connection function validated against docs/cli-output.schema.json.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/index';
import { main } from '../../cli/main';
import { createCloudFrontClient } from '../../lib/cloudfront-gateway';
import { editConnectionFunction } from '../../local/console-edit';
import { type Schema, validate } from '../support/json-schema';

const ROOT = join(__dirname, '..', '..');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-output.schema.json'), 'utf8')) as Schema;
const OPTED_IN = { 'auto-publish': 'true' };
const BUCKET = 'connection-history';
const VIEWER = 'function handler(event) { return event.request; }';
const ALLOW = 'function connectionHandler(connection) { connection.allow(); }';
/** Denies every certificate but a partner CA's: the smoke connection's is not, so it is denied. */
const PARTNERS_ONLY =
  'function connectionHandler(connection) { var leaf = connection.clientCertificate.certificates.leaf; if (leaf.issuer.indexOf("Partner CA") >= 0) connection.allow(); else connection.deny(); }';
/** A typo: `alow` is no method, so every handshake throws. */
const TYPO = 'function connectionHandler(connection) { connection.alow(); }';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012' });
});
after(() => emulator.close());

let mtls: { id: string; arn: string };
beforeEach(() => {
  emulator.state.reset();
  emulator.controls.clearPublishLog();
  emulator.state.createBucket(BUCKET);
  emulator.state.seed({ name: 'viewer-only', code: VIEWER, tags: OPTED_IN, publish: true });
  mtls = emulator.state.seedConnectionFunction({ name: 'mtls-gate', code: ALLOW, tags: OPTED_IN, publish: true });
  emulator.state.seedConnectionFunction({ name: 'mtls-untagged', code: ALLOW, tags: {}, publish: false });
});

async function cli(...args: string[]) {
  return cliWith({}, ...args);
}

async function cliWith(settings: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFRONT_MAX_ATTEMPTS: '2', PUBLISH_GATE: 'smoke', ...settings };
  delete env.CLOUDFRONT_ENDPOINT;
  delete env.HISTORY_BUCKET;
  const code = await main([...args, '--endpoint', emulator.endpoint], {
    out: (t) => out.push(t),
    err: (t) => err.push(...t.split('\n')),
    interactive: false,
    env,
  });
  return { code, out: out.join('\n'), err };
}

const console = () =>
  createCloudFrontClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'console-user', secretAccessKey: 'x' } });
const connection = (name: string) => emulator.state.connectionFunctions().find((f) => f.name === name);
const published = () => emulator.controls.publishLog().map((p) => `${p.connectionFunctionId ? 'connection' : 'function'}:${p.name}`);

test('status lists both kinds, with a KIND column and a `kind` field in --json that the schema accepts', async () => {
  const r = await cli('status');
  assert.equal(r.code, 0, r.err.join('\n'));
  const lines = r.out.split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+KIND\s+OPTED IN\s+DEV STATUS/);
  const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('mtls-gate'), /^mtls-gate\s+connection\s+yes\s+\w+\s+E\w+\s+E\w+\s+yes/);
  assert.match(row('mtls-untagged'), /^mtls-untagged\s+connection\s+no\s+\w+\s+E\w+\s+\(never published\)\s+NO/);
  assert.match(row('viewer-only'), /^viewer-only\s+function\s+yes/);
  assert.match(r.out, /3 function\(s\); 0 opted in and not live\./);

  const json = await cli('status', '--json');
  const document = JSON.parse(json.out) as { functions: { functionName: string; functionArn: string; kind: string }[] };
  assert.deepEqual(validate(document, SCHEMA), []);
  const kinds = Object.fromEntries(document.functions.map((f) => [f.functionName, [f.kind, f.functionArn]]));
  assert.deepEqual(kinds['mtls-gate'], ['connection', mtls.arn]);
  assert.equal(kinds['viewer-only']?.[0], 'function');
  // The validator is not vacuous about the new field.
  assert.notDeepEqual(validate({ ...document, functions: [{ ...document.functions[0], kind: 'edge' }] }, SCHEMA), []);
});

test('status --check counts an opted-in connection function that is not live', async () => {
  await editConnectionFunction(console(), mtls.id, `${ALLOW} // v2`);
  const r = await cli('status', '--check');
  assert.equal(r.code, 4);
  assert.deepEqual(r.err, ['cf-autopublish: 1 opted-in function(s) not in sync: mtls-gate']);
});

test('a name both kinds have is ambiguous: one line naming both, exit 2, nothing published; --kind picks one', async () => {
  emulator.state.seed({ name: 'shared', code: VIEWER, tags: OPTED_IN, publish: false });
  const twin = emulator.state.seedConnectionFunction({ name: 'shared', code: ALLOW, tags: OPTED_IN, publish: false });
  for (const command of ['reconcile', 'test', 'wait', 'history', 'diff', 'rollback']) {
    const r = await cli(command, 'shared', ...(['test', 'wait'].includes(command) ? [] : ['--history-bucket', BUCKET]));
    assert.equal(r.code, 2, `${command}: ${r.err.join('\n')}`);
    assert.deepEqual(r.err, [
      `cf-autopublish: "shared" names both a CloudFront function (arn:aws:cloudfront::123456789012:function/shared) and a connection function (${twin.arn}): pass --kind function or --kind connection (see cf-autopublish ${command} --help)`,
    ]);
  }
  assert.deepEqual(published(), []);

  const one = await cli('reconcile', 'shared', '--kind', 'connection', '--json');
  assert.equal(one.code, 0, one.err.join('\n'));
  const outcome = JSON.parse(one.out) as Record<string, unknown>;
  assert.deepEqual([outcome.action, outcome.functionArn], ['published', twin.arn]);
  assert.deepEqual(validate(outcome, SCHEMA), []);
  assert.deepEqual(published(), ['connection:shared']);
  assert.equal((await cli('reconcile', 'shared', '--kind', 'function')).code, 0);
  assert.deepEqual(published(), ['connection:shared', 'function:shared']);
});

test('a bad --kind is a usage error naming the flag; --kind connection on a CloudFront function finds none', async () => {
  const bad = await cli('reconcile', 'mtls-gate', '--kind', 'edge');
  assert.deepEqual([bad.code, bad.err], [2, ['cf-autopublish: --kind "edge" is not function or connection (see cf-autopublish reconcile --help)']]);
  const refused = await cli('status', '--kind', 'connection');
  assert.equal(refused.code, 2, 'status lists both kinds: it takes no --kind');
  const wrongKind = await cli('reconcile', 'viewer-only', '--kind', 'connection');
  assert.deepEqual([wrongKind.code, wrongKind.err], [1, ['cf-autopublish: no connection function named viewer-only']]);
  assert.deepEqual(published(), []);
});

test('reconcile --kind connection of a name the guard refuses: skipped-not-allowed, and the function is never read', async () => {
  await editConnectionFunction(console(), mtls.id, `${ALLOW} // v2`);
  const before = { ...emulator.controls.calls() };
  const r = await cliWith({ AUTO_PUBLISH_ALLOWED_NAMES: 'edge-*' }, 'reconcile', 'mtls-gate', '--kind', 'connection', '--json');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal((JSON.parse(r.out) as { action: string }).action, 'skipped-not-allowed');
  const after = emulator.controls.calls();
  const read = Object.keys(after).filter((op) => /ConnectionFunction/.test(op) && after[op] !== before[op]);
  assert.deepEqual(read, [], 'no connection-function call at all');
  assert.deepEqual(published(), []);
});

test('test: a deny is a decision and passes the smoke test; an edit that throws would be blocked (exit 3)', async () => {
  await editConnectionFunction(console(), mtls.id, PARTNERS_ONLY);
  const deny = await cli('test', 'mtls-gate', '--json');
  assert.equal(deny.code, 0, deny.out);
  const verdict = JSON.parse(deny.out) as Record<string, unknown> & { cases: { eventType: string }[] };
  assert.deepEqual(validate(verdict, SCHEMA), []);
  assert.deepEqual(
    verdict.cases.map((c) => c.eventType),
    ['connection-request'],
  );

  await editConnectionFunction(console(), mtls.id, TYPO);
  const typo = await cli('test', 'mtls-gate');
  assert.equal(typo.code, 3, typo.out);
  assert.match(typo.out, /^smoke connection-request\s+connection-request\s+FAIL/m);
  assert.match(typo.out, /mtls-gate \(DEVELOPMENT E\w+\) would be blocked: /);

  const viewerEvent = await cli('test', 'mtls-gate', '--event-type', 'viewer-request');
  assert.equal(viewerEvent.code, 2);
  assert.match(viewerEvent.err[0] ?? '', /--event-type "viewer-request": mtls-gate is a connection function, it runs on connection-request only/);
  assert.equal((await cli('test', 'viewer-only', '--event-type', 'connection-request')).code, 2);
  assert.deepEqual(published(), []);
});

test('reconcile and sweep: the deny goes live, the typo is blocked and LIVE keeps the old code', async () => {
  const typo = emulator.state.seedConnectionFunction({ name: 'mtls-typo', code: ALLOW, tags: OPTED_IN, publish: true });
  await editConnectionFunction(console(), mtls.id, PARTNERS_ONLY);
  await editConnectionFunction(console(), typo.id, TYPO);
  const r = await cli('sweep');
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.match(r.out, /^mtls-gate\s+published\s/m);
  assert.match(r.out, /^mtls-typo\s+blocked\s/m);
  assert.match(r.out, /^ {2}mtls-typo E\w+: .*\(test case smoke connection-request\)$/m);
  assert.equal(connection('mtls-gate')?.live?.code, PARTNERS_ONLY);
  assert.equal(connection('mtls-typo')?.live?.code, ALLOW);
  assert.equal((await cli('reconcile', 'mtls-typo')).code, 3);
  assert.equal((await cli('wait', 'mtls-typo')).code, 3);
  assert.equal((await cli('wait', 'mtls-gate')).code, 0);
});

test('rollback of a connection function: UpdateConnectionFunction with the operator credentials, then the gate and the publish', async () => {
  const v1 = connection('mtls-gate')?.live?.code;
  await editConnectionFunction(console(), mtls.id, PARTNERS_ONLY);
  // The reconciler publishes v2 and saves v1 first.
  assert.equal((await cli('reconcile', 'mtls-gate', '--history-bucket', BUCKET)).code, 0);
  const history = await cli('history', 'mtls-gate', '--history-bucket', BUCKET, '--json');
  assert.equal(history.code, 0, history.err.join('\n'));
  const document = JSON.parse(history.out) as { versions: { functionKind?: string; functionId?: string; key: string }[] };
  assert.deepEqual(validate(document, SCHEMA), []);
  assert.equal(document.versions.length, 1);
  assert.deepEqual([document.versions[0]?.functionKind, document.versions[0]?.functionId], ['connection', mtls.id]);
  assert.ok(document.versions[0]?.key.startsWith(`123456789012/connection-function:${mtls.id}/`), document.versions[0]?.key);

  const saved = document.versions[0]?.key ?? '';
  const diff = await cli('diff', 'mtls-gate', saved.slice(saved.lastIndexOf('/') + 1), 'LIVE', '--history-bucket', BUCKET);
  assert.equal(diff.code, 0, diff.err.join('\n'));
  assert.match(diff.out, /^-.*connection\.allow\(\); }$/m);
  assert.match(diff.out, /^\+.*Partner CA/m);

  const dry = await cli('rollback', 'mtls-gate', '--history-bucket', BUCKET);
  assert.equal(dry.code, 0);
  assert.match(dry.out, /^Would roll back mtls-gate: /);
  assert.equal(connection('mtls-gate')?.development.code, PARTNERS_ONLY, 'without --yes nothing is written');

  const before = emulator.cloudTrailEvents().length;
  const r = await cli('rollback', 'mtls-gate', '--yes', '--history-bucket', BUCKET);
  assert.equal(r.code, 0, r.out + r.err.join('\n'));
  assert.match(r.out, /\(UpdateConnectionFunction, IfMatch E\w+\)/);
  assert.match(r.out, /^Tested and published mtls-gate /m);
  assert.equal(connection('mtls-gate')?.live?.code, v1);
  const writes = emulator
    .cloudTrailEvents()
    .slice(before)
    .filter((e) => e.detail.eventName.startsWith('UpdateConnectionFunction'));
  assert.equal(writes.length, 1);
  assert.match(JSON.stringify(writes[0]?.detail.userIdentity), /cf-autopublish-cli/, 'written with the CLI user credentials');
});
