/**
 * The bundles: the packaged handlers (`serverless package`, offline, in a throwaway copy of the
 * project: local/packaging.ts) and their cold start, beside a reference bundle holding only
 * CloudFrontClient and DescribeFunctionCommand (the SDK's irreducible part), built with the same
 * esbuild settings (serverless.yml's custom.esbuild).
 *
 * Cold start = median over fresh `node` processes of: require the bundle, then build its runtime and
 * handler (what its first invocation does before any call: make…(createRuntime(loadConfig(settings)))
 * with the default settings; for the reference: new CloudFrontClient). Node's own start-up is excluded
 * (the same for all).
 */
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageService, PROJECT_ROOT, zipEntries } from '../local/packaging';
import { bundle, scratchDir } from './common';

export interface BundleResult {
  handler: string;
  /** The zip as deployed. */
  bytes: number;
  unzippedBytes: number;
  coldStartMs: number;
  referenceColdStartMs: number;
  /** The esbuild bundle the cold start was measured on (same modules as the zip's). */
  measuredBundleBytes: number;
}

export interface BundlesReport {
  bundles: BundleResult[];
  reference: { bytes: number; coldStartMs: number };
  packageSeconds: number;
}

const HANDLERS = [
  { name: 'onFunctionChange', file: 'handlers/on-function-change.ts', make: 'makeOnFunctionChange' },
  { name: 'driftSweep', file: 'handlers/drift-sweep.ts', make: 'makeDriftSweep' },
];

/** `serverless package` in a snapshot of the project; the directory holding the zips. */
async function packageHandlers(): Promise<{ dir: string; seconds: number }> {
  const run = await packageService(scratchDir('sls'), 'project');
  if (run.code !== 0) throw new Error(`serverless package failed (${run.code}):\n${run.output}`);
  return { dir: run.outDir, seconds: run.seconds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Interleaved runs (handler, reference, handler…) so machine load hits both alike. */
function coldStarts(files: string[], runs: number): number[][] {
  // Building clients reads no credentials (the SDK resolves them on the first call), so none are given.
  const env = { PATH: process.env.PATH, AWS_LAMBDA_FUNCTION_NAME: 'bench', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const samples: number[][] = files.map(() => []);
  const script = 'const t=performance.now();require(process.argv[1]).init();process.stdout.write(String(performance.now()-t))';
  for (let r = 0; r < runs; r++) {
    files.forEach((file, i) => {
      const out = spawnSync(process.execPath, ['-e', script, file], { env, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`cold start of ${file} failed: ${out.stderr}`);
      samples[i]!.push(Number(out.stdout));
    });
  }
  return samples;
}

export async function runBundles(options: { runs: number; packageIt: boolean }): Promise<BundlesReport> {
  const dir = scratchDir('cold');
  const packaging = options.packageIt ? packageHandlers() : undefined;
  const entries: string[] = [];
  for (const h of HANDLERS) {
    const entry = join(dir, `${h.name}-entry.ts`);
    writeFileSync(
      entry,
      `export { handler } from ${JSON.stringify(join(PROJECT_ROOT, h.file))};\n` +
        `import { ${h.make} } from ${JSON.stringify(join(PROJECT_ROOT, h.file))};\n` +
        `import { loadConfig } from ${JSON.stringify(join(PROJECT_ROOT, 'lib/config'))};\n` +
        `import { createRuntime } from ${JSON.stringify(join(PROJECT_ROOT, 'lib/runtime'))};\n` +
        `export function init() { return ${h.make}(createRuntime(loadConfig({}))); }\n`,
    );
    entries.push(await bundle(entry, join(dir, `${h.name}.js`)));
  }
  const refEntry = join(dir, 'reference-entry.ts');
  writeFileSync(
    refEntry,
    "import { CloudFrontClient, DescribeFunctionCommand } from '@aws-sdk/client-cloudfront';\n" +
      "export function init() { return [new CloudFrontClient({ region: 'us-east-1' }), DescribeFunctionCommand]; }\n",
  );
  const reference = await bundle(refEntry, join(dir, 'reference.js'), { nodePaths: [join(PROJECT_ROOT, 'node_modules')] });
  const packaged = await packaging;

  const samples = coldStarts([...entries, reference], options.runs);
  const referenceColdStartMs = median(samples.at(-1)!);
  const bundles = HANDLERS.map((h, i) => {
    const zip = packaged ? join(packaged.dir, `${h.name}.zip`) : undefined;
    return {
      handler: h.name,
      bytes: zip ? statSync(zip).size : Number.NaN,
      unzippedBytes: zip ? zipEntries(zip).reduce((sum, e) => sum + e.size, 0) : Number.NaN,
      coldStartMs: median(samples[i]!),
      referenceColdStartMs,
      measuredBundleBytes: statSync(entries[i]!).size,
    };
  });
  return { bundles, reference: { bytes: statSync(reference).size, coldStartMs: referenceColdStartMs }, packageSeconds: packaged?.seconds ?? 0 };
}
