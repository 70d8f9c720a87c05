// The bench's summary table (bench/targets.ts): each target's pass/fail, how it prints, which misses fail CI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, failedGates, format, meets, noFailures, summaryTable, type TargetSpec } from '../bench/targets';
import { median } from '../bench/org-scenario';

const spec = (over: Partial<TargetSpec>): TargetSpec => ({ name: 't', value: 1, target: 1, comparator: '<=', unit: 'x', gating: false, ...over });

describe('bench targets', () => {
  test('each comparator decides at its edge, and a figure not measured (NaN) fails', () => {
    assert.deepEqual([meets(1.02, '<=', 1.02), meets(1.0201, '<=', 1.02), meets(1, '<', 1), meets(0.99, '<', 1)], [true, false, false, true]);
    assert.deepEqual([meets(10, '>=', 10), meets(9.99, '>=', 10), meets(10, '>', 10), meets(0, '==', 0), meets(1, '==', 0)], [true, false, false, true, false]);
    for (const c of ['<=', '<', '>=', '>', '=='] as const) assert.equal(meets(Number.NaN, c, 1), false, c);
  });

  test('values and limits print in their unit; a correctness target prints what it was given', () => {
    assert.equal(format(1.234, 'x'), '1.23x');
    assert.equal(format(0.26, 'ms'), '0.26 ms');
    assert.equal(format(77.4, 'ms'), '77 ms');
    assert.equal(format(250 * 1024, 'KB'), '250.0 KB');
    assert.equal(format(128 * 1024 * 1024, 'MB'), '128.0 MB');
    assert.equal(format(3, 'count'), '3');
    assert.equal(format(Number.NaN, 'x'), 'n/a');
    const [r] = evaluate([spec({ name: 'in sync', value: 2, target: 0, comparator: '==', unit: 'count', shown: '0/2 NOT IN SYNC', gating: true })]);
    assert.deepEqual({ value: r?.value, limit: r?.limit, pass: r?.pass }, { value: '0/2 NOT IN SYNC', limit: '== 0', pass: false });
  });

  test('the table has one row per target, in order, and its last column is PASS or FAIL', () => {
    const results = evaluate([
      spec({ name: 'calls <= 1.02 x bound', value: 1.003, target: 1.02, gating: true }),
      spec({ name: 'worker CPU <= 20 ms', value: 77, target: 20, unit: 'ms' }),
      spec({ name: 'naive >= 10 x ours', value: 12, target: 10, comparator: '>=' }),
    ]);
    const table = summaryTable(results);
    assert.equal(table.length, 4);
    assert.match(table[0]!, /^target\s+value\s+limit\s+gates CI\s+result$/);
    assert.deepEqual(
      table.slice(1).map((line) => line.trim().split(/\s+/).at(-1)),
      ['PASS', 'FAIL', 'PASS'],
    );
    assert.match(table[2]!, /^worker CPU <= 20 ms\s+77 ms\s+<= 20 ms\s+no\s+FAIL$/);
    assert.equal(new Set(table.map((line) => line.length)).size, 1, 'columns line up');
  });

  test('only a failed gating target fails the run: timings report, never gate', () => {
    const results = evaluate([
      spec({ name: 'timing', value: 5, target: 1.3, gating: false }),
      spec({ name: 'calls', value: 1.5, target: 1.1, gating: true }),
      spec({ name: 'correct', value: 0, target: 0, comparator: '==', unit: 'count', gating: true }),
    ]);
    assert.deepEqual(
      failedGates(results).map((t) => t.name),
      ['calls'],
    );
    assert.deepEqual(failedGates(evaluate([spec({ value: 9, target: 1, gating: false })])), []);
  });

  test('results keep the shape other tooling reads (name, value, limit, pass, gating) and add the figures', () => {
    const [r] = evaluate([spec({ name: 'n', value: 0.5, target: 1, unit: 'ms' })]);
    assert.deepEqual(r, {
      name: 'n',
      value: '0.50 ms',
      limit: '<= 1.00 ms',
      pass: true,
      gating: false,
      measured: 0.5,
      target: 1,
      comparator: '<=',
      unit: 'ms',
    });
  });

  test('a correctness target passes only with no failure and nothing out of sync, in any run; it gates', () => {
    const clean = evaluate([
      noFailures('ok', [
        { failures: 0, outOfSync: 0 },
        { failures: 0, outOfSync: false },
      ]),
    ])[0];
    assert.deepEqual([clean?.pass, clean?.value, clean?.gating], [true, '0/0', true]);
    const failed = evaluate([
      noFailures('f', [
        { failures: 0, outOfSync: 0 },
        { failures: 2, outOfSync: 0 },
      ]),
    ])[0];
    assert.deepEqual([failed?.pass, failed?.value], [false, '0/2']);
    const drifted = evaluate([
      noFailures('d', [
        { failures: 0, outOfSync: 3 },
        { failures: 0, outOfSync: true },
      ]),
    ])[0];
    assert.deepEqual([drifted?.pass, drifted?.value], [false, '0/0 4 NOT IN SYNC']);
  });

  test('median: odd and even counts, unsorted input, empty', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), 0);
  });
});
