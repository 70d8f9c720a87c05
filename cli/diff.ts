/**
 * A unified diff of two texts, line by line, from their longest common subsequence. Function code is
 * at most 10 KB (docs/cloudfront-api.md#quotas-and-rate-limits), so the quadratic table stays small
 * and no diff library is needed.
 */

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

/** Lines of `text`; a final newline ends the last line rather than starting an empty one. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script from `a` to `b`: each line kept, removed or added, in order. */
export function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

/**
 * `diff -u`'s format: `--- fromLabel`, `+++ toLabel`, then hunks with `context` unchanged lines around
 * each change. Empty when the texts have the same lines.
 */
export function unifiedDiff(from: string, to: string, fromLabel: string, toLabel: string, context = 3): string {
  const ops = editScript(linesOf(from), linesOf(to));
  const changed = ops.map((op, k) => (op.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch or overlap into one hunk.
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const start = Math.max(0, k - context);
    const end = Math.min(ops.length, k + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  // Line numbers (1-based) in each text where op `k` stands.
  const fromLine: number[] = [];
  const toLine: number[] = [];
  let a = 1;
  let b = 1;
  for (const op of ops) {
    fromLine.push(a);
    toLine.push(b);
    if (op.kind !== '+') a++;
    if (op.kind !== '-') b++;
  }
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end);
    const fromCount = slice.filter((op) => op.kind !== '+').length;
    const toCount = slice.filter((op) => op.kind !== '-').length;
    // diff -u numbers an empty side from the line before it.
    const fromStart = fromCount === 0 ? fromLine[start]! - 1 : fromLine[start]!;
    const toStart = toCount === 0 ? toLine[start]! - 1 : toLine[start]!;
    // As diff -u: a count of 1 is left out.
    const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
    out.push(`@@ -${range(fromStart, fromCount)} +${range(toStart, toCount)} @@`);
    for (const op of slice) out.push(`${op.kind}${op.line}`);
  }
  return out.join('\n');
}
