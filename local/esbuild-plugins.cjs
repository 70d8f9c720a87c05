// esbuild plugins for the Lambda bundles (serverless.yml: custom.esbuild.plugins). Plain CommonJS:
// serverless-esbuild requires this file as it is.
const { readFileSync } = require('node:fs');

/**
 * Every AWS SDK client imports its whole package.json for one field, `version` (its user agent); a
 * JSON default import cannot be tree-shaken, so each client carried its dependency list, scripts and
 * metadata (about 2 KB each, eight clients in a handler). Serve the SDK's package.json files as just
 * their name and version: what the SDK reads is unchanged, and the handlers' zips stay under their
 * 250 KB target (test/serverless-template.test.ts).
 */
const sdkPackageVersionOnly = {
  name: 'sdk-package-version-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ }, (args) => {
      const { name, version } = JSON.parse(readFileSync(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};

module.exports = [sdkPackageVersionOnly];
