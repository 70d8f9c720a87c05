#!/usr/bin/env node
// `cf-autopublish` runs from a checkout after `npm ci`: tsx (a devDependency) loads the TypeScript.
require('tsx/cjs/api').register();
require('./main.ts').run();
