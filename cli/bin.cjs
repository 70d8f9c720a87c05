#!/usr/bin/env node
// `cf-autopublish` runs from a checkout after `npm ci`: tsx (a devDependency) loads the TypeScript.
// The SDK's notice that future releases will need Node 22 would precede every one-line answer on
// Node 20; the README says which Node versions are supported instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
require('./main.ts').run();
