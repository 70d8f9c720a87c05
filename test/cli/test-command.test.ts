/** `cf-autopublish test`: the publish gate from a terminal, against the emulator. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { type Emulator, startEmulator } from '../../emulator/index';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012', testFunctionBudgetMs: 200 });
  emulator.state.seed({ name: 'good', code: 'function handler(event) { return event.request; }' });
  emulator.state.seed({ name: 'broken', code: 'function handler(event) { return event.request.headers["x-missing"].value; }' });
  emulator.state.seed({
    name: 'redirect',
    code: 'function handler(event) { return { statusCode: 302, statusDescription: "Found", headers: { location: { value: "/new" } } }; }',
    publish: true,
  });
});
after(() => emulator.close());

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, env: { CLOUDFRONT_MAX_ATTEMPTS: '1' } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('a function that passes: one row per case, exit 0', async () => {
  const r = await cli('test', 'good', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^CASE\s+EVENT TYPE\s+RESULT\s+COMPUTE\s+DETAIL/m);
  assert.match(r.out, /^smoke viewer-request\s+viewer-request\s+pass\s+\d+/m);
  assert.match(r.out, /good \(DEVELOPMENT E\w+\) passes the gate\./);
});

test('a function that throws would be blocked: exit 1, the error in the row', async () => {
  const r = await cli('test', 'broken', '--endpoint', emulator.endpoint, '--event-type', 'viewer-request');
  assert.equal(r.code, 1);
  assert.match(r.out, /^smoke viewer-request\s+viewer-request\s+FAIL\s+\d+\s+the function threw: /m);
  assert.match(r.out, /would be blocked: smoke viewer-request: the function threw/);
});

const oldPathRequest = {
  version: '1.0',
  context: { eventType: 'viewer-request' },
  viewer: { ip: '1.2.3.4' },
  request: { method: 'GET', uri: '/old', querystring: {}, headers: {}, cookies: {} },
};

test('--cases FILE with expect, --stage LIVE, --json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfap-cases-'));
  const file = join(dir, 'cases.json');
  writeFileSync(
    file,
    JSON.stringify([
      {
        name: 'redirects',
        eventType: 'viewer-request',
        event: oldPathRequest,
        expect: { response: { statusCode: 302 } },
      },
      {
        name: 'says where',
        eventType: 'viewer-request',
        event: oldPathRequest,
        expect: { response: { headers: { location: { value: '/elsewhere' } } } },
      },
    ]),
  );
  const r = await cli('test', 'redirect', '--endpoint', emulator.endpoint, '--cases', file, '--stage', 'LIVE', '--json');
  assert.equal(r.code, 1);
  const verdict = JSON.parse(r.out) as { stage: string; passed: boolean; testCase: string; reason: string; cases: { testCase: string; passed: boolean }[] };
  // The user owns the file: here, unlike a log line or an announcement, the values are quoted.
  assert.equal(verdict.reason, 'says where: expect failed at .response.headers.location.value (expected "/elsewhere", got "/new")');
  assert.equal(verdict.stage, 'LIVE');
  assert.equal(verdict.passed, false);
  assert.equal(verdict.testCase, 'says where');
  assert.deepEqual(
    verdict.cases.map((c) => [c.testCase, c.passed]),
    [
      ['redirects', true],
      ['says where', false],
    ],
  );
});

test('--cases s3://… reads the object from S3 (the emulator serves it path-style)', async () => {
  emulator.state.putObject(
    'edge-tests',
    'good.json',
    JSON.stringify([{ name: 'echoes', eventType: 'viewer-request', event: { request: { uri: '/' } }, expect: { request: { uri: '/' } } }]),
  );
  const r = await cli('test', 'good', '--endpoint', emulator.endpoint, '--cases', 's3://edge-tests/good.json');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^echoes\s+viewer-request\s+pass/m);
});

test('bad options are usage errors (exit 2); an unknown function is exit 1', async () => {
  assert.equal((await cli('test', 'good', '--endpoint', emulator.endpoint, '--stage', 'STAGING')).code, 2);
  assert.equal((await cli('test', 'good', '--endpoint', emulator.endpoint, '--event-type', 'origin-request')).code, 2);
  assert.equal((await cli('test', 'bad name', '--endpoint', emulator.endpoint)).code, 2);
  const missing = await cli('test', 'nope', '--endpoint', emulator.endpoint);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no function named nope/);
});
