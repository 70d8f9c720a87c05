/** `cf-autopublish test`: the publish gate from a terminal, against the emulator. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { type Emulator, startEmulator } from '../../emulator/index';
import { CONTROLS } from '../support/terminal';

let emulator: Emulator;
/** Recolour, clear the screen, go up a line and overprint it, ring the bell, a C1 CSI. */
const THROWN = '\u001b[31mred\u001b[0m \u001b[2J\u001b[1A\rover \u0007bell \u009b2Jc1';
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012', testFunctionBudgetMs: 200 });
  emulator.state.seed({ name: 'good', code: 'function handler(event) { return event.request; }' });
  emulator.state.seed({ name: 'broken', code: 'function handler(event) { return event.request.headers["x-missing"].value; }' });
  // What a function prints and throws is the function author's to choose, controls included.
  emulator.state.seed({
    name: 'escapes',
    code: `function handler(event) { console.log('log\\u001b]52;c;cHduZWQ=\\u0007'); throw new Error(${JSON.stringify(THROWN)}); }`,
  });
  emulator.state.seed({
    name: 'redirect',
    code: 'function handler(event) { return { statusCode: 302, statusDescription: "Found", headers: { location: { value: "/new" } } }; }',
    publish: true,
  });
});
after(() => emulator.close());

async function cli(...args: string[]) {
  return cliWith({}, ...args);
}

/** With `env` as the environment (no AWS credentials: against a loopback endpoint, none are needed). */
async function cliWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, env: { CLOUDFRONT_MAX_ATTEMPTS: '1', ...env } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** An endpoint that was listening and is not any more: connections are refused. */
async function closedEndpoint(): Promise<string> {
  const closed = await startEmulator();
  const endpoint = closed.endpoint;
  await closed.close();
  return endpoint;
}

test('a function that passes: one row per case, exit 0', async () => {
  const r = await cli('test', 'good', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^CASE\s+EVENT TYPE\s+RESULT\s+COMPUTE\s+DETAIL/m);
  assert.match(r.out, /^smoke viewer-request\s+viewer-request\s+pass\s+\d+/m);
  assert.match(r.out, /good \(DEVELOPMENT E\w+\) passes the gate\./);
});

test('a function that throws would be blocked: exit 3, the error in the row', async () => {
  const r = await cli('test', 'broken', '--endpoint', emulator.endpoint, '--event-type', 'viewer-request');
  assert.equal(r.code, 3);
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
  assert.equal(r.code, 3);
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

test('what the function threw or printed reaches the table and the verdict without its terminal controls; --json keeps it exactly', async () => {
  const plain = await cli('test', 'escapes', '--endpoint', emulator.endpoint, '--event-type', 'viewer-request');
  assert.equal(plain.code, 3);
  assert.doesNotMatch(plain.out + plain.err, CONTROLS, JSON.stringify(plain.out));
  assert.match(plain.out, /^smoke viewer-request\s+viewer-request\s+FAIL\s+\d+\s+the function threw: \[31mred\[0m \[2J\[1A ?over bell (2Jc1)?/m);
  assert.match(plain.out, /would be blocked: smoke viewer-request: the function threw: \[31mred/);

  const json = await cli('test', 'escapes', '--endpoint', emulator.endpoint, '--event-type', 'viewer-request', '--json');
  assert.doesNotMatch(json.out.replace(/\n/g, ''), CONTROLS);
  const verdict = JSON.parse(json.out) as { reason: string; cases: { logs: string[] }[] };
  assert.ok(verdict.reason.includes('\u001b[31mred\u001b[0m'), 'the machine-readable reason is the full text');
  assert.deepEqual(verdict.cases[0]?.logs, ['log\u001b]52;c;cHduZWQ=\u0007']);
});

test('--cases s3://… follows CLOUDFRONT_ENDPOINT as every other call does, and S3_ENDPOINT over it', async () => {
  emulator.state.putObject(
    'edge-tests',
    'env.json',
    JSON.stringify([{ name: 'from-env', eventType: 'viewer-request', event: { request: { uri: '/' } }, expect: { request: { uri: '/' } } }]),
  );
  // No --endpoint: the environment points CloudFront, and so S3, at the emulator.
  const fromEnv = await cliWith({ CLOUDFRONT_ENDPOINT: emulator.endpoint }, 'test', 'good', '--cases', 's3://edge-tests/env.json');
  assert.equal(fromEnv.code, 0, fromEnv.out + fromEnv.err);
  assert.match(fromEnv.out, /^from-env\s+viewer-request\s+pass/m);

  // S3_ENDPOINT names S3's own endpoint: read from there (here: nothing listens), and say it was S3.
  const s3Endpoint = await closedEndpoint();
  const elsewhere = await cliWith({ S3_ENDPOINT: s3Endpoint }, 'test', 'good', '--endpoint', emulator.endpoint, '--cases', 's3://edge-tests/env.json');
  assert.equal(elsewhere.code, 1, elsewhere.out);
  assert.equal(elsewhere.err, `cf-autopublish: --cases s3://edge-tests/env.json: S3 GetObject failed: cannot reach S3 at ${s3Endpoint} (ECONNREFUSED)`);
});

test('--cases s3://… errors name S3, not CloudFront: a missing object, an endpoint that is down', async () => {
  const missing = await cli('test', 'good', '--endpoint', emulator.endpoint, '--cases', 's3://edge-tests/missing.json');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'cf-autopublish: --cases: S3 GetObject: s3://edge-tests/missing.json cannot be read (NoSuchKey)');

  const down = await closedEndpoint();
  const unreachable = await cli('test', 'good', '--endpoint', down, '--cases', 's3://edge-tests/good.json');
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.err, `cf-autopublish: --cases s3://edge-tests/good.json: S3 GetObject failed: cannot reach S3 at ${down} (ECONNREFUSED)`);
  // Without --cases, the same endpoint being down is CloudFront's failure, and says so.
  const cloudFront = await cli('test', 'good', '--endpoint', down);
  assert.equal(cloudFront.err, `cf-autopublish: cannot reach CloudFront at ${down} (ECONNREFUSED)`);
});
