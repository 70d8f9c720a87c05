/** Shared settings and helpers of the benchmark scenarios. */
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Emulator, Variants } from '../emulator/index';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../local/local-stack';
import { lambdaBuildOptions, PROJECT_ROOT } from '../local/packaging';
import { countedCloudFrontClient, type Counter } from './instrument';

/** The control plane the scenarios run against (issue 4): 20 ms per call, 25 calls/s, burst 25. */
export const LATENCY_MS = 20;
export const RATE = { ratePerSecond: 25, burst: 25 };
export const SEED = 4;

/** The code every bench function holds (plus a comment naming it and its version). */
export const FUNCTION_CODE = 'function handler(event) { return event.request; }';
/** The code every bench connection function holds (plus a comment naming it and its version): it decides, so the gate passes it. */
export const CONNECTION_FUNCTION_CODE = 'function connectionHandler(connection) { connection.allow(); }';

/** Reconciler settings, as the Lambda environment would hold them (CLOUDFRONT_MAX_CALLS_PER_SECOND…). */
export type Settings = Readonly<Record<string, string>>;

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cfap-bench-${prefix}-`));
}

/** A build of one entry: the entry module and every chunk it may load. */
export interface Bundle {
  /** The entry module (`.mjs`): what a process imports. */
  readonly file: string;
  /** Every file the build wrote (the entry and its chunks), as a zip would hold them. */
  readonly files: readonly string[];
  /** The files importing the entry reads: it and the chunks it imports statically, transitively. */
  readonly startFiles: readonly string[];
}

/**
 * Bundles `entry` (relative to the project) with the esbuild settings serverless.yml packages the
 * handlers with (ES modules split into chunks), as `<outfile without extension>.mjs` beside its
 * chunks; returns the entry module's path.
 */
export async function bundle(entry: string, outfile: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await bundleFiles(entry, outfile, extra)).file;
}

/** `bundle`, with every file the build wrote. */
export async function bundleFiles(entry: string, outfile: string, extra: Record<string, unknown> = {}): Promise<Bundle> {
  const name = basename(outfile, extname(outfile));
  const result = await build({
    ...lambdaBuildOptions(),
    logLevel: 'error',
    entryPoints: { [name]: resolve(PROJECT_ROOT, entry) },
    outdir: dirname(outfile),
    outExtension: { '.js': '.mjs' },
    metafile: true,
    ...extra,
  });
  const { outputs } = result.metafile;
  const files = Object.keys(outputs).map((f) => resolve(f));
  const file = join(dirname(outfile), `${name}.mjs`);
  if (!files.includes(file)) throw new Error(`esbuild wrote no ${file}`);
  const byPath = new Map(Object.entries(outputs).map(([f, output]) => [resolve(f), output]));
  const startFiles = new Set([file]);
  for (const f of startFiles) {
    for (const imported of byPath.get(f)?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) startFiles.add(resolve(imported.path));
  }
  return { file, files, startFiles: [...startFiles] };
}

/**
 * The local stack on the bench's control plane (LATENCY_MS per call, RATE), its reconciler's
 * CloudFront client built by the bench so that `reconciler` counts that client's calls.
 */
export async function startBenchStack(options: {
  functionQuota: number;
  variants?: Partial<Variants> | undefined;
  settings?: Settings | undefined;
  bus?: LocalStackOptions['bus'];
  eventPath?: LocalStackOptions['eventPath'];
  eventInvoker?: LocalStackOptions['eventInvoker'];
}): Promise<{ stack: LocalStack; reconciler: Counter }> {
  let reconciler: Counter | undefined;
  const stack = await startLocalStack({
    emulator: { functionQuota: options.functionQuota, latency: LATENCY_MS, rateLimit: RATE, ...(options.variants ? { variants: options.variants } : {}) },
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.eventPath ? { eventPath: options.eventPath } : {}),
    ...(options.eventInvoker ? { eventInvoker: options.eventInvoker } : {}),
    clients: ({ config, credentials }) => {
      const counted = countedCloudFrontClient(config, credentials);
      reconciler = counted.counter;
      return { cloudFront: counted.client };
    },
  });
  return { stack, reconciler: reconciler! };
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

/** Path patterns of the bench's distributions: with the default behaviour, 5 behaviours × 2 event types. */
const PATH_PATTERNS = ['/api/*', '/img/*', '/static/*', '/auth/*'];
const EVENT_TYPES = ['viewer-request', 'viewer-response'] as const;

/**
 * Associates each function (by ARN) with one cache-behaviour slot of a distribution, filling
 * distributions of 10 slots each (default + 4 path patterns, viewer-request and viewer-response), as
 * a site with a few functions per distribution would. Returns how many distributions it created.
 */
export function associateAll(emulator: Emulator, functionArns: readonly string[]): number {
  const slots = (1 + PATH_PATTERNS.length) * EVENT_TYPES.length;
  let distributionId = '';
  functionArns.forEach((functionArn, i) => {
    const slot = i % slots;
    if (slot === 0) distributionId = emulator.state.createDistribution({ comment: `bench site ${i / slots}`, pathPatterns: PATH_PATTERNS }).id;
    const behaviour = Math.floor(slot / EVENT_TYPES.length);
    const pathPattern = behaviour === 0 ? {} : { pathPattern: PATH_PATTERNS[behaviour - 1]! };
    emulator.state.associateFunction({ distributionId, functionArn, eventType: EVENT_TYPES[slot % EVENT_TYPES.length]!, ...pathPattern });
  });
  return Math.ceil(functionArns.length / slots);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
