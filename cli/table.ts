import { printable } from './terminal';

/** Plain aligned text tables: readable in a terminal, stable enough to assert on in tests. */
export function table(headers: readonly string[], rawRows: readonly (readonly string[])[]): string {
  // A cell is one line: a line break a server sent would otherwise draw a row of its own making.
  const rows = rawRows.map((r) => r.map((c) => printable(c).replace(/\s*\n\s*/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
