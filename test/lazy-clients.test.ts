/**
 * A cold start pays only for the clients the settings use (lib/runtime.ts): the handler is built as
 * it ships (serverless.yml's esbuild settings and plugins: ES modules split into chunks), each output
 * file made to record its own evaluation, then run in a fresh process. An ES module chunk is read,
 * parsed and evaluated together, when first imported: so the client packages of the files evaluated
 * (esbuild's metafile says which modules each file holds) are every client the process has loaded.
 * Single-account mode with no test-case buckets, no bus, no pause parameter and no failure queue
 * loads the CloudFront client and no other; a client the settings name is loaded on its first call,
 * not before.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions, PROJECT_ROOT } from '../local/packaging';

const CLIENTS = ['client-cloudfront', 'client-s3', 'client-sqs', 'client-sts', 'client-organizations', 'client-eventbridge', 'client-ssm', 'client-sns'];

let bundlePath = '';
/** Each output file (relative to the build's directory) and the SDK client packages it holds. */
const clientsIn = new Map<string, string[]>();

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfap-lazy-'));
  const entry = join(dir, 'entry.ts');
  const from = (file: string) => JSON.stringify(join(PROJECT_ROOT, file));
  writeFileSync(
    entry,
    // Every handler's module, so that what any of them imports statically is loaded at start here too.
    `export { makeOnFunctionChange } from ${from('handlers/on-function-change')};\n` +
      `export { makeDriftSweep, makeSweepFanOut } from ${from('handlers/drift-sweep')};\n` +
      `export { makeSweepAccount } from ${from('handlers/sweep-account')};\n` +
      `export { createRuntime } from ${from('lib/runtime')};\nexport { loadConfig } from ${from('lib/config')};\n`,
  );
  const out = join(dir, 'out');
  const result = await build({
    ...lambdaBuildOptions(),
    logLevel: 'error',
    entryPoints: [entry],
    outdir: out,
    outExtension: { '.js': '.mjs' },
    metafile: true,
  });
  bundlePath = join(out, 'entry.mjs');
  const outputs = Object.entries(result.metafile.outputs);
  assert.ok(outputs.length > 1, 'the build wrote no chunks: the lazily loaded gateways are not split off');
  for (const [file, output] of outputs) {
    const name = relative(out, resolve(file));
    const packages = new Set(
      Object.keys(output.inputs)
        .map((input) => (/node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(input) ?? [])[1])
        .filter((p): p is string => p !== undefined),
    );
    clientsIn.set(name, [...packages]);
    // A statement before the imports runs when the module is evaluated (its imports are hoisted).
    const text = readFileSync(resolve(file), 'utf8');
    writeFileSync(resolve(file), `(globalThis.__evaluated ??= []).push(${JSON.stringify(name)});\n${text}`);
  }
});

/**
 * Runs `script` (with `bundle`, `settings`, `event` and `context` in scope) in a fresh process and
 * returns the SDK client packages evaluated by then.
 */
