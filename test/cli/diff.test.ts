/** The CLI's unified diff, held to GNU `diff -u` on the same texts (hunks, counts, context). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editScript, unifiedDiff } from '../../cli/diff';

const hasDiff = spawnSync('diff', ['--version'], { stdio: 'ignore' }).status === 0;

/** `diff -u` of the two texts, without its two header lines (they carry file times). */
function gnuDiff(a: string, b: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'udiff-'));
  try {
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    const out = spawnSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' }).stdout;
    return out.split('\n').slice(2).join('\n').replace(/\n$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

test('the edit script keeps a longest common subsequence', () => {
  const ops = editScript(['a', 'b', 'c', 'd'], ['a', 'c', 'd', 'e']);
  assert.deepEqual(
    ops.map((o) => `${o.kind}${o.line}`),
    [' a', '-b', ' c', ' d', '+e'],
  );
});

test('no differences: empty; labels head the diff', () => {
  assert.equal(unifiedDiff('x\ny\n', 'x\ny\n', 'A', 'B'), '');
  assert.equal(unifiedDiff('x\n', 'y\n', 'LIVE (E1)', 'DEVELOPMENT (E2)'), '--- LIVE (E1)\n+++ DEVELOPMENT (E2)\n@@ -1 +1 @@\n-x\n+y');
});

test('hunks, line numbers and counts as GNU diff -u gives them', { skip: hasDiff ? false : 'diff not installed' }, () => {
  const next = random(7);
  const words = ['let a = 1;', 'return event.request;', '}', 'function handler(event) {', '// comment', 'if (x) {', 'var y;', ''];
  const text = (n: number) => `${Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join('\n')}\n`;
  const cases: [string, string][] = [
    ['', 'a\n'],
    ['a\n', ''],
    [`${'same\n'.repeat(20)}`, `${'same\n'.repeat(10)}changed\n${'same\n'.repeat(9)}`],
    [`x\n${'same\n'.repeat(12)}y\n`, `X\n${'same\n'.repeat(12)}Y\n`],
    [`x\n${'same\n'.repeat(6)}y\n`, `X\n${'same\n'.repeat(6)}Y\n`],
    [`x\n${'same\n'.repeat(7)}y\n`, `X\n${'same\n'.repeat(7)}Y\n`],
  ];
  for (let i = 0; i < 40; i++) cases.push([text(Math.floor(next() * 30)), text(Math.floor(next() * 30))]);
  let exact = 0;
  for (const [a, b] of cases) {
    const ours = unifiedDiff(a, b, 'a', 'b').split('\n').slice(2).join('\n');
    const expected = gnuDiff(a, b);
    // An LCS is not unique: where GNU diff picks another, the hunk headers must still agree in count.
    if (ours === expected) exact++;
    else {
      const headers = (d: string) => d.split('\n').filter((l) => l.startsWith('@@')).length;
      assert.ok(Math.abs(headers(ours) - headers(expected)) <= 1, `${JSON.stringify(a)} → ${JSON.stringify(b)}\nours:\n${ours}\ngnu:\n${expected}`);
      assert.equal(applyPatch(a, ours), b, 'our diff applied to the first text gives the second');
    }
  }
  // Random lines from 8 choices admit many longest common subsequences; the structured cases above match exactly.
  assert.ok(exact >= cases.length / 2, `${exact} of ${cases.length} identical to GNU diff's`);
});

/** Applies a unified diff (no header) to `from`: the check that a diff is right when it differs from GNU's choice. */
function applyPatch(from: string, diff: string): string {
  const lines = from === '' ? [] : from.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let at = 0;
  const body = diff.split('\n');
  for (let k = 0; k < body.length; k++) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(body[k] ?? '');
    if (!header) continue;
    const start = header[2] === '0' ? Number(header[1]) : Number(header[1]) - 1;
    while (at < start) out.push(lines[at++] as string);
    for (k++; k < body.length && !(body[k] ?? '').startsWith('@@'); k++) {
      const line = body[k] as string;
      if (line.startsWith(' ')) out.push(lines[at++] as string);
      else if (line.startsWith('-')) at++;
      else if (line.startsWith('+')) out.push(line.slice(1));
    }
    k--;
  }
  while (at < lines.length) out.push(lines[at++] as string);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
