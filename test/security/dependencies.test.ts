/**
 * Supply chain: the lock file is committed and in step with package.json; we run no install scripts
 * of our own; and `dependencies` (what ships) is exactly the set of packages the handlers import,
 * found by bundling both handlers with esbuild (packages left external) and reading its metafile, so
 * type-only imports do not count and a stray runtime dependency fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

test('package.json has no install lifecycle scripts', () => {
  for (const script of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish']) {
    assert.equal(pkg.scripts?.[script], undefined, `scripts.${script} would run on npm ci`);
  }
});

test('package-lock.json is committed and lists exactly the dependencies of package.json', () => {
  const tracked = execFileSync('git', ['ls-files', '--error-unmatch', 'package-lock.json'], { cwd: root, encoding: 'utf8' });
  assert.equal(tracked.trim(), 'package-lock.json');
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
  };
  assert.deepEqual(lock.packages['']?.dependencies ?? {}, pkg.dependencies ?? {});
  assert.deepEqual(lock.packages['']?.devDependencies ?? {}, pkg.devDependencies ?? {});
});

test('dependencies are exactly the packages the handlers import at run time', async () => {
  const result = await build({
    entryPoints: ['handlers/on-function-change.ts', 'handlers/drift-sweep.ts', 'handlers/sweep-account.ts'].map((f) => new URL(f, root).pathname),
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    outdir: '/tmp/cfap-deps-check',
    logLevel: 'silent',
  });
  const imported = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtinModules.includes(imp.path)) continue;
      const parts = imp.path.split('/');
      imported.add(imp.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}).sort(), [...imported].sort(), 'package.json dependencies vs what the handlers import');
});
