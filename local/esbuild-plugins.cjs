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

/** The build's entry file when it has exactly one (serverless-esbuild builds each handler alone), else undefined. */
function singleEntry(build) {
  const { resolve } = require('node:path');
  const options = build.initialOptions;
  const entries = Array.isArray(options.entryPoints)
    ? options.entryPoints.map((e) => (typeof e === 'string' ? e : e.in))
    : Object.values(options.entryPoints ?? {});
  return entries.length === 1 ? resolve(options.absWorkingDir ?? process.cwd(), entries[0]) : undefined;
}

/**
 * The SDK's shared code is reached through index modules that re-export a whole area:
 * `@smithy/core/protocols` holds the JSON, XML and RPC protocols alike, `@aws-sdk/core/protocols` the
 * JSON, Query and XML ones, `@smithy/core/checksum` S3's MD5. esbuild places a module in the chunks of
 * every entry that reaches it by a static import, used or not: since the CloudFront client imports
 * those indexes, every file they re-export was read and parsed at each cold start, though only the
 * lazily loaded clients (SQS, SSM, STS, Organizations, EventBridge, SNS: JSON and Query; S3: MD5,
 * checksum streams) use them (about 33 KB: docs/performance.md, "Cold start").
 *
 * So an import of such an index (`@smithy/core`, `@aws-sdk/core` and their `/<area>` subpaths) is
 * served as the files that define the names it imports, as webpack does for packages that declare
 * themselves free of side effects (both do, in their package.json `sideEffects`): each module then
 * lands only in the chunks of the code that uses it. What the index defines itself (a few bound
 * functions) is served from one module per index holding just that part, so every definition still
 * exists once; a file the package lists as having side effects is imported whenever its index is.
 * An index this cannot read (a re-export of everything, `export *`), a package that does not
 * declare which files have side effects, or an importer whose import it cannot read, keeps the
 * index whole (still one module: the same re-exports and the same local part).
 */
const SDK_INDEX = /^@(smithy|aws-sdk)\/core(\/[a-zA-Z0-9-]+)?$/;
const REEXPORT = /export\s*\{([^}]*)\}\s*from\s*["']([^"']+)["'];?/g;
const sdkIndexFilesOnly = {
  name: 'sdk-index-files-only',
  setup(build) {
    const { dirname, join } = require('node:path');
    const { existsSync } = require('node:fs');
    const NAMESPACE = 'sdk-index-files';
    const entry = singleEntry(build);
    /** Index file -> { exported: Map(name -> { from, name }), local: its source without the re-exports, sideEffects: [from] }, or null: kept whole. */
    const indexes = new Map();
    const names = (list) =>
      list
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '')
        .map((n) => {
          const [imported, as] = n.split(/\s+as\s+/);
          return { imported, as: as ?? imported };
        });
    const packageRoot = (file) => {
      for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
      return undefined;
    };
    const readIndex = (file) => {
      if (indexes.has(file)) return indexes.get(file);
      let index = null;
      const source = readFileSync(file, 'utf8');
      const root = packageRoot(file);
      const declared = root ? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).sideEffects : undefined;
      const listed =
        declared === false ? [] : Array.isArray(declared) && declared.every((f) => !/[*?{[]/.test(f)) ? declared.map((f) => join(root, f)) : undefined;
      if (listed && !/export\s*\*|export\s+default/.test(source)) {
        const exported = new Map();
        for (const [, list, from] of source.matchAll(REEXPORT)) for (const n of names(list)) exported.set(n.as, { from, name: n.imported });
        const local = source.replace(REEXPORT, '');
        const sideEffects = [...new Set([...exported.values()].map((e) => e.from))].filter(
          (from) => from.startsWith('.') && listed.some((f) => f === join(dirname(file), from) || f === `${join(dirname(file), from)}.js`),
        );
        index = { exported, local, sideEffects };
      }
      indexes.set(file, index);
      return index;
    };
    /** The names `source` imports statically from `spec`, or undefined when some import of it is of another form. */
    const importedNames = (source, spec) => {
      const escaped = spec.replace(/[/-]/g, '\\$&');
      const all = source.match(new RegExp(`(from|import)\\s*["']${escaped}["']`, 'g')) ?? [];
      const braces = [...source.matchAll(new RegExp(`(?:import|export)\\s*\\{([^}]*)\\}\\s*from\\s*["']${escaped}["']`, 'g'))];
      if (braces.length === 0 || braces.length !== all.length) return undefined;
      return [...new Set(braces.flatMap(([, list]) => names(list).map((n) => n.imported)))].sort();
    };
    build.onResolve({ filter: SDK_INDEX }, async (args) => {
      if (args.pluginData?.sdkIndexInner) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { sdkIndexInner: true } });
      if (resolved.errors.length > 0 || resolved.namespace !== 'file') return undefined;
      const index = readIndex(resolved.path);
      if (!index) return undefined;
      const source =
        args.namespace === NAMESPACE ? args.pluginData?.contents : args.importer && existsSync(args.importer) ? readFileSync(args.importer, 'utf8') : undefined;
      const wanted = args.kind === 'import-statement' && source !== undefined ? importedNames(source, args.path) : undefined;
      // Loaded lazily, the whole index also imports the module that loads it (see lazy-modules-import-the-entry).
      const loader = args.kind === 'dynamic-import' && args.namespace === 'file' ? (entry ?? args.importer) : undefined;
      const key = wanted ? wanted.join(',') : loader ? `*<${loader}` : '*';
      return {
        path: `${resolved.path}#${key}`,
        namespace: NAMESPACE,
        sideEffects: index.sideEffects.length > 0,
        pluginData: { index: resolved.path, wanted, loader },
      };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const file = args.pluginData.index;
      const index = readIndex(file);
      const resolveDir = dirname(file);
      if (args.path.endsWith('#local')) return { contents: index.local, resolveDir, loader: 'js', pluginData: { contents: index.local } };
      const localModule = JSON.stringify(`${file}#local`);
      const lines = index.sideEffects.map((from) => `import ${JSON.stringify(from)};`);
      if (args.pluginData.wanted === undefined) {
        // The whole index: the same re-exports, and its own part from the one module that holds it.
        for (const [as, { from, name }] of index.exported) lines.push(`export { ${name} as ${as} } from ${JSON.stringify(from)};`);
        lines.push(`export * from ${localModule};`);
        if (args.pluginData.loader) lines.push(`import ${JSON.stringify(args.pluginData.loader)};`);
      } else {
        for (const as of args.pluginData.wanted) {
          const e = index.exported.get(as);
          lines.push(e ? `export { ${e.name} as ${as} } from ${JSON.stringify(e.from)};` : `export { ${as} } from ${localModule};`);
        }
      }
      const contents = lines.join('\n');
      return { contents, resolveDir, loader: 'js', pluginData: { contents } };
    });
    // The index's own part, imported as `<index>#local` from the modules above.
    build.onResolve({ filter: /#local$/, namespace: NAMESPACE }, (args) => ({
      path: args.path,
      namespace: NAMESPACE,
      sideEffects: false,
      pluginData: { index: args.path.slice(0, -'#local'.length) },
    }));
  },
};

