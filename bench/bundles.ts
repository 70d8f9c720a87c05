/**
 * The bundles: the packaged handlers (`serverless package`, offline, in a throwaway copy of the
 * project: local/packaging.ts) and their cold start, beside a reference bundle holding only
 * CloudFrontClient and DescribeFunctionCommand (the SDK's irreducible part), built with the same
 * esbuild settings (serverless.yml's custom.esbuild): ES modules split into chunks, as they ship.
 * Every size below counts a build's entry and all its chunks (what the zip holds); `startBytes`
 * counts what importing the entry reads (it and the chunks it imports statically).
 *
 * Cold start = median over fresh `node` processes of: import the bundle, then build its runtime and
 * handler (what its first invocation does before any call: make…(createRuntime(loadConfig(settings)))
 * with the default settings; for the reference: new CloudFrontClient). Node's own start-up is excluded
 * (the same for all).
 *
 * What one SDK client costs a handler (the gate's @aws-sdk/client-s3, the failure queue's
 * client-sqs): the same entry built again with the same esbuild settings, the client's package
 * aliased to a stub exporting the names lib/ imports from it (a class with a constructor and a
 * `send`), so esbuild drops the package and keeps everything else. Bytes = the difference between
 * the two builds. Zipped = the difference of their deflate streams at zlib level 1, the level whose
 * output is byte for byte the size of the entry `serverless package` writes (checked: the packaged
 * zip minus our deflate of the same bundle leaves only the zip's headers, `zipOverheadBytes`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { packageService, PROJECT_ROOT, zipEntries } from '../local/packaging';
import { type Bundle, bundleFiles, scratchDir } from './common';

export interface BundleResult {
  handler: string;
  /** The zip as deployed. */
  bytes: number;
  unzippedBytes: number;
  coldStartMs: number;
  referenceColdStartMs: number;
  /** The esbuild bundle the cold start was measured on (same modules as the zip's), entry and chunks. */
  measuredBundleBytes: number;
  /** What a cold start of that bundle reads: the entry and the chunks it imports statically. */
  startBytes: number;
  /** Our esbuild build of the handler file alone (the zip's files, same settings), entry and chunks. */
  handlerBundleBytes: number;
  /** The zip minus the deflate streams (level 1) of our own build's files: its headers, when the level matches. */
  zipOverheadBytes: number;
  /** What each SDK client costs this handler: the bundle as shipped minus one built without it. */
  clientCosts: ClientCost[];
}

export interface ClientCost {
  /** The packages stubbed out, e.g. ['@aws-sdk/client-s3']. */
  without: string[];
  /** Bytes the package(s) add to the unzipped bundle. */
  bytes: number;
  /** Bytes they add to the zip (deflate level 1, as packaged). */
  zippedBytes: number;
  /** The zip without them: the packaged zip minus `zippedBytes` (NaN when packaging was skipped). */
  zipWithoutBytes: number;
  unzippedWithoutBytes: number;
  /** Cold start of the build without them (same measure as the handler's). */
  coldStartWithoutMs: number;
}

export interface BundlesReport {
  bundles: BundleResult[];
  reference: { bytes: number; startBytes: number; coldStartMs: number };
  packageSeconds: number;
}

/** Stubs for the clients whose cost is measured: the names lib/ imports from each package. */
const STUBS: Record<string, string> = {
  '@aws-sdk/client-s3':
    'export class S3Client { constructor(config) { this.config = config; } send() { throw new Error("stub"); } }\nexport class GetObjectCommand { constructor(input) { this.input = input; } }\n' +
    'export class PutObjectCommand { constructor(input) { this.input = input; } }\nexport class ListObjectsV2Command { constructor(input) { this.input = input; } }\n',
  '@aws-sdk/client-sqs':
    'export class SQSClient { constructor(config) { this.config = config; } send() { throw new Error("stub"); } }\nexport class SendMessageCommand { constructor(input) { this.input = input; } }\n' +
    'export class SendMessageBatchCommand { constructor(input) { this.input = input; } }\n',
};
/** The builds measured against the shipped one, each without these packages. */
const WITHOUT: string[][] = [['@aws-sdk/client-s3'], ['@aws-sdk/client-sqs'], ['@aws-sdk/client-s3', '@aws-sdk/client-sqs']];

/** The size of the files' deflate streams at the level `serverless package` zips with (see above). */
const deflated = (b: Bundle) => b.files.reduce((sum, file) => sum + deflateRawSync(readFileSync(file), { level: 1 }).length, 0);
const bytesOf = (files: readonly string[]) => files.reduce((sum, file) => sum + statSync(file).size, 0);

