/** cf-autopublish against the emulator: output, exit codes and the one-line errors. */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/index';
import { main } from '../../cli/main';
import { REDRAW } from '../../cli/progress';
import { CONTROLS } from '../support/terminal';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012' });
});
after(() => emulator.close());
beforeEach(() => {
  emulator.state.reset();
  emulator.controls.clearPublishLog();
  emulator.controls.setAuthorizer(undefined);
  const seed = (name: string, tags: Record<string, string>, publish: boolean) =>
    emulator.state.seed({ name, code: 'function handler(e){return e.request}', tags, publish });
  seed('in-sync', { 'auto-publish': 'true' }, true);
  seed('pending', { 'auto-publish': 'true' }, false);
  seed('untagged', {}, false);
  seed('team-tagged', { 'team-publish': 'yes' }, false);
});

async function cli(...args: string[]) {
  return cliOn({ interactive: false }, ...args);
}

/** As on a terminal (`interactive`) or not; `errLines` is each io.err call, in order. */
async function cliOn(terminal: { interactive: boolean; columns?: number }, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFRONT_MAX_ATTEMPTS: '2' };
  delete env.CLOUDFRONT_ENDPOINT;
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t), ...terminal, env });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err };
}

test('status: a table with the kind, opted in, DEVELOPMENT status and ETag, LIVE ETag, in sync', async () => {
  const r = await cli('status', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+KIND\s+OPTED IN\s+DEV STATUS\s+DEV ETAG\s+LIVE ETAG\s+IN SYNC\s+KEYVALUESTORE$/);
  const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('in-sync'), /^in-sync\s+function\s+yes\s+UNASSOCIATED\s+E\w+\s+E\w+\s+yes\s+-$/);
  assert.match(row('pending'), /^pending\s+function\s+yes\s+UNPUBLISHED\s+E\w+\s+\(never published\)\s+NO/);
  assert.match(row('untagged'), /^untagged\s+function\s+no\s+/);
  assert.match(r.out, /4 function\(s\); 1 opted in and not live\./);
});

test('status --json is machine-readable and honours --tag-key/--tag-value', async () => {
  const r = await cli('status', '--json', '--endpoint', emulator.endpoint, '--tag-key', 'team-publish', '--tag-value', 'YES');
  const states = (JSON.parse(r.out) as { functions: { functionName: string; optedIn: boolean; liveEtag: string | null; developmentEtag: string }[] }).functions;
  assert.deepEqual(
    states.filter((s) => s.optedIn).map((s) => s.functionName),
    ['team-tagged'],
  );
  const inSync = states.find((s) => s.functionName === 'in-sync');
  assert.equal(inSync?.liveEtag, inSync?.developmentEtag);
});

test('sweep --dry-run decides without publishing; sweep publishes only the opted-in', async () => {
  const dry = await cli('sweep', '--dry-run', '--endpoint', emulator.endpoint);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /pending\s+would-publish/);
  assert.match(dry.out, /^dry run: listed 4, 3 candidate\(s\)/m);
  assert.equal(emulator.controls.publishLog().length, 0);

  const real = await cli('sweep', '--endpoint', emulator.endpoint);
  assert.equal(real.code, 0, real.err);
  assert.match(real.out, /pending\s+published\s+E\w+\s+sweep/);
  assert.match(real.out, /untagged\s+skipped-not-opted-in/);
  assert.deepEqual(
    emulator.controls.publishLog().map((p) => p.name),
    ['pending'],
  );
});

test('sweep on a terminal: one progress line on stderr, redrawn in place (done/total, publishes, blocked, failures)', async () => {
  emulator.state.seed({ name: 'pending-2', code: 'function handler(e){return e.request}', tags: { 'auto-publish': 'true' }, publish: false });
  emulator.state.seed({
    name: 'throws',
    code: 'function handler(e){return e.request.headers["x-none"].value}',
    tags: { 'auto-publish': 'true' },
    publish: false,
  });
  emulator.controls.setAuthorizer((r) => !(r.operation === 'ListTagsForResource' && String(r.target).endsWith('/pending-2')));
  const r = await cliOn({ interactive: true }, 'sweep', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 1);
  // Every function but in-sync is a candidate: one progress line per outcome, then the failure line.
  const progress = r.errLines.slice(0, -1);
  assert.equal(progress.length, 5, r.err);
  assert.ok(!progress[0]!.startsWith(REDRAW), 'the first line is drawn, not redrawn');
  for (const line of progress.slice(1)) assert.ok(line.startsWith(REDRAW), `redrawn over the line before: ${JSON.stringify(line)}`);
  const shown = progress.map((l) => l.replace(REDRAW, ''));
  shown.forEach((line, i) => {
    assert.match(line, new RegExp(`^sweep: ${i + 1}/5 candidates, \\d published, \\d blocked, \\d failed$`));
  });
  assert.equal(shown.at(-1), 'sweep: 5/5 candidates, 1 published, 1 blocked, 1 failed');
  // The failure line comes after the last progress line, on a line of its own.
  assert.equal(r.errLines.at(-1), 'cf-autopublish: 1 function(s) failed: pending-2');
  // stdout is the same as without a terminal.
  assert.match(r.out, /pending\s+published/);

  const narrow = await cliOn({ interactive: true, columns: 30 }, 'sweep', '--dry-run', '--endpoint', emulator.endpoint);
  for (const line of narrow.errLines.slice(0, -1)) assert.ok(line.replace(REDRAW, '').length < 30, `kept narrower than the terminal: ${line}`);
});

