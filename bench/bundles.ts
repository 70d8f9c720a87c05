/**
 * Scenario 3: the packaged handlers (`serverless package`, offline, in a throwaway copy of the
 * project) and their cold start, beside a reference bundle holding only CloudFrontClient and
 * DescribeFunctionCommand (the SDK's irreducible part), built with the same esbuild settings.
 *
 * Cold start = median over fresh `node` processes of: require the bundle, then build its clients
 * (for a handler: runtimeFromEnvironment(), what its first invocation does before any call; for the
 * reference: new CloudFrontClient). Node's own start-up is excluded (the same for all).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bundle, ROOT, scratchDir } from './common';

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
  { name: 'onFunctionChange', file: 'handlers/on-function-change.ts' },
  { name: 'driftSweep', file: 'handlers/drift-sweep.ts' },
];
const SKIP = new Set(['node_modules', '.git', '.serverless', '.esbuild', 'coverage', 'dist']);

async function packageService(): Promise<{ dir: string; seconds: number }> {
  const scratch = scratchDir('sls');
  const dir = join(scratch, 'project');
  cpSync(ROOT, dir, { recursive: true, filter: (src) => src === ROOT || !SKIP.has(basename(src)) });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(scratch, 'home'), AWS_SDK_LOAD_CONFIG: '0' };
  for (const key of Object.keys(env)) if (/^AWS_/.test(key) && key !== 'AWS_SDK_LOAD_CONFIG') delete env[key];
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(c) : reject(new Error(`serverless package failed (${c}):\n${output}`))));
  });
  void code;
  return { dir: join(dir, '.serverless'), seconds: (performance.now() - started) / 1000 };
}

/** Total uncompressed size of a zip's entries, from its central directory. */
function unzippedSize(file: string): number {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let offset = buf.readUInt32LE(eocd + 16);
  const count = buf.readUInt16LE(eocd + 10);
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += buf.readUInt32LE(offset + 24);
    offset += 46 + buf.readUInt16LE(offset + 28) + buf.readUInt16LE(offset + 30) + buf.readUInt16LE(offset + 32);
  }
  return total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Interleaved runs (handler, reference, handler…) so machine load hits both alike. */
function coldStarts(files: string[], runs: number): number[][] {
  const env = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_LAMBDA_FUNCTION_NAME: 'bench', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
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
  const packaging = options.packageIt ? packageService() : undefined;
  const entries: string[] = [];
  for (const h of HANDLERS) {
    const entry = join(dir, `${h.name}-entry.ts`);
    writeFileSync(
      entry,
      `export { handler } from ${JSON.stringify(join(ROOT, h.file))};\n` +
        `import { runtimeFromEnvironment } from ${JSON.stringify(join(ROOT, 'lib/runtime'))};\n` +
        'export function init() { return runtimeFromEnvironment(); }\n',
    );
    entries.push(await bundle(entry, join(dir, `${h.name}.js`)));
  }
  const refEntry = join(dir, 'reference-entry.ts');
  writeFileSync(
    refEntry,
    "import { CloudFrontClient, DescribeFunctionCommand } from '@aws-sdk/client-cloudfront';\n" +
      "export function init() { return [new CloudFrontClient({ region: 'us-east-1' }), DescribeFunctionCommand]; }\n",
  );
  const reference = await bundle(refEntry, join(dir, 'reference.js'), { nodePaths: [join(ROOT, 'node_modules')] });
  const packaged = await packaging;

  const samples = coldStarts([...entries, reference], options.runs);
  const referenceColdStartMs = median(samples.at(-1)!);
  const bundles = HANDLERS.map((h, i) => {
    const zip = packaged ? join(packaged.dir, `${h.name}.zip`) : undefined;
    return {
      handler: h.name,
      bytes: zip ? statSync(zip).size : Number.NaN,
      unzippedBytes: zip ? unzippedSize(zip) : Number.NaN,
      coldStartMs: median(samples[i]!),
      referenceColdStartMs,
      measuredBundleBytes: statSync(entries[i]!).size,
    };
  });
  if (packaged) void readdirSync(packaged.dir);
  return { bundles, reference: { bytes: statSync(reference).size, coldStartMs: referenceColdStartMs }, packageSeconds: packaged?.seconds ?? 0 };
}