/**
 * The handler build's output name, the one serverless-esbuild gives it (`on-function-change.js`): the
 * entry imports its chunks from a directory named after it (`<name>.chunks/`, local/esbuild-plugins.cjs),
 * so another name would change the bytes measured against the zip's.
 */
const shippedName = (file: string) => `${basename(file, extname(file))}.js`;

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
  // An ES module, as the Lambda runtime loads an .mjs handler: import it, then build what its first invocation builds.
  const script = 'const t=performance.now();(await import(process.argv[1])).init();process.stdout.write(String(performance.now()-t))';
  for (let r = 0; r < runs; r++) {
    files.forEach((file, i) => {
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { env, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`cold start of ${file} failed: ${out.stderr}`);
      samples[i]!.push(Number(out.stdout));
    });
  }
  return samples;
}

export async function runBundles(options: { runs: number; packageIt: boolean }): Promise<BundlesReport> {
  const dir = scratchDir('cold');
  const packaging = options.packageIt ? packageHandlers() : undefined;
  const entries: Bundle[] = [];
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
    entries.push(await bundleFiles(entry, join(dir, `${h.name}.js`)));
  }
  const stubFiles = Object.fromEntries(
    Object.entries(STUBS).map(([pkg, text], i) => {
      const file = join(dir, `stub-${i}.mjs`);
      writeFileSync(file, text);
      return [pkg, file];
    }),
  );
  // Per handler, per WITHOUT entry, with those packages aliased to their stubs: the cold-start entry,
  // and the handler file alone as serverless packages it (the sizes: the same files as the zip's).
  // Each build in a directory of its own: builds of one entry name their chunks alike.
  const stubbed: Bundle[][] = [];
  const sized: { shipped: Bundle; without: Bundle[] }[] = [];
  for (const [i, h] of HANDLERS.entries()) {
    const builds: Bundle[] = [];
    const without: Bundle[] = [];
    for (const [j, packages] of WITHOUT.entries()) {
      const alias = Object.fromEntries(packages.map((p) => [p, stubFiles[p]!]));
      builds.push(await bundleFiles(join(dir, `${h.name}-entry.ts`), join(dir, `without-${j}`, `${h.name}-entry.js`), { alias }));
      without.push(await bundleFiles(h.file, join(dir, `without-${j}`, 'handlers', shippedName(h.file)), { alias }));
    }
    stubbed[i] = builds;
    sized[i] = { shipped: await bundleFiles(h.file, join(dir, 'handlers', shippedName(h.file))), without };
  }
  const refEntry = join(dir, 'reference-entry.ts');
  writeFileSync(
    refEntry,
    "import { CloudFrontClient, DescribeFunctionCommand } from '@aws-sdk/client-cloudfront';\n" +
      "export function init() { return [new CloudFrontClient({ region: 'us-east-1' }), DescribeFunctionCommand]; }\n",
  );
  const reference = await bundleFiles(refEntry, join(dir, 'reference.js'), { nodePaths: [join(PROJECT_ROOT, 'node_modules')] });
  const packaged = await packaging;

  const samples = coldStarts(
    [...entries, ...stubbed.flat(), reference].map((b) => b.file),
    options.runs,
  );
  const referenceColdStartMs = median(samples.at(-1)!);
  const bundles = HANDLERS.map((h, i) => {
    const zip = packaged ? join(packaged.dir, `${h.name}.zip`) : undefined;
    const bytes = zip ? statSync(zip).size : Number.NaN;
    const unzippedBytes = zip ? zipEntries(zip).reduce((sum, e) => sum + e.size, 0) : Number.NaN;
    const shipped = sized[i]!.shipped;
    const clientCosts = WITHOUT.map((packages, j): ClientCost => {
      const without = sized[i]!.without[j]!;
      const zippedBytes = deflated(shipped) - deflated(without);
      return {
        without: packages,
        bytes: bytesOf(shipped.files) - bytesOf(without.files),
        zippedBytes,
        zipWithoutBytes: bytes - zippedBytes,
        unzippedWithoutBytes: bytesOf(without.files),
        coldStartWithoutMs: median(samples[HANDLERS.length + i * WITHOUT.length + j]!),
      };
    });
    return {
      handler: h.name,
      bytes,
      unzippedBytes,
      coldStartMs: median(samples[i]!),
      referenceColdStartMs,
      measuredBundleBytes: bytesOf(entries[i]!.files),
      startBytes: bytesOf(entries[i]!.startFiles),
      handlerBundleBytes: bytesOf(shipped.files),
      zipOverheadBytes: bytes - deflated(shipped),
      clientCosts,
    };
  });
  return {
    bundles,
    reference: { bytes: bytesOf(reference.files), startBytes: bytesOf(reference.startFiles), coldStartMs: referenceColdStartMs },
    packageSeconds: packaged?.seconds ?? 0,
  };
}
