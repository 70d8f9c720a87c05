/**
 * The exported `handler` of each file in handlers/ is wired from the environment, as a deployed
 * Lambda is; everyone else builds a runtime and calls make…(runtime). Here the environment is set
 * from the outside, for a child process, never written in this one. Each test runs twice: on the
 * sources (tsx), and on the fixture built with the esbuild settings the handlers ship with
 * (serverless.yml: an ES module and its chunks, the lazily loaded gateways among them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startEmulator, type Emulator } from '../emulator';
import { lambdaBuildOptions } from '../local/packaging';
import { updateEvent } from './support/events';

const fixture = fileURLToPath(new URL('./fixtures/invoke-from-environment.ts', import.meta.url));
let emulator: Emulator;
let bundled = '';
before(async () => {
  emulator = await startEmulator({ accountId: '123456789012' });
  // One function and one member account per form: each form's run starts from the same state.
  for (const form of FORMS) emulator.state.seed({ name: `f-${form}`, code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
  const outdir = mkdtempSync(join(tmpdir(), 'cfap-entry-'));
  await build({ ...lambdaBuildOptions(), logLevel: 'error', entryPoints: [fixture], outdir, outExtension: { '.js': '.mjs' } });
  bundled = join(outdir, 'invoke-from-environment.mjs');
});
after(() => emulator.close());

const FORMS = ['sources', 'bundle'] as const;
type Form = (typeof FORMS)[number];
const MEMBERS: Record<Form, string> = { sources: '210000000001', bundle: '210000000002' };

function invoke(
  form: Form,
  which: string,
  event: unknown,
  env: Record<string, string>,
): Promise<{
  result?: { outcomes?: { action: string }[]; counts?: Record<string, number>; batchItemFailures?: unknown[] };
  error?: { name: string; message: string };
}> {
  const { NODE_TEST_CONTEXT: _runner, ...inherited } = process.env;
  const program = form === 'sources' ? ['--import', 'tsx', fixture] : [bundled];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...program, which, JSON.stringify(event)],
      {
        env: {
          ...inherited,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_ACCESS_KEY_ID: 'AKIDENV',
          AWS_SECRET_ACCESS_KEY: 'x',
          CLOUDFRONT_MAX_ATTEMPTS: '1',
          ...env,
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
      (error, stdout) => {
        const line = stdout.trim().split('\n').at(-1);
        if (!line) reject(error ?? new Error('no output'));
        else resolve(JSON.parse(line));
      },
    );
  });
}

for (const form of FORMS) {
  describe(form, () => {
    test('the event handler reads its settings from the environment and publishes', async () => {
      const out = await invoke(form, 'event-handler', updateEvent(`f-${form}`), { CLOUDFRONT_ENDPOINT: emulator.endpoint });
      assert.equal(out.error, undefined, JSON.stringify(out.error));
      assert.equal(out.result?.outcomes?.[0]?.action, 'published');
      assert.equal(emulator.controls.publishLog().at(-1)?.name, `f-${form}`);
      assert.equal(emulator.controls.publishLog().at(-1)?.accessKeyId, 'AKIDENV');
    });

    test('a setting it cannot parse fails the invocation naming the variable, before any call', async () => {
      emulator.controls.resetCalls();
      const out = await invoke(form, 'sweep-handler', { source: 'aws.events' }, { CLOUDFRONT_ENDPOINT: emulator.endpoint, DRY_RUN: 'maybe' });
      assert.equal(out.error?.name, 'ConfigError');
      assert.match(out.error?.message ?? '', /^DRY_RUN: "maybe" is not true or false/);
      assert.deepEqual(emulator.controls.calls(), {});
    });

    test('organisation mode from the environment: the sweep worker assumes the member role and publishes there', async () => {
      const member = MEMBERS[form];
      const central = 'arn:aws:iam::123456789012:role/central-reconciler';
      emulator.addAccount(member);
      const assumedBefore = emulator.sts.assumeRoleCalls().length;
      emulator.iam.setPrincipal('AKIDCENTRAL', central);
      emulator.iam.createRole({ account: member, roleName: 'cloudfront-autopublish-member', trustedPrincipalArns: [central] });
      emulator.account(member).state.seed({ name: 'g', code: 'function handler(e) { return e.request; }', tags: { 'auto-publish': 'true' } });
      const out = await invoke(
        form,
        'sweep-worker',
        { Records: [{ messageId: 'm-1', body: JSON.stringify({ account: member, full: false }) }] },
        {
          AWS_ACCESS_KEY_ID: 'AKIDCENTRAL',
          ORGANIZATION_MODE: 'true',
          MEMBER_ACCOUNTS: member,
          CLOUDFRONT_ENDPOINT: emulator.endpoint,
          STS_ENDPOINT: emulator.endpoint,
        },
      );
      assert.equal(out.error, undefined, JSON.stringify(out.error));
      assert.deepEqual(out.result?.batchItemFailures, []);
      const [publish] = emulator.account(member).controls.publishLog();
      assert.equal(publish?.name, 'g');
      assert.match(publish?.accessKeyId ?? '', /^ASIA/, 'published with the assumed role, not the central keys');
      assert.match(emulator.sts.assumeRoleCalls()[assumedBefore]?.callerArn ?? '', /^arn:aws:sts::123456789012:assumed-role\/central-reconciler\//);
    });

    test('organisation mode without SWEEP_QUEUE_URL: the scheduled sweep fails naming it, before any call', async () => {
      emulator.controls.resetCalls();
      const out = await invoke(form, 'sweep-handler', { source: 'aws.events' }, { CLOUDFRONT_ENDPOINT: emulator.endpoint, ORGANIZATION_MODE: 'true' });
      assert.equal(out.error?.name, 'ConfigError');
      assert.match(out.error?.message ?? '', /^SWEEP_QUEUE_URL: /);
      assert.deepEqual(emulator.controls.calls(), {});
    });
  });
}
