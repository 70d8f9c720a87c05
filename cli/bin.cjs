#!/usr/bin/env node
// The `cf-autopublish` bin. In a checkout (cli/main.ts beside this file) it runs the TypeScript
// sources through tsx, a devDependency: an edit needs no build, and `npx cf-autopublish` works before
// any build. The installed package ships this file and dist/cli.js, not the sources (package.json
// `files`), so there it runs the compiled bundle and needs neither tsx nor TypeScript.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

if (existsSync(join(__dirname, 'main.ts'))) {
  require('tsx/cjs/api').register();
  require('./main.ts').run();
} else if (existsSync(join(__dirname, '..', 'dist', 'cli.js'))) {
  require('../dist/cli.js').run();
} else {
  // npm builds a package from a git URL with `prepare` only, which we do not have (it would run on
  // every npm ci): such an install has no dist/. Say so rather than print a module-not-found trace.
  process.stderr.write(
    'cf-autopublish: this install has no dist/cli.js (it was not built); install a tarball made by `npm pack` instead (README, "The CLI")\n',
  );
  process.exitCode = 1;
}
