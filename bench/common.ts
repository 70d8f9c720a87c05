/** Shared settings and helpers of the benchmark scenarios. */
import { build, type BuildOptions } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = join(__dirname, '..');

/** The control plane the scenarios run against (issue 4): 20 ms per call, 25 calls/s, burst 25. */
export const LATENCY_MS = 20;
export const RATE = { ratePerSecond: 25, burst: 25 };
export const SEED = 4;

/** The esbuild settings of serverless.yml's custom.esbuild, for bundles built outside serverless. */
export const LAMBDA_BUILD: BuildOptions = {
  bundle: true,
  minify: true,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  sourcemap: false,
  mainFields: ['module', 'main'],
  logLevel: 'error',
};

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cfap-bench-${prefix}-`));
}

/** Bundles `entry` (relative to the project) into one CommonJS file; returns its path. */
export async function bundle(entry: string, outfile: string, extra: Record<string, unknown> = {}): Promise<string> {
  await build({ ...LAMBDA_BUILD, entryPoints: [resolve(ROOT, entry)], outfile, ...extra });
  return outfile;
}

/** A deterministic choice of `count` distinct indexes out of `n`, from a seeded generator. */
export function pick(n: number, count: number, next: () => number): Set<number> {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return new Set(order.slice(0, count));
}

export const ratio = (a: number, b: number) => (b === 0 ? Number.POSITIVE_INFINITY : a / b);
