/**
 * The README as a contract (issue 21): its nine sections in the order a user needs them, at most 250
 * lines, and every command it shows works. Each `cf-autopublish` line of its shell blocks runs, in the
 * README's order, through the CLI's main() against the emulator, on a local stack whose reconciler has
 * published (and so saved) a version; the npm and serverless lines name scripts and binaries that
 * exist; every `--param` names a param of serverless.yml; every alarm the stack creates is named; and
 * every relative link of the README and docs/ leads to a file and heading that exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { main } from '../cli/main';
import { code, create, HISTORY_BUCKET, stateOf, update, withStack } from './e2e/support';

const ROOT = resolve(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

const SECTIONS = [
  'What it does, and why',
  'Quick start',
  'Opt a function in',
  'Deploy',
  'Operate it',
  'The CLI',
  'When to use this, and when not',
  'Tests',
  'Links',
];

/** The lines of every ```sh block, with `\` continuations joined. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const [, body] of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of (body ?? '').replace(/\\\n\s*/g, ' ').split('\n')) {
      if (line.trim() !== '') lines.push(line.trim());
    }
  }
  return lines;
}

/** Splits a shell line into words (single and double quotes), dropping a trailing `# comment`. */
function words(line: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (ch === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  assert.equal(quote, undefined, `unclosed quote in: ${line}`);
  if (word !== undefined) out.push(word);
  return out;
}

const cliLines = () => shellLines(README).filter((l) => /^(npx )?cf-autopublish /.test(l));

test('the README has the nine sections, in the order a user needs them', () => {
  const headings = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, SECTIONS);
});

test('the README is at most 250 lines', () => {
  const lines = README.split('\n').length - (README.endsWith('\n') ? 1 : 0);
  assert.ok(lines <= 250, `README.md has ${lines} lines: move detail to docs/`);
});

test('the README says near the top that it is tested against an emulator, not an account', () => {
  const top = README.split('\n').slice(0, 30).join(' ').replace(/\s+/g, ' ');
  assert.match(top, /emulator/);
  assert.match(top, /not against a real AWS account/);
  assert.match(top, /\(docs\/cloudfront-api\.md\)/);
});

test('the opening names both kinds, and the feature table says no peer publishes a connection function someone else edited', () => {
  const opening = README.split('\n## ')[0]?.replace(/\s+/g, ' ') ?? '';
  assert.match(opening, /CloudFront Functions and connection functions/);
  const rows = README.split('\n').filter((l) => l.startsWith('| '));
  const cells = (line: string | undefined) =>
    (line ?? '')
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const header = cells(rows.find((l) => l.includes('this stack')));
  assert.deepEqual(
    [header[1], /AutoPublish/.test(header[2] ?? ''), /publish = true/.test(header[3] ?? ''), /publish-function/.test(header[4] ?? '')],
    ['this stack', true, true, true],
    header.join('|'),
  );
  const connection = cells(rows.find((l) => /connection function/.test(l)));
  // The question, this stack, then one cell per peer: every peer's says it does not.
  assert.equal(connection.length, header.length, connection.join('|'));
  assert.equal(connection[1], 'published');
  assert.deepEqual(connection.slice(2), ['not published', 'not published', 'not published']);
  assert.match(README, /\(docs\/peers\.md\)/, 'the table links the sources of its facts');
});

test("a newcomer's path is in the README: install and demo, then a deploy-ready package", () => {
  const lines = shellLines(README);
  assert.ok(lines.includes('npm ci && npm start'), 'the quick start runs npm ci && npm start');
  assert.ok(
    lines.some((l) => l.startsWith('npx serverless package')),
    'the deploy section packages offline',
  );
});