/**
 * A cold start reads the entry and every chunk it imports statically, and each file costs Node's ES
 * module loader time of its own, besides its bytes (about 0.4 ms a file, measured with empty modules:
 * docs/performance.md, "Cold start"). esbuild groups modules into chunks by the set of entries that
 * reach them, each lazily loaded module counting as an entry: the code a start needs was cut into as
 * many chunks (11) as there were sets of lazily loaded modules (the gateways lib/runtime.ts loads, the
 * SDK's credential providers and event streams) sharing some of it. So every module loaded with
 * `import()` also imports the build's entry statically (its loader when the build has several
 * entries). The entry has been evaluated before any `import()` can run, so nothing more is
 * evaluated, but every lazily loaded module now reaches all that the entry reaches: the start code
 * is one chunk beside the entry, and only what the lazily loaded modules alone use is cut by them.
 */
const lazyModulesImportTheEntry = {
  name: 'lazy-modules-import-the-entry',
  setup(build) {
    const { join, sep } = require('node:path');
    /** A lazily loaded module's file -> the module it imports: the build's entry, or its loader. */
    const loaders = new Map();
    const entry = singleEntry(build);
    const inNodeModules = (file) => file.includes(`${sep}node_modules${sep}`);
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.namespace !== 'file' || !args.importer || args.pluginData?.lazyInner) return undefined;
      if (/^\.\.?\//.test(args.path)) {
        // Our own modules, without extension (lib/runtime.ts's `import('./sqs-gateway')`).
        if (!inNodeModules(args.importer)) loaders.set(join(args.resolveDir, args.path), entry ?? args.importer);
        return undefined;
      }
      // The SDK's (its credential providers'): resolved as the build would, then remembered. The SDK's
      // index modules are left to sdk-index-files-only, which does the same for them.
      if (!inNodeModules(args.importer) || SDK_INDEX.test(args.path) || args.path.startsWith('node:')) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { lazyInner: true },
      });
      if (resolved.errors.length > 0 || resolved.namespace !== 'file' || resolved.external) return undefined;
      loaders.set(resolved.path, entry ?? args.importer);
      return { path: resolved.path, namespace: 'file', sideEffects: resolved.sideEffects };
    });
    build.onLoad({ filter: /\.(ts|m?js)$/ }, (args) => {
      const loader = loaders.get(args.path) ?? (inNodeModules(args.path) ? undefined : loaders.get(args.path.replace(/\.ts$/, '')));
      if (loader === undefined) return undefined;
      return { contents: `${readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(loader)};\n`, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
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

module.exports = [
  sdkPackageVersionOnly,
  sdkClientFilesOnly,
  sdkIndexFilesOnly,
  lazyModulesImportTheEntry,
  middyWithoutWebStreams,
  lambdaCredentialChain,
  chunksBesideHandler,
];
