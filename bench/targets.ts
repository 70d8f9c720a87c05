/**
 * The bench's targets and its summary table. A target is one line of data: what was measured, the
 * figure it must meet and how (`comparator`), and whether a miss fails CI (`gating`: call counts,
 * correctness, zip size; timings never gate, so a loaded machine cannot make the build flaky). Adding
 * a target is adding one entry to the list bench/main.ts builds; pass/fail, the printed table and
 * results.json's `targets` all come from here.
 */

export type Comparator = '<=' | '<' | '>=' | '>' | '==';

/** How a figure prints: a ratio (1.23x), milliseconds, bytes as KB or MB, a plain count, or a number. */
export type Unit = 'x' | 'ms' | 'KB' | 'MB' | 'count' | 'number';

export interface TargetSpec {
  readonly name: string;
  /** The figure measured in this run. NaN (not measured) fails. */
  readonly value: number;
  /** The figure it is held to. */
  readonly target: number;
  readonly comparator: Comparator;
  readonly unit: Unit;
  /** A miss fails CI (bench exits non-zero). */
  readonly gating: boolean;
  /** What to print instead of the formatted value (a correctness target's "0/0 NOT IN SYNC"). */
  readonly shown?: string;
}

/** A target with its verdict; results.json keeps `name`, `value`, `limit`, `pass`, `gating` as before. */
export interface TargetResult {
  readonly name: string;
  /** The value as printed. */
  readonly value: string;
  /** The comparator and the target as printed: "<= 1.10x". */
  readonly limit: string;
  readonly pass: boolean;
  readonly gating: boolean;
  readonly measured: number;
  readonly target: number;
  readonly comparator: Comparator;
  readonly unit: Unit;
}

/**
 * A correctness target: no failure and nothing out of sync in any of `runs` (each: its failures, and
 * how many functions it left out of sync, or just whether it left any). Gates CI.
 */
export function noFailures(name: string, runs: readonly { failures: number; outOfSync: number | boolean }[]): TargetSpec {
  const outOfSync = runs.reduce((sum, r) => sum + Number(r.outOfSync), 0);
  return {
    name,
    value: runs.reduce((sum, r) => sum + r.failures, 0) + outOfSync,
    shown: runs.map((r) => r.failures).join('/') + (outOfSync ? ` ${outOfSync} NOT IN SYNC` : ''),
    target: 0,
    comparator: '==',
    unit: 'count',
    gating: true,
  };
}

export function meets(value: number, comparator: Comparator, target: number): boolean {
  if (Number.isNaN(value) || Number.isNaN(target)) return false;
  switch (comparator) {
    case '<=':
      return value <= target;
    case '<':
      return value < target;
    case '>=':
      return value >= target;
    case '>':
      return value > target;
    case '==':
      return value === target;
  }
}

export function format(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'x':
      return `${value.toFixed(2)}x`;
    case 'ms':
      // Sub-millisecond figures (the emulator's CPU per call) need their decimals.
      return Math.abs(value) < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`;
    case 'KB':
      return `${(value / 1024).toFixed(1)} KB`;
    case 'MB':
      return `${(value / 1024 / 1024).toFixed(1)} MB`;
    case 'count':
      return String(Math.round(value));
    case 'number':
      return value.toFixed(2);
  }
}

export function evaluate(specs: readonly TargetSpec[]): TargetResult[] {
  return specs.map((t) => ({
    name: t.name,
    value: t.shown ?? format(t.value, t.unit),
    limit: `${t.comparator} ${format(t.target, t.unit)}`,
    pass: meets(t.value, t.comparator, t.target),
    gating: t.gating,
    measured: t.value,
    target: t.target,
    comparator: t.comparator,
    unit: t.unit,
  }));
}

/** The summary table: one row per target, the last column PASS or FAIL. */
export function summaryTable(results: readonly TargetResult[]): string[] {
  const header = ['target', 'value', 'limit', 'gates CI', 'result'];
  const rows = results.map((t) => [t.name, t.value, t.limit, t.gating ? 'yes' : 'no', t.pass ? 'PASS' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** The gating targets that failed: any one makes the bench exit non-zero. */
export function failedGates(results: readonly TargetResult[]): TargetResult[] {
  return results.filter((t) => t.gating && !t.pass);
}
