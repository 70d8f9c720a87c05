/**
 * The CLI as `npm pack` ships it: what the tarball holds, and that the installed bin runs with only
 * the declared dependencies beside it (no tsx, no TypeScript, no devDependency) — --help, an emulator
 * started from the install itself (its TestFunction worker included), status, sweep and test against
 * it, and the demo (serverless.yml and the bundled YAML reader).
 *
 * Offline: the tarball is unpacked into an empty folder's node_modules and each declared dependency is
 * linked from this checkout, instead of `npm install` from the registry (.ci/run does that). Node
 * resolves a linked package's own imports from where it really lives, but the bundle's imports only
 * from the empty folder, so an undeclared package the bundle still required would fail here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CloudFrontClient, CreateFunctionCommand } from '@aws-sdk/client-cloudfront';

const ROOT = resolve(__dirname, '..', '..');
const TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { ...options, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number | string }) | null;
      done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr });
    });
  });
}

let scratch: string;
let installed: string;
let bin: string;
let packed: { files: { path: string }[]; size: number; filename: string };
let emulator: ChildProcess | undefined;
let endpoint: string;

/** No credentials, no profile, no instance metadata: the loopback endpoint needs none. */
const cleanEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: join(scratch, 'home'), AWS_EC2_METADATA_DISABLED: 'true' });

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cfap-pack-'));
  mkdirSync(join(scratch, 'home'));
  // `npm pack` builds first (prepack), even where the npm config says ignore-scripts; --json lists
  // what went in.
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts=false', '--pack-destination', scratch], { cwd: ROOT });
  assert.equal(pack.code, 0, pack.stderr);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;

  const consumer = join(scratch, 'consumer');
  installed = join(consumer, 'node_modules', 'cloudfront-autopublish');
  mkdirSync(installed, { recursive: true });
  const untar = await run('tar', ['-xzf', join(scratch, packed.filename), '-C', installed, '--strip-components=1'], { cwd: scratch });
  assert.equal(untar.code, 0, untar.stderr);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies)) {
    const link = join(consumer, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dependency), link, 'dir');
  }
  bin = join(installed, manifest.bin['cf-autopublish']!);

  // The emulator from the installed package itself, on a free port.
  emulator = spawn(process.execPath, [bin, 'emulator', '--port', '0'], { cwd: consumer, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  endpoint = await new Promise<string>((ready, fail) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`the installed emulator did not start: ${output}`)), TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/[\d.:]+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        ready(url);
      }
    };
    emulator!.stdout!.on('data', read);
    emulator!.stderr!.on('data', read);
    emulator!.once('exit', (code) => fail(new Error(`the installed emulator exited (${code}): ${output}`)));
  });
});

after(async () => {
  if (emulator && emulator.exitCode === null) {
    const exited = new Promise((done) => emulator!.once('exit', done));
    emulator.kill('SIGTERM');
    await exited;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const cli = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: join(scratch, 'consumer'), env: cleanEnv() });

test('the tarball holds the bin, the compiled bundle, serverless.yml, the member template, the README and the licence: no sources', () => {
  assert.deepEqual(packed.files.map((f) => f.path).sort(), [
    'LICENSE',
    'README.md',
    'cli/bin.cjs',
    'dist/cli.js',
    'member/template.yml',
    'package.json',
    'serverless.yml',
  ]);
  // The list above also keeps cli/main.ts out: beside the bin, it would make the bin load the sources.
  assert.ok(packed.size < 500_000, `tarball is ${packed.size} bytes`);
});

test('the installed bin prints its help, with no warning on stderr, as docs/cli.md quotes it', async () => {
  const r = await cli('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: cf-autopublish <command> \[options\]/);
  assert.equal(r.stderr, '');
  const reference = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const quoted = /`cf-autopublish --help`:\n\n```\n([\s\S]*?)\n```/.exec(reference)?.[1];
  assert.equal(quoted, r.stdout.trimEnd(), 'docs/cli.md quotes --help: paste the new output there');
});

test('the installed package runs the organisation demo: it finds member/template.yml beside its bundle', async () => {
  const r = await cli('demo', '--accounts', '2');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Opted-in functions not live in member accounts: 0\./);
});

test('status, sweep and test against the emulator the installed package started', async () => {
  const client = new CloudFrontClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'package-test', secretAccessKey: 'local' } });
  const code = (body: string) => new TextEncoder().encode(`function handler(event) {\n  ${body}\n  return event.request;\n}`);
  const tags = { Items: [{ Key: 'auto-publish', Value: 'true' }] };
  await client.send(
    new CreateFunctionCommand({ Name: 'pkg-good', FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: code('// fine'), Tags: tags }),
  );
  await client.send(
    new CreateFunctionCommand({
      Name: 'pkg-throws',
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: code('event.request.headers["x-none"].value;'),
      Tags: tags,
    }),
  );
  client.destroy();

  const status = await cli('status', '--endpoint', endpoint);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^NAME\s+KIND\s+OPTED IN/);
  assert.match(status.stdout, /^pkg-good\s+function\s+yes\s+UNPUBLISHED/m);
  assert.match(status.stdout, /2 function\(s\); 2 opted in and not live\./);

  // The publish gate runs TestFunction in the emulator's worker thread: the bundled layout must find it.
  const gate = await cli('test', 'pkg-throws', '--endpoint', endpoint, '--event-type', 'viewer-request');
  assert.equal(gate.code, 3, gate.stderr);
  assert.match(gate.stdout, /FAIL\s+\d+\s+the function threw: /);

  const sweep = await cli('sweep', '--endpoint', endpoint, '--json');
  assert.equal(sweep.code, 0, sweep.stderr);
  const summary = JSON.parse(sweep.stdout) as { outcomes: { functionName: string; action: string }[] };
  const actions = Object.fromEntries(summary.outcomes.map((o) => [o.functionName, o.action]));
  assert.deepEqual(actions, { 'pkg-good': 'published', 'pkg-throws': 'blocked' });
});

test('the demo runs from the installed package (serverless.yml found, YAML reader bundled)', async () => {
  const r = await cli('demo');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Opted-in functions not live: 0\./);
});
