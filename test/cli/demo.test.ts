/**
 * `cf-autopublish demo` as a process: it finds serverless.yml wherever it is run from, and a failure
 * after the emulator started still closes everything, so the process ends instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
/** A hang is what we test for: a process still running after this long is a failure. */
const TIMEOUT_MS = 20_000;

interface Run {
  status: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      { cwd, encoding: 'utf8', timeout: TIMEOUT_MS, env: { ...process.env, CLOUDFRONT_ENDPOINT: '' } },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; killed?: boolean; signal?: string }) | null;
        done({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, timedOut: Boolean(e?.killed), stdout, stderr });
      },
    );
  });
}

test('the demo runs from another working directory and exits 0', async () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'cfap-cwd-'));
  const r = await run([join(ROOT, 'cli', 'bin.cjs'), 'demo'], elsewhere);
  assert.equal(r.timedOut, false, `the demo hung: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Opted-in functions not live: 0\./);
  // Both kinds in one table: the connection function edited in the console went live, the one with a typo did not.
  const after = r.stdout.slice(r.stdout.indexOf('After the event path'));
  const row = (name: string) => after.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('mtls-partners'), /\sconnection\s.*\syes\s+published\s+event \(UpdateConnectionFunction\)$/);
  assert.match(row('mtls-revocation'), /\sconnection\s.*\sNO\s+blocked\s+event \(UpdateConnectionFunction\)$/);
});

test('demo --accounts 3 (npm start -- --accounts 3): publishes in each of three member accounts, none outside the list', async () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'cfap-cwd-'));
  const r = await run([join(ROOT, 'cli', 'bin.cjs'), 'demo', '--accounts', '3'], elsewhere);
  assert.equal(r.timedOut, false, `the demo hung: ${r.stderr}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const perAccount = /Publishes by the reconciler per account: (.*?)\. AssumeRole calls: (\d+)/.exec(r.stdout);
  assert.ok(perAccount, r.stdout);
  const counts = perAccount[1]!.split('; ').map((entry) => Number(entry.split(': ')[1]));
  assert.equal(counts.length, 3);
  assert.ok(
    counts.every((n) => n > 0),
    perAccount[1],
  );
  // serverless.yml runs the event handler and the worker as roles of their own: each enters each account once.
  assert.equal(perAccount[2], '6', 'one AssumeRole per member account for each of the two roles');
  assert.match(r.stdout, /900000000001: 0 publishes, 0 AssumeRole/);
  assert.match(r.stdout, /Opted-in functions not live in member accounts: 0\./);
});

test('demo --accounts refuses a count it cannot use, naming the option', async () => {
  const r = await run([join(ROOT, 'cli', 'bin.cjs'), 'demo', '--accounts', '0'], ROOT);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--accounts: "0" is not a whole number from 1 to 50/);
});

for (const [scenario, why] of [
  ['missing-serverless-yml', /ENOENT.*serverless\.yml/],
  ['reconciler-fails', /DRY_RUN/],
] as const) {
  test(`a failure after the emulator started closes everything, and the process ends (${scenario})`, async () => {
    const r = await run(['--import', 'tsx', join(ROOT, 'test', 'cli', 'fixtures', 'demo-failure.ts'), scenario], ROOT);
    assert.equal(r.timedOut, false, `the process hung after the failure: ${r.stdout}${r.stderr}`);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^rejected: /m);
    assert.match(r.stdout, why);
  });
}