test('the npm and serverless commands in the README exist', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const builtIn = new Set(['ci', 'test', 'start', 'pack']);
  let checked = 0;
  for (const line of shellLines(README)) {
    for (const part of line.split('&&').map((p) => words(p.trim()))) {
      if (part[0] === 'npm') {
        checked++;
        if (part[1] === 'run') assert.ok(part[2] && scripts[part[2]], `npm run ${part[2]}: no such script (${line})`);
        else assert.ok(builtIn.has(part[1] ?? ''), `npm ${part[1]}: not a command the README may use (${line})`);
        if (part[1] === 'test' || part[1] === 'start') assert.ok(scripts[part[1]], `no ${part[1]} script`);
      }
      if (part[0] === 'npx' && part[1] === 'serverless') {
        checked++;
        assert.ok(existsSync(join(ROOT, 'node_modules', '.bin', 'serverless')), 'serverless is not installed by npm ci');
        assert.ok(['package', 'deploy', 'info', 'remove'].includes(part[2] ?? ''), `serverless ${part[2]} (${line})`);
      }
    }
  }
  assert.ok(checked >= 4, `only ${checked} npm/serverless commands found`);
});

test('every --param the README names is a param of serverless.yml, and every alarm is named', () => {
  const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const params = README.match(/--param="?(\w+)=/g)?.map((p) => p.replace(/--param="?/, '').replace('=', '')) ?? [];
  assert.ok(params.length > 0);
  for (const name of params) assert.match(yml, new RegExp(`^    ${name}: `, 'm'), `--param=${name}: not in serverless.yml`);
  const alarms = [...yml.matchAll(/^\s+(\w+):\n\s+(?:Condition: \w+\n\s+)?Type: AWS::CloudWatch::Alarm$/gm)].map((m) => m[1]);
  assert.equal(alarms.length, 8, `alarms in serverless.yml: ${alarms.join(', ')}`);
  for (const alarm of alarms) assert.match(README, new RegExp(`\`${alarm}\``), `the README does not name ${alarm}`);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

test('every relative link of the README and docs/ leads to a file, and to a heading in it', () => {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  for (const file of [join(ROOT, 'README.md'), ...docs]) {
    const text = readFileSync(file, 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const linked = path ? resolve(dirname(file), path) : file;
      assert.ok(existsSync(linked), `${file}: link to ${target}: no such file`);
      if (anchor) {
        const anchors = [...readFileSync(linked, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] ?? ''));
        assert.ok(anchors.includes(anchor), `${file}: link to ${target}: no such heading`);
      }
    }
  }
});

test("every cf-autopublish line of the README runs against the emulator, in the README's order", () =>
  withStack({ settings: { HISTORY_BUCKET } }, async (stack) => {
    // What the README's commands assume: my-function, opted in, published by the reconciler once
    // over an earlier version (so the history bucket holds that one).
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    const console = stack.clientFor('console-user');
    await create(console, 'my-function', true);
    await stack.settle();
    const first = stateOf(stack, 'my-function').live;
    assert.ok(first);
    await update(console, 'my-function', 'v2');
    await stack.settle();
    assert.equal(stateOf(stack, 'my-function').inSync, true);

    const lines = cliLines();
    assert.ok(lines.length >= 10, `only ${lines.length} cf-autopublish lines`);
    for (const line of lines) {
      const argv = words(line.replace(/<HistoryBucketName>/g, HISTORY_BUCKET));
      const args = argv.slice(argv[0] === 'npx' ? 2 : 1);
      assert.ok(!args.some((a) => /^<.*>$/.test(a)), `a placeholder the test cannot fill: ${line}`);
      const endpoint = args.indexOf('--endpoint');
      if (endpoint >= 0) args.splice(endpoint, 2);
      const out: string[] = [];
      const err: string[] = [];
      const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFRONT_MAX_ATTEMPTS: '2' };
      for (const name of [
        'CLOUDFRONT_ENDPOINT',
        'S3_ENDPOINT',
        'HISTORY_BUCKET',
        'PAUSE_PARAMETER',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_PROFILE',
      ])
        delete env[name];
      const exit = await main([...args, '--endpoint', stack.emulator.endpoint], { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, env });
      assert.equal(exit, 0, `${line}\n${out.join('\n')}\n${err.join('\n')}`);
    }
    // The runbook's rollback put the first version back on LIVE.
    const live = stack.emulator.state.snapshot().find((f) => f.name === 'my-function')?.live?.code;
    assert.equal(live, Buffer.from(code('v1')).toString());
  }));
