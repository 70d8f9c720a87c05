/** The CLI's own options: --region signs for that region, --profile's keys are used, `emulator` serves and prints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFrontClient, CreateFunctionCommand, ListFunctionsCommand } from '@aws-sdk/client-cloudfront';
import { main } from '../../cli/main';
import { runEmulator } from '../../cli/emulator-command';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), interactive: false, env } };
}

/** A loopback endpoint that records each request's Authorization header and answers an empty listing. */
async function recordingEndpoint() {
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    authorizations.push(String(req.headers.authorization ?? ''));
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end('<?xml version="1.0"?><FunctionList><MaxItems>100</MaxItems><Quantity>0</Quantity><Items></Items></FunctionList>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, authorizations, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('--region sets the signing region (default us-east-1: CloudFront is global)', async () => {
  const target = await recordingEndpoint();
  try {
    const a = io({ CLOUDFRONT_MAX_ATTEMPTS: '1' });
    assert.equal(await main(['status', '--endpoint', target.endpoint], a.io), 0, a.err.join('\n'));
    const b = io({ CLOUDFRONT_MAX_ATTEMPTS: '1' });
    assert.equal(await main(['status', '--endpoint', target.endpoint, '--region', 'eu-west-1'], b.io), 0, b.err.join('\n'));
    // status also reads the pause parameter (SSM), in the same region; the CloudFront calls are what this checks.
    const cloudfront = target.authorizations.filter((a) => a.includes('/cloudfront/aws4_request'));
    assert.match(cloudfront[0] ?? '', /Credential=[^/]+\/\d{8}\/us-east-1\/cloudfront\/aws4_request/);
    assert.match(cloudfront.at(-1) ?? '', /Credential=[^/]+\/\d{8}\/eu-west-1\/cloudfront\/aws4_request/);
  } finally {
    await target.close();
  }
});

test("--profile signs with that profile's keys (the SDK reads the shared files of the process: a child process)", async () => {
  const target = await recordingEndpoint();
  const dir = mkdtempSync(join(tmpdir(), 'cfap-profile-'));
  writeFileSync(join(dir, 'credentials'), '[ci]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = s\n');
  writeFileSync(join(dir, 'config'), '[profile ci]\nregion = us-east-1\n');
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_CONFIG_FILE: join(dir, 'config'),
    CLOUDFRONT_MAX_ATTEMPTS: '1',
  };
  try {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['cli/bin.cjs', 'status', '--endpoint', target.endpoint, '--profile', 'ci'],
        { env, encoding: 'utf8', timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(target.authorizations[0] ?? '', /Credential=AKIDFROMPROFILE\//);
  } finally {
    await target.close();
  }
});

test('emulator: serves CloudFront on the printed endpoint, prints each CloudTrail record, stops cleanly', async () => {
  let stop!: () => void;
  const until = new Promise<void>((resolve) => (stop = resolve));
  const r = io();
  const running = runEmulator({ account: '210987654321', until }, r.io);
  while (!r.out.some((l) => l.includes('listening on'))) await new Promise((res) => setTimeout(res, 10));
  const endpoint = /listening on (http:\/\/\S+)/.exec(r.out[0] ?? '')?.[1];
  assert.match(r.out[0] ?? '', /\(account 210987654321\)/);
  const client = new CloudFrontClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDWATCH', secretAccessKey: 'x' }, maxAttempts: 1 });
  await client.send(
    new CreateFunctionCommand({
      Name: 'watched',
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: new TextEncoder().encode('function handler(e) { return e.request; }'),
    }),
  );
  const listed = await client.send(new ListFunctionsCommand({}));
  assert.deepEqual(
    listed.FunctionList?.Items?.map((i) => i.Name),
    ['watched'],
  );
  assert.ok(
    r.out.some((l) => /CreateFunction\S* watched$/.test(l)),
    r.out.join('\n'),
  );
  stop();
  assert.equal(await running, 0);
});

test('emulator: a bad --port or --account is a usage error (exit 2)', async () => {
  for (const args of [
    ['--port', '99999'],
    ['--account', '12345'],
  ]) {
    const r = io();
    assert.equal(await main(['emulator', ...args], r.io), 2, args.join(' '));
    assert.match(r.err[0] ?? '', new RegExp(args[0] as string));
  }
});

test('a blank or padded opt-in tag is refused before any call, naming --tag-key/--tag-value or the variable it came from', async () => {
  for (const [option, value] of [
    ['--tag-value', ' '],
    ['--tag-value', 'true '],
    ['--tag-key', ''],
    ['--tag-key', ' auto-publish'],
  ] as const) {
    const r = io();
    assert.equal(await main(['status', option, value], r.io), 2, `${option} ${JSON.stringify(value)}: ${r.err.join('\n')}`);
    assert.match(r.err[0] ?? '', new RegExp(`^cf-autopublish: ${option}: .*blank`));
  }
  const fromEnv = io({ AUTO_PUBLISH_TAG_VALUE: ' true' });
  assert.equal(await main(['status'], fromEnv.io), 1);
  assert.deepEqual(fromEnv.err, ['cf-autopublish: AUTO_PUBLISH_TAG_VALUE: " true" has leading or trailing blanks']);
});