test('sweep shows no progress with --json, or when not on a terminal', async () => {
  const json = await cliOn({ interactive: true }, 'sweep', '--dry-run', '--json', '--endpoint', emulator.endpoint);
  assert.equal(json.code, 0, json.err);
  assert.deepEqual(json.errLines, []);
  assert.equal(JSON.parse(json.out).candidates, 3);

  const piped = await cliOn({ interactive: false }, 'sweep', '--endpoint', emulator.endpoint);
  assert.equal(piped.code, 0, piped.err);
  assert.deepEqual(piped.errLines, []);
});

test('reconcile <name> publishes one function and prints its outcome', async () => {
  const r = await cli('reconcile', 'pending', '--endpoint', emulator.endpoint, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).action, 'published');
  const again = await cli('reconcile', 'pending', '--endpoint', emulator.endpoint);
  assert.match(again.out, /pending\s+skipped-in-sync/);
});

test('errors are one clear line with a non-zero exit', async () => {
  const unknown = await cli('reconcile', 'nope', '--endpoint', emulator.endpoint);
  assert.deepEqual([unknown.code, unknown.err], [1, 'cf-autopublish: no function named nope']);

  const badName = await cli('reconcile', '../etc', '--endpoint', emulator.endpoint);
  assert.equal(badName.code, 2);
  assert.match(badName.err, /"..\/etc" is not a valid CloudFront function name/);

  const badOption = await cli('status', '--frobnicate');
  assert.equal(badOption.code, 2);
  assert.equal(badOption.err, 'cf-autopublish: unknown option --frobnicate; did you mean --profile? (see cf-autopublish status --help)');

  const badEndpoint = await cli('status', '--endpoint', 'not-a-url');
  assert.equal(badEndpoint.code, 2);
  assert.match(badEndpoint.err, /^cf-autopublish: --endpoint: "not-a-url" is not a URL/);

  const closed = await startEmulator();
  const endpoint = closed.endpoint;
  await closed.close();
  const unreachable = await cli('status', '--endpoint', endpoint);
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.err, `cf-autopublish: cannot reach CloudFront at ${endpoint} (ECONNREFUSED)`);

  emulator.controls.setAuthorizer((r) => r.operation !== 'ListFunctions');
  const denied = await cli('status', '--endpoint', emulator.endpoint);
  assert.equal(denied.code, 1);
  assert.match(denied.err, /^cf-autopublish: access denied: /);
  assert.equal(denied.err.split('\n').length, 1);

  const noCommand = await cli();
  assert.equal(noCommand.code, 2);
});

test('a sweep with a failing function exits 1 and names it', async () => {
  emulator.controls.setAuthorizer((r) => !(r.operation === 'ListTagsForResource' && String(r.target).endsWith('/pending')));
  const r = await cli('sweep', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 1);
  assert.match(r.err, /1 function\(s\) failed: pending$/);
  assert.match(r.out, /pending\s+failed/);
});

test('plain-text sweep output says why each function failed, not only --json', async () => {
  emulator.controls.setAuthorizer((r) => !(r.operation === 'ListTagsForResource' && String(r.target).endsWith('/pending')));
  const r = await cli('sweep', '--endpoint', emulator.endpoint);
  assert.equal(r.code, 1);
  const reasons = r.out.split('\n').filter((l) => /AccessDenied/.test(l));
  assert.equal(reasons.length, 1, r.out);
  assert.match(reasons[0] ?? '', /^\s*pending: .*AccessDenied \(HTTP 403\): .*not authorized to perform: cloudfront:ListTagsForResource/);
  assert.equal(r.err.split('\n').length, 1, r.err);
});

