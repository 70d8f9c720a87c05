/**
 * `npm run build` (and `npm pack`, through prepack): the CLI as one CommonJS file, dist/cli.js, for
 * Node 20, so the installed `cf-autopublish` needs neither tsx nor TypeScript. The bin, cli/bin.cjs,
 * requires it and calls run() when the sources are not beside it, as in the packed package.
 *
 * Our own code (cli/, lib/, local/, emulator/, handlers/) is bundled. The packages in `dependencies`
 * stay external: they are what the handlers ship with, npm installs them next to the CLI, and the
 * SDK is not bundled twice. Anything else the CLI imports (js-yaml, a devDependency, for the demo's
 * reading of serverless.yml) is bundled, so the installed package never requires an undeclared
 * package (test/cli/package.test.ts checks the tarball in an empty folder).
 *
 * Layout the bundle relies on: dist/ is one level below the package root, as local/ is in a checkout,
 * so `join(__dirname, '..', 'serverless.yml')` (local/serverless-rules.ts) finds the serverless.yml
 * that `files` ships. The emulator's TestFunction worker is inline source (emulator/runtime.ts,
 * `eval: true`), so there is no worker file to ship.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const ROOT = join(__dirname, '..');
export const CLI_OUTFILE = join(ROOT, 'dist', 'cli.js');

/** The runtime dependencies the package declares: left external, installed by npm. */
export function declaredDependencies(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {});
}

export function cliBuildOptions(outfile = CLI_OUTFILE): BuildOptions {
  return {
    entryPoints: [join(ROOT, 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Marking a package external covers its subpaths too (@aws-sdk/client-s3/..., if ever imported).
    external: declaredDependencies(),
    // Not minified: a stack trace from a user's terminal should be readable without a source map.
    minify: false,
    sourcemap: false,
    legalComments: 'inline',
    // The bin's shebang. Nothing else goes before "use strict", or the bundle would not be strict.
    banner: { js: '#!/usr/bin/env node' },
    // main.ts ends with `if (require.main === module) run()`: in the bundle `module` is the bundle's,
    // so `node dist/cli.js` runs, and the bin requiring it (then calling run()) does not run it twice.
    logOverride: { 'commonjs-variable-in-esm': 'silent' },
    metafile: true,
    logLevel: 'warning',
  };
}

/** The packages (not node: built-ins) the bundle still requires at run time. */
export function externalPackages(metafile: Metafile): string[] {
  const packages = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtinModules.includes(imp.path)) continue;
      const parts = imp.path.split('/');
      packages.add(imp.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...packages].sort();
}

export async function buildCli(outfile = CLI_OUTFILE): Promise<{ outfile: string; externals: string[] }> {
  const result = await build(cliBuildOptions(outfile));
  const externals = externalPackages(result.metafile!);
  const undeclared = externals.filter((p) => !declaredDependencies().includes(p));
  if (undeclared.length > 0) throw new Error(`dist/cli.js would require undeclared packages: ${undeclared.join(', ')}`);
  return { outfile, externals };
}

if (require.main === module) {
  buildCli().then(
    ({ outfile, externals }) => console.error(`built ${outfile.slice(ROOT.length + 1)} (external: ${externals.join(', ')})`),
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  );
}
