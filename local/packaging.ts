/**
 * The service as it ships: `serverless package` run offline (osls + serverless-esbuild, no AWS
 * credentials, an empty HOME) in a throwaway snapshot of the project, the zips it writes, and the
 * esbuild settings of serverless.yml for bundles built outside serverless. The template test and the
 * bench both package through here.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { BuildOptions } from 'esbuild';
import { readServerlessConfig } from './serverless-rules';

/** This package's root, found from this module rather than the working directory. */
export const PROJECT_ROOT = join(__dirname, '..');

const SKIP = new Set(['node_modules', '.git', '.serverless', '.esbuild', 'coverage', 'dist']);

/** A copy of the project in `dir`, sharing node_modules through a symlink: packaging writes only there. */
export function snapshotProject(dir: string): string {
  cpSync(PROJECT_ROOT, dir, { recursive: true, filter: (src) => src === PROJECT_ROOT || !SKIP.has(basename(src)) });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

export interface PackageRun {
  /** serverless's exit code: 0 when it packaged. */
  readonly code: number | null;
  /** What it printed, stdout and stderr interleaved. */
  readonly output: string;
  readonly seconds: number;
  /** The project snapshot it ran in. */
  readonly projectDir: string;
  /** Where it wrote the template and the zips: `<projectDir>/.serverless`. */
  readonly outDir: string;
}

/**
 * `serverless package [args]` in a fresh snapshot under `scratch` (`<scratch>/<name>`, HOME
 * `<scratch>/<name>-home`), so parallel runs never share `.esbuild/` or `.serverless/`. No AWS_*
 * variable reaches it and HOME is empty: no credentials, no profile, no shared config. Resolves
 * whatever the exit code; the caller decides what a failure means.
 */
export function packageService(scratch: string, name: string, args: readonly string[] = []): Promise<PackageRun> {
  const projectDir = snapshotProject(join(scratch, name));
  const home = join(scratch, `${name}-home`);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, USERPROFILE: home };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  env.AWS_SDK_LOAD_CONFIG = '0';
  const serverless = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverless, 'package', ...args], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, seconds: (performance.now() - started) / 1000, projectDir, outDir: join(projectDir, '.serverless') }));
  });
}

export interface ZipEntry {
  readonly name: string;
  /** Uncompressed size. */
  readonly size: number;
  /** The entry's content as UTF-8 (stored or deflated entries). */
  read(): string;
}

/** The entries of a zip, from its central directory. */
export function zipEntries(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = buf.readUInt16LE(at + 10);
    const compressed = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const read = () => {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + compressed);
      return (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    };
    entries.push({ name: buf.toString('utf8', at + 46, at + 46 + nameLength), size, read });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

// serverless-esbuild's own options: it removes these before handing the rest to esbuild.
const PLUGIN_OPTIONS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

/**
 * The esbuild options serverless-esbuild builds the handlers with, from serverless.yml's
 * `custom.esbuild`: its own options removed, `exclude` turned into `external` as it does.
 */
export function lambdaBuildOptions(serverlessConfig: Record<string, unknown> = readServerlessConfig()): BuildOptions {
  const custom = serverlessConfig.custom as { esbuild?: Record<string, unknown> } | undefined;
  if (!custom?.esbuild) throw new Error('serverless.yml has no custom.esbuild');
  const settings = custom.esbuild;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const exclude = strings(settings.exclude);
  const options = Object.fromEntries(Object.entries(settings).filter(([key]) => !PLUGIN_OPTIONS.has(key)));
  // serverless-esbuild takes `plugins` as a file (relative to the service) exporting the plugin array.
  const plugins =
    typeof settings.plugins === 'string'
      ? (createRequire(join(PROJECT_ROOT, 'package.json'))(join(PROJECT_ROOT, settings.plugins)) as BuildOptions['plugins'])
      : undefined;
  return { ...options, ...(plugins ? { plugins } : {}), external: [...strings(settings.external), ...(exclude.includes('*') ? [] : exclude)] };
}