/** A local endpoint that is not CloudFront: every request gets `status`, `body` and `contentType`. */
async function withEndpoint(status: number, body: string, contentType: string, run: (endpoint: string) => Promise<void>): Promise<void> {
  const server = http.createServer((_req, res) => {
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const NGINX_404 =
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

test('an endpoint answering 404 or 403 with an empty body: the error names the HTTP status', async () => {
  for (const [status, name] of [
    [404, 'NotFound'],
    [403, ''],
  ] as const) {
    await withEndpoint(status, '', 'text/plain', async (endpoint) => {
      for (const command of [['status'], ['sweep'], ['reconcile', 'f1']]) {
        const r = await cli(...command, '--endpoint', endpoint);
        const what = `${command[0]} on HTTP ${status}: ${r.err}`;
        assert.equal(r.code, 1, what);
        assert.equal(r.err.split('\n').length, 1, what);
        assert.match(r.err, new RegExp(`^cf-autopublish: .*${name}\\s*\\(HTTP ${status}\\)`), what);
      }
    });
  }
});

test('an endpoint answering an HTML page: one line saying it is not CloudFront XML, with the status', async () => {
  await withEndpoint(404, NGINX_404, 'text/html', async (endpoint) => {
    for (const command of [['status'], ['sweep'], ['reconcile', 'f1']]) {
      const r = await cli(...command, '--endpoint', endpoint);
      const what = `${command[0]}: ${r.err}`;
      assert.equal(r.code, 1, what);
      assert.equal(r.err.split('\n').length, 1, what);
      assert.match(r.err, /answered HTTP 404 with something that is not CloudFront's XML/, what);
      assert.doesNotMatch(r.err, /Deserialization|\$response/, what);
    }
  });
});

// What a hostile endpoint would send: retitle the window (OSC), clear the screen and move up over the
// lines already printed (CSI), overprint the line (CR), ring the bell, and a one-character C1 CSI.
const HOSTILE = 'denied\u001b]0;owned\u0007 by\u001b[2J\u001b[1A\rpolicy\u009b31m\u0007 (see docs)';

test('an endpoint whose messages hold terminal controls: no control reaches the terminal, the words do', async () => {
  const body = `<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${HOSTILE}</Message></Error></ErrorResponse>`;
  await withEndpoint(403, body, 'text/xml', async (endpoint) => {
    for (const command of [['status'], ['sweep'], ['reconcile', 'f1']]) {
      const r = await cli(...command, '--endpoint', endpoint);
      const what = `${command[0]}: ${JSON.stringify(r.err)}`;
      assert.equal(r.code, 1, what);
      assert.doesNotMatch(r.out + r.err, CONTROLS, what);
      assert.match(r.err, /access denied: denied\]0;owned by\[2J\[1A ?policy31m \(see docs\)$/, what);
    }
  });
});

test('emulator --port must be a port number: exit 2 naming --port', async () => {
  for (const port of ['99999', '65536', '-1', '1.5', 'http', '']) {
    const r = await cli('emulator', `--port=${port}`);
    assert.equal(r.code, 2, `--port=${port}: ${r.err}`);
    assert.match(r.err, /^cf-autopublish: --port /, `--port=${port}`);
  }
});

/** Runs the bin in a child process without blocking this one (the emulator answers from here). */
async function bin(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['cli/bin.cjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('the installed bin: no credentials against AWS is one clear line (process-level)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cfap-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    // Never reach for instance metadata from a test.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const r = await bin(['status'], env);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr.trim(), /^cf-autopublish: no AWS credentials found: set AWS_PROFILE/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('the installed bin works against the emulator with no credentials at all', async () => {
  const r = await bin(['status', '--endpoint', emulator.endpoint], {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), 'cfap-home-')),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+KIND\s+OPTED IN/);
});

test('--profile naming a profile the AWS files do not have says so, in one line (process-level)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'cfap-home-'));
  writeFileSync(join(home, 'config'), '[default]\nregion = us-east-1\n\n[profile no-keys]\nregion = us-east-1\n');
  writeFileSync(join(home, 'credentials'), '[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = not-used\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const missing = await bin(['status', '--profile', 'nope'], env);
  assert.equal(missing.status, 1, missing.stderr);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr.trim(), /^cf-autopublish: profile "nope" was not found in the AWS config\/credentials files/);

  // A profile that exists but yields no credentials is not "not found".
  const noKeys = await bin(['status', '--profile', 'no-keys'], env);
  assert.equal(noKeys.status, 1, noKeys.stderr);
  assert.equal(noKeys.stderr.trim().split('\n').length, 1, noKeys.stderr);
  assert.doesNotMatch(noKeys.stderr, /was not found/);
  assert.match(noKeys.stderr, /profile "no-keys"/);
});
