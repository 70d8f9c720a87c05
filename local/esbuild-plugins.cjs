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

/**
 * lib/runtime.ts `import()`s every gateway but CloudFront's, so that a cold start evaluates only the
 * clients the settings use. esbuild bundles such a module lazily (its code runs on the first call),
 * but a lazily bundled module that imports `{ S3Client, GetObjectCommand }` from a client's index runs
 * the whole index: every command of the service lands in the bundle (+97 KB for SSM alone, measured).
 * So an import of a client package from our own code is served as the client and command files it
 * names (the package's ES build: `dist-es/<X>Client.js`, `dist-es/commands/<X>Command.js`); anything
 * else it names, or a file not where the convention puts it, keeps the package's index. Tests and
 * tsx keep importing the package itself (the mocks replace its classes).
 */
const SDK_CLIENT = /^@aws-sdk\/client-[a-z0-9-]+$/;
const sdkClientFilesOnly = {
  name: 'sdk-client-files-only',
  setup(build) {
    const { dirname, join, sep } = require('node:path');
    const { existsSync } = require('node:fs');
    build.onResolve({ filter: SDK_CLIENT }, (args) => {
      // An alias (the bench's stubbed clients) is the build's own choice: esbuild applies it.
      if (build.initialOptions.alias?.[args.path] !== undefined) return undefined;
      if (!args.importer || args.importer.includes(`${sep}node_modules${sep}`) || !existsSync(args.importer)) return undefined;
      const source = readFileSync(args.importer, 'utf8');
      const escaped = args.path.replace(/[/-]/g, '\\$&');
      const statement = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${escaped}['"]`).exec(source);
      if (!statement) return undefined;
      const names = statement[1]
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '' && !n.startsWith('type '));
      let root;
      try {
        root = dirname(require.resolve(`${args.path}/package.json`, { paths: [args.resolveDir] }));
      } catch {
        return undefined;
      }
      const files = names.map((n) =>
        /^\w+Client$/.test(n) ? join(root, 'dist-es', `${n}.js`) : /^\w+Command$/.test(n) ? join(root, 'dist-es', 'commands', `${n}.js`) : undefined,
      );
      if (names.length === 0 || files.some((f) => f === undefined || !existsSync(f))) return undefined;
      const contents = names.map((n, i) => `export { ${n} } from ${JSON.stringify(files[i])};`).join('\n');
      return { path: `${args.path}#${names.join(',')}`, namespace: 'sdk-client-files', pluginData: { contents, resolveDir: root } };
    });
    build.onLoad({ filter: /.*/, namespace: 'sdk-client-files' }, (args) => ({
      contents: args.pluginData.contents,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

/**
 * @middy/core imports `ReadableStream` from node:stream/web at its top for one test, `body instanceof
 * ReadableStream`, made only when a handler streams its response (`streamifyResponse`), which ours
 * never do. Importing node:stream/web makes Node load and run its web streams implementation at every
 * cold start: about 6 ms, a third of what the handlers took over the CloudFront-only reference
 * (measured: docs/performance.md, "Cold start"). So @middy/core gets a stand-in whose `instanceof`
 * asks the real class (the global one, the same class), loaded the first time a test is made. Only
 * when every use of the name in the importer is that test; otherwise the real module.
 */
const middyWithoutWebStreams = {
  name: 'middy-without-web-streams',
  setup(build) {
    const { sep } = require('node:path');
    build.onResolve({ filter: /^node:stream\/web$/ }, (args) => {
      if (!args.importer.includes(`${sep}node_modules${sep}@middy${sep}core${sep}`)) return undefined;
      const source = readFileSync(args.importer, 'utf8');
      // Uses of the name in code, not in strings (an error message names it).
      const code = source.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
      const uses = code.match(/\bReadableStream\b/g)?.length ?? 0;
      const imports = source.match(/import\s*\{\s*ReadableStream\s*\}\s*from\s*["']node:stream\/web["']/g)?.length ?? 0;
      const tests = source.match(/instanceof\s+ReadableStream\b/g)?.length ?? 0;
      if (imports !== 1 || uses !== imports + tests) return undefined;
      return { path: 'readable-stream-instanceof', namespace: 'middy-without-web-streams', sideEffects: false };
    });
    build.onLoad({ filter: /.*/, namespace: 'middy-without-web-streams' }, () => ({
      contents: 'export class ReadableStream { static [Symbol.hasInstance](value) { return value instanceof globalThis.ReadableStream; } }',
      loader: 'js',
    }));
  },
};

/**
 * A Lambda's credentials are in its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), where the SDK's default chain looks first. The rest of the chain (SSO, shared
 * ini files, credential processes, web identity, and the STS, SSO and sign-in clients they bring) is
 * about 100 KB that every cold start reads and parses, never to use. The bundles keep the default
 * chain's first link, the environment, and its last, the container and instance endpoints
 * (remoteProvider), in the same memoised chain; anything else (the CLI's profiles) runs unbundled.
 */
const lambdaCredentialChain = {
  name: 'lambda-credential-chain',
  setup(build) {
    const { dirname, join } = require('node:path');
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => {
      const root = dirname(require.resolve('@aws-sdk/credential-provider-node/package.json', { paths: [args.resolveDir] }));
      return { path: 'lambda-credential-chain', namespace: 'lambda-credential-chain', pluginData: { root } };
    });
    build.onLoad({ filter: /.*/, namespace: 'lambda-credential-chain' }, (args) => {
      const file = (name) => JSON.stringify(join(args.pluginData.root, 'dist-es', name));
      return {
        resolveDir: args.pluginData.root,
        loader: 'js',
        contents: [
          "import { fromEnv } from '@aws-sdk/credential-provider-env';",
          "import { CredentialsProviderError } from '@smithy/core/config';",
          // defaultProvider.js's own test, copied rather than imported: that file `import()`s the SSO,
          // ini, process and web-identity providers, and each would ship as a chunk never loaded.
          'const credentialsTreatedAsExpired = (credentials) => credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300000;',
          `import { remoteProvider } from ${file('remoteProvider.js')};`,
          `import { memoizeChain } from ${file('runtime/memoize-chain.js')};`,
          'export const defaultProvider = (init = {}) => memoizeChain([',
          '  async () => fromEnv(init)(),',
          '  async () => (await remoteProvider(init))(),',
          "  async () => { throw new CredentialsProviderError('Could not load credentials from the environment or the container', { tryNextLink: false, logger: init.logger }); },",
          '], credentialsTreatedAsExpired);',
        ].join('\n'),
      };
    });
  },
};

/**
 * The handlers are ES modules split by esbuild (serverless.yml custom.esbuild: `splitting`): each
 * module lib/runtime.ts loads lazily is a chunk, read only when loaded. serverless-esbuild builds each
 * handler file on its own into one directory (handlers/) and zips everything there into each
 * function's zip except the other handlers' files (a path beginning `handlers/<other handler>.`).
 * So each build puts its chunks in a directory named after its handler,
 * `<handler>.chunks/[name]-[hash]`: every zip holds its own handler's chunks and no other's. A build
 * that names its chunks itself, or has several entries, keeps esbuild's default.
 */
const chunksBesideHandler = {
  name: 'chunks-beside-handler',
  setup(build) {
    const { basename, extname } = require('node:path');
    const options = build.initialOptions;
    // The name the entry's output takes: `{ out }` or an object's key when given, else the file's name.
    const names = Array.isArray(options.entryPoints)
      ? options.entryPoints.map((e) => (typeof e === 'string' ? basename(e, extname(e)) : (e.out ?? basename(e.in, extname(e.in)))))
      : Object.keys(options.entryPoints ?? {});
    if (!options.splitting || options.chunkNames !== undefined || names.length !== 1) return;
    options.chunkNames = `${names[0]}.chunks/[name]-[hash]`;
  },
};

module.exports = [sdkPackageVersionOnly, sdkClientFilesOnly, middyWithoutWebStreams, lambdaCredentialChain, chunksBesideHandler];
