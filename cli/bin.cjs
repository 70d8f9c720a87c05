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
} else {
  require('../dist/cli.js').run();
}