function evaluatedClients(settings: Record<string, string>, script: string): string[] {
  const program = `
    const bundle = await import(${JSON.stringify(bundlePath)});
    const settings = ${JSON.stringify(settings)};
    const context = { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', getRemainingTimeInMillis: () => 30000, awsRequestId: 'r', functionName: 'f' };
    const distributionEvent = { source: 'aws.cloudfront', 'detail-type': 'AWS API Call via CloudTrail', account: '123456789012',
      detail: { eventSource: 'cloudfront.amazonaws.com', eventName: 'UpdateDistribution2020_05_31', requestParameters: { id: 'E1' } } };
    const updateEvent = { ...distributionEvent, detail: { eventSource: 'cloudfront.amazonaws.com', eventName: 'UpdateFunction2020_05_31', recipientAccountId: '123456789012', requestParameters: { name: 'f' } } };
    await (async () => { ${script} })().then(() => {
      process.stdout.write('\\nEVALUATED ' + JSON.stringify(globalThis.__evaluated));
      process.exit(0);
    }, (error) => { console.error(error); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'AKIDLAZY',
      AWS_SECRET_ACCESS_KEY: 'lazy',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  // The handler's own log lines come first.
  const files = JSON.parse(out.slice(out.lastIndexOf('EVALUATED ') + 'EVALUATED '.length)) as string[];
  assert.ok(files.includes('entry.mjs'), `the entry did not record itself: ${files.join(', ')}`);
  const clients = new Set<string>();
  for (const file of files) {
    const packages = clientsIn.get(file);
    assert.ok(packages, `${file} was evaluated but is not an output of the build`);
    for (const p of packages) clients.add(p);
  }
  for (const c of clients) assert.ok(CLIENTS.includes(c), `unexpected client package ${c}`);
  return [...clients].sort();
}

describe('client modules are evaluated only when the settings use them', () => {
  test('single account, no buckets, bus, pause parameter or failure queue: after an invocation, the CloudFront client and nothing else', () => {
    // The update's reads go to a port nobody listens on: the invocation fails, reported as a failed outcome.
    const evaluated = evaluatedClients(
      { CLOUDFRONT_ENDPOINT: 'http://127.0.0.1:9', CLOUDFRONT_MAX_ATTEMPTS: '1' },
      'const handler = bundle.makeOnFunctionChange(bundle.createRuntime(bundle.loadConfig(settings))); await handler(distributionEvent, context); ' +
        'await handler(updateEvent, context).then(() => { throw new Error("the update did not fail"); }, () => {});',
    );
    assert.deepEqual(evaluated, ['client-cloudfront']);
  });

  test("a handler built for its first event does not load Node's web streams (middy imports them for streamed responses only)", () => {
    const program = `
      const bundle = await import(${JSON.stringify(bundlePath)});
      bundle.makeOnFunctionChange(bundle.createRuntime(bundle.loadConfig({})));
      bundle.makeDriftSweep(bundle.createRuntime(bundle.loadConfig({})));
      process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule stream/web'))));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    assert.deepEqual(JSON.parse(out), []);
  });

  test('settings that name a bus, test-case buckets, history, a failure queue and an alarm topic: still nothing before the first call', () => {
    const settings = {
      EVENT_BUS_NAME: 'platform',
      TEST_CASES_BUCKETS: 'edge-tests',
      HISTORY_BUCKET: 'edge-history',
      FAILURE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/failed',
      ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alarms',
    };
    const evaluated = evaluatedClients(settings, 'bundle.makeOnFunctionChange(bundle.createRuntime(bundle.loadConfig(settings)));');
    assert.deepEqual(evaluated, ['client-cloudfront']);
  });

  test('the pause parameter: SSM is evaluated with the first read (which every invocation makes)', () => {
    // The read goes to a port nobody listens on; what is recorded is what was evaluated on the way.
    const settings = { PAUSE_PARAMETER: '/cloudfront-autopublish/dev/pause', SSM_ENDPOINT: 'http://127.0.0.1:9' };
    const evaluated = evaluatedClients(
      settings,
      'const runtime = bundle.createRuntime(bundle.loadConfig(settings)); runtime.pause(runtime.reporter).catch(() => {}); await new Promise((r) => setTimeout(r, 200));',
    );
    assert.deepEqual(evaluated, ['client-cloudfront', 'client-ssm']);
  });

  test('the sweep handlers, organisation mode included (fan-out and worker built, no call yet): the CloudFront client and nothing else', () => {
    const settings = {
      ORGANIZATION_MODE: 'true',
      SWEEP_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/sweep',
      SWEEP_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/sweep-dlq',
    };
    const evaluated = evaluatedClients(
      settings,
      'bundle.makeDriftSweep(bundle.createRuntime(bundle.loadConfig({}))); const runtime = bundle.createRuntime(bundle.loadConfig(settings)); ' +
        'bundle.makeSweepFanOut(runtime); bundle.makeSweepAccount(runtime);',
    );
    assert.deepEqual(evaluated, ['client-cloudfront']);
  });

  test('organisation mode with MEMBER_ACCOUNTS: STS with the first member call, never Organizations', () => {
    const settings = {
      ORGANIZATION_MODE: 'true',
      MEMBER_ACCOUNTS: '111111111111',
      STS_ENDPOINT: 'http://127.0.0.1:9',
      CLOUDFRONT_ENDPOINT: 'http://127.0.0.1:9',
    };
    const before = evaluatedClients(settings, 'bundle.createRuntime(bundle.loadConfig(settings)).cloudfrontFor("111111111111");');
    assert.deepEqual(before, ['client-cloudfront']);
    const after = evaluatedClients(
      settings,
      'const cf = bundle.createRuntime(bundle.loadConfig(settings)).cloudfrontFor("111111111111"); cf.readTags("arn:aws:cloudfront::111111111111:function/f").catch(() => {}); await new Promise((r) => setTimeout(r, 200));',
    );
    assert.deepEqual(after, ['client-cloudfront', 'client-sts']);
  });
});
