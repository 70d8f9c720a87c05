/**
 * `cf-autopublish`: the reconciler from a terminal, against a real account (standard credential
 * chain) or the embedded emulator. It calls the same lib/ code as the Lambdas.
 */
import { readFileSync } from 'node:fs';
import { version } from '../package.json';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../lib/config';
import { inspectFunctions } from '../lib/inspect';
import { describeError } from '../lib/errors';
import { type Outcome, reconcile, ReconcileError } from '../lib/reconcile';
import { createRuntime, type Runtime } from '../lib/runtime';
import { createObservability } from '../lib/report';
import { isFunctionName } from '../lib/function-ref';
import { createS3Client, s3Gateway } from '../lib/s3-gateway';
import { summariseSweep, sweep, SweepListingError } from '../lib/sweep';
import { createCloudFrontClient } from '../lib/cloudfront-gateway';
import { ACTIVE, interpretPause, pauseValue } from '../lib/pause';
import { createSsmClient, pauseParameterStore } from '../lib/ssm-gateway';
import { runDemo } from './demo';
import { type HistoryAccess, runDiff, runHistory, runRollback } from './history-command';
import { runOrganizationDemo } from './org-demo';
import { runEmulator } from './emulator-command';
import { runTest, S3ReadError } from './test-command';
import { runWait } from './wait-command';
import { type Io, UsageError } from './io';
import { commandHelp, isCommand, type Parsed, parseCommandLine, USAGE } from './commands';
import { sweepProgress } from './progress';
import { table } from './table';
import { printableIo } from './terminal';
import { contractJson } from './json-output';
import { EXIT } from './exit-codes';
import { kindOption, resolveFunction, unreadRef } from './function-target';

export type { Io } from './io';

export { USAGE } from './commands';

/** Settings errors name the CLI option, not the environment variable behind it. */
const OPTION_OF: Record<string, string> = {
  AUTO_PUBLISH_TAG_KEY: '--tag-key',
  AUTO_PUBLISH_TAG_VALUE: '--tag-value',
  CLOUDFRONT_ENDPOINT: '--endpoint',
  HISTORY_BUCKET: '--history-bucket',
};

export async function main(argv: readonly string[], terminal: Io): Promise<number> {
  // Every line printed below may hold what a server sent (cli/terminal.ts).
  const io = printableIo(terminal);
  let parsed: Parsed | undefined;
  try {
    parsed = parseCommandLine(argv);
    const { command, args: rest } = parsed;
    if (parsed.values.version) {
      io.out(`cf-autopublish ${version}`);
      return 0;
    }
    if (command === undefined) {
      // `help sweep` as `sweep --help`; bare `help` or `--help` as the overview.
      const topic = rest[0];
      if (topic !== undefined && !isCommand(topic)) throw new UsageError(`help: unknown command "${topic}"`);
      if (rest.length > 1) throw new UsageError(`help takes at most one command: unexpected "${rest[1]}"`);
      io.out(topic ? commandHelp(topic) : USAGE);
      return parsed.values.help || argv.includes('help') ? 0 : 2;
    }
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    switch (command) {
      case 'status':
        return await status(runtimeFrom(parsed, io.env), parsed, io);
      case 'pause': {
        const reason = parsed.values.reason?.trim();
        if (!reason) throw new UsageError('pause needs --reason TEXT: the reason is what every held outcome says');
        const store = pauseStoreFrom(parsed, io.env);
        await store.store.put(pauseValue(reason));
        io.out(`paused: ${store.name} = "${pauseValue(reason)}". Nothing is tested or published until \`cf-autopublish resume\`.`);
        return 0;
      }
      case 'resume': {
        const store = pauseStoreFrom(parsed, io.env);
        await store.store.put(ACTIVE);
        io.out(`resumed: ${store.name} = "${ACTIVE}". ${parsed.values.sweep ? 'Sweeping now.' : 'The next sweep publishes what was held.'}`);
        // Lambdas may keep the old value for PAUSE_CACHE_SECONDS; this sweep reads nothing cached.
        return parsed.values.sweep ? await runSweep(runtimeFrom(parsed, io.env), parsed, io, terminal) : 0;
      }
      case 'sweep':
        return await runSweep(runtimeFrom(parsed, io.env), parsed, io, terminal);
      case 'reconcile':
        return await reconcileOne(rest[0] as string, runtimeFrom(parsed, io.env), parsed, io);
      case 'test': {
        const runtime = runtimeFrom(parsed, io.env);
        // The S3 endpoint the gate's own reads use (configFrom: CloudFront's unless S3_ENDPOINT is set).
        const s3Endpoint = runtime.config.s3Endpoint;
        return await runTest(
          rest[0] as string,
          runtime,
          {
            kind: kindOption(parsed.values.kind),
            cases: parsed.values.cases,
            eventType: parsed.values['event-type'],
            stage: parsed.values.stage,
            json: parsed.values.json,
            s3: s3Gateway(createS3Client({ endpoint: s3Endpoint, ...clientOptions(parsed, io.env, s3Endpoint) })),
            s3Endpoint,
          },
          io,
        );
      }
      case 'wait':
        return await runWait(
          rest[0] as string,
          runtimeFrom(parsed, io.env),
          { kind: kindOption(parsed.values.kind), timeout: parsed.values.timeout, json: parsed.values.json },
          io,
        );
      case 'history':
        return await runHistory(rest[0] as string, kindOption(parsed.values.kind), historyAccess(parsed, io.env), parsed.values.json, io);
      case 'diff':
        return await runDiff(rest[0] as string, kindOption(parsed.values.kind), rest.slice(1), historyAccess(parsed, io.env), io);
      case 'rollback': {
        const access = historyAccess(parsed, io.env);
        const { config } = access.runtime;
        const operatorClient = createCloudFrontClient({
          endpoint: config.cloudFrontEndpoint,
          maxAttempts: config.maxAttempts,
          ...clientOptions(parsed, io.env, config.cloudFrontEndpoint),
        });
        return await runRollback(
          rest[0] as string,
          { kind: kindOption(parsed.values.kind), to: parsed.values.to, steps: parsed.values.steps, yes: parsed.values.yes, operatorClient },
          access,
          io,
        );
      }
      case 'emulator':
        return await runEmulator({ port: parsed.values.port, account: parsed.values.account, variants: parsed.values.variant }, io);
      case 'demo':
        if (parsed.values.accounts !== undefined) {
          if (parsed.values.keep) throw new UsageError('--keep runs the single-account demo only');
          return await runOrganizationDemo({ accounts: accountCount(parsed.values.accounts), io });
        }
        return await runDemo({ keep: parsed.values.keep ?? false, io });
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      // One line: the mistake and where the help is, not the whole usage.
      const command = error.command ?? parsed?.command;
      io.err(`cf-autopublish: ${error.message} (see cf-autopublish ${command ? `${command} ` : ''}--help)`);
      return 2;
    }
    const values = parsed?.values ?? {};
    const target = { endpoint: values.endpoint ?? io.env.CLOUDFRONT_ENDPOINT, profile: values.profile ?? io.env.AWS_PROFILE, env: io.env };
    io.err(`cf-autopublish: ${oneLine(explain(error, target))}`);
    return 1;
  }
}

/**
 * The same runtime a Lambda builds (pacing, retries, name guard), from the environment and the
 * options on top; quiet, since the CLI prints its own tables. It writes nothing back to the environment.
 */
function runtimeFrom(parsed: Parsed, env: NodeJS.ProcessEnv): Runtime {
  const config = configFrom(parsed, env);
  return createRuntime(config, { observability: createObservability({ quiet: true }), ...clientOptions(parsed, env, config.cloudFrontEndpoint) });
}

/** Region, profile and, for a loopback endpoint, credentials: the emulator accepts any signature. */
function clientOptions(parsed: Parsed, env: NodeJS.ProcessEnv, endpoint: string | undefined) {
  const profile = parsed.values.profile;
  const local = endpoint !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);
  const hasCredentials = env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || profile;
  return {
    region: parsed.values.region ?? 'us-east-1',
    ...(profile ? { profile } : {}),
    ...(local && !hasCredentials ? { credentials: { accessKeyId: 'cf-autopublish-cli', secretAccessKey: 'local' } } : {}),
  };
}

/** The history bucket, read with the operator's credentials: --history-bucket or HISTORY_BUCKET. */
function historyAccess(parsed: Parsed, env: NodeJS.ProcessEnv): HistoryAccess {
  const runtime = runtimeFrom(parsed, env);
  const { config } = runtime;
  if (!config.historyBucket) throw new UsageError('no history bucket: pass --history-bucket (the stack output HistoryBucketName) or set HISTORY_BUCKET');
  const s3 = s3Gateway(createS3Client({ endpoint: config.s3Endpoint, ...clientOptions(parsed, env, config.s3Endpoint ?? config.cloudFrontEndpoint) }));
  return { runtime, s3, bucket: config.historyBucket };
}

function configFrom(parsed: Parsed, env: NodeJS.ProcessEnv): Config {
  const v = parsed.values;
  const cloudFrontEndpoint = v.endpoint ?? env.CLOUDFRONT_ENDPOINT;
  const overrides: Record<string, string | undefined> = {
    ...env,
    ...(v.endpoint !== undefined ? { CLOUDFRONT_ENDPOINT: v.endpoint } : {}),
    // S3 (the gate's test cases) where CloudFront is, unless S3_ENDPOINT says otherwise: an endpoint
    // other than AWS is the emulator, which serves S3 path-style too.
    ...(!env.S3_ENDPOINT?.trim() && cloudFrontEndpoint?.trim() ? { S3_ENDPOINT: cloudFrontEndpoint } : {}),
    ...(v['history-bucket'] !== undefined ? { HISTORY_BUCKET: v['history-bucket'] } : {}),
    ...(v['tag-key'] !== undefined ? { AUTO_PUBLISH_TAG_KEY: v['tag-key'] } : {}),
    ...(v['tag-value'] !== undefined ? { AUTO_PUBLISH_TAG_VALUE: v['tag-value'] } : {}),
    ...(v['dry-run'] ? { DRY_RUN: 'true' } : {}),
  };
  try {
    return loadConfig(overrides);
  } catch (error) {
    // Named after what was typed: the option when given, the variable when it came from the environment.
    const option = error instanceof ConfigError ? OPTION_OF[error.variable] : undefined;
    if (error instanceof ConfigError && option && v[option.slice(2) as keyof typeof v] !== undefined) {
      throw new UsageError(error.message.replace(error.variable, option));
    }
    throw error;
  }
}

/** The pause parameter, read and written with the operator's own credentials (never the reconciler's role). */
function pauseStoreFrom(parsed: Parsed, env: NodeJS.ProcessEnv) {
  const v = parsed.values;
  const name = v['pause-parameter'] ?? env.PAUSE_PARAMETER ?? `/cloudfront-autopublish/${v.stage ?? 'dev'}/pause`;
  if (!/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(name)) throw new UsageError(`--pause-parameter: "${name}" is not an SSM parameter name`);
  if (v.stage !== undefined && !/^[a-zA-Z0-9-]{1,64}$/.test(v.stage)) throw new UsageError(`--stage: "${v.stage}" is not a stage name`);
  // The emulator serves SSM on its one endpoint; against AWS, SSM_ENDPOINT or the default.
  const endpoint = v.endpoint ?? env.SSM_ENDPOINT;
  const client = createSsmClient({ endpoint, ...clientOptions(parsed, env, endpoint) });
  return { name, store: pauseParameterStore(client, name) };
}

/** What status says of the pause: never fatal, since status must work for someone who cannot read SSM. */
async function pauseLine(parsed: Parsed, env: NodeJS.ProcessEnv): Promise<{ paused: boolean | null; reason?: string; parameter: string; error?: string }> {
  const { name, store } = pauseStoreFrom(parsed, env);
  try {
    const value = await store.get();
    const state = interpretPause(value);
    return state.paused ? { paused: true, reason: state.reason, parameter: name } : { paused: false, parameter: name };
  } catch (error) {
    return { paused: null, parameter: name, error: describeError(error) };
  }
}

async function status(runtime: Runtime, parsed: Parsed, io: Io): Promise<number> {
  const [states, pause] = await Promise.all([inspectFunctions(runtime.cloudfrontFor(undefined), runtime.policy), pauseLine(parsed, io.env)]);
  const outOfSync = states.filter((s) => s.optedIn && !s.inSync).map((s) => s.name);
  if (parsed.values.json) {
    const functions = states.map(({ name, arn, tagged, kind, ...state }) => ({ functionName: name, functionArn: arn, kind, tags: tagged, ...state }));
    io.out(contractJson('status', { functions, outOfSync, pause }));
  } else {
    const rows = states.map((s) => [
      s.name,
      s.kind,
      s.optedIn ? 'yes' : 'no',
      s.developmentStatus,
      s.developmentEtag ?? '-',
      s.liveEtag ?? '(never published)',
      s.inSync ? 'yes' : 'NO',
      s.keyValueStores.map((arn) => arn.split('/').pop()).join(',') || '-',
    ]);
    io.out(table(['NAME', 'KIND', 'OPTED IN', 'DEV STATUS', 'DEV ETAG', 'LIVE ETAG', 'IN SYNC', 'KEYVALUESTORE'], rows));
    io.out(`${states.length} function(s); ${outOfSync.length} opted in and not live.`);
    io.out(
      pause.paused === null
        ? `Pause: unknown, ${pause.parameter} could not be read (${pause.error})`
        : pause.paused
          ? `Pause: PAUSED (${pause.parameter}: "${pause.reason}"): nothing is published until \`cf-autopublish resume\``
          : `Pause: not paused (${pause.parameter})`,
    );
  }
  if (parsed.values.check && outOfSync.length > 0) {
    io.err(`cf-autopublish: ${outOfSync.length} opted-in function(s) not in sync: ${outOfSync.join(', ')}`);
    return EXIT.outOfSync;
  }
  return 0;
}

/** `terminal`: the unfiltered output, for the progress line's own cursor moves. */
async function runSweep(runtime: Runtime, parsed: Parsed, io: Io, terminal: Io): Promise<number> {
  const { config } = runtime;
  const report = await sweep({
    cloudfront: runtime.cloudfrontFor(undefined),
    publishGate: (cloudfront) => runtime.publishGate(cloudfront),
    ...(runtime.history ? { history: runtime.history } : {}),
    policy: runtime.policy,
    concurrency: config.sweepConcurrency,
    onOutcome: sweepProgress(terminal, { enabled: io.interactive && !parsed.values.json, dryRun: config.dryRun }),
  });
  const summary = summariseSweep(report);
  if (parsed.values.json) io.out(contractJson('sweep', { ...summary }));
  else {
    io.out(outcomeTable(summary.outcomes));
    const blocked = blockedLines(summary.outcomes);
    if (blocked) io.out(`\n${blocked}`);
    const counts = Object.entries(summary.counts).map(([action, n]) => `${n} ${action}`);
    io.out(`${config.dryRun ? 'dry run: ' : ''}listed ${summary.listed}, ${summary.candidates} candidate(s)${counts.length ? `: ${counts.join(', ')}` : ''}.`);
    const failures = summary.outcomes.filter((o) => o.action === 'failed');
    if (failures.length > 0) {
      // The reason is in the outcome (--json shows it); without it a plain-text failure is a dead end.
      const reason = (o: Outcome) => oneLine(o.error ?? 'no reason recorded').replace(`${o.functionName}: `, '');
      io.out(['\nFailed:', ...failures.map((o) => `  ${o.functionName}: ${reason(o)}`)].join('\n'));
    }
  }
  if (summary.failed.length > 0) {
    io.err(`cf-autopublish: ${summary.failed.length} function(s) failed: ${summary.failed.join(', ')}`);
    return 1;
  }
  return 0;
}

async function reconcileOne(name: string, runtime: Runtime, parsed: Parsed, io: Io): Promise<number> {
  const kind = kindOption(parsed.values.kind);
  const { policy } = runtime;
  const cloudfront = runtime.cloudfrontFor(undefined);
  if (!isFunctionName(name)) throw new UsageError(`"${name}" is not a valid CloudFront function name`);
  // The guard first, as in the Lambdas: a name it refuses is never even read (its ARN stays unknown).
  const fn = policy.nameAllowed(name) ? await resolveFunction(cloudfront, name, kind) : unreadRef(name, kind);
  const gate = runtime.publishGate(cloudfront);
  const outcome = await reconcile(fn, 'cli', {
    cloudfront,
    policy,
    eagerDevelopment: true,
    ...(gate ? { gate } : {}),
    ...(runtime.history ? { history: runtime.history } : {}),
  });
  if (parsed.values.json) io.out(contractJson('reconcile', { ...outcome }));
  else {
    io.out(outcomeTable([outcome]));
    const blocked = blockedLines([outcome]);
    if (blocked) io.out(`\n${blocked}`);
    if (outcome.action === 'failed') io.out(`\nFailed: ${oneLine(outcome.error ?? 'no reason recorded')}`);
  }
  if (outcome.action === 'blocked') return EXIT.blocked;
  return outcome.action === 'failed' ? 1 : 0;
}

/** Why each blocked function was blocked: in plain text too, not only in --json. */
export function blockedLines(outcomes: readonly Outcome[]): string {
  const blocked = outcomes.filter((o) => o.action === 'blocked').sort((a, b) => a.functionName.localeCompare(b.functionName));
  if (blocked.length === 0) return '';
  const line = (o: Outcome) =>
    `  ${o.functionName} ${o.etag ?? ''}: ${oneLine(o.blocked?.reason ?? 'no reason recorded').replace(`${o.blocked?.testCase}: `, '')}${o.blocked?.testCase ? ` (test case ${o.blocked.testCase})` : ''}`;
  return ['Blocked by the publish gate (LIVE unchanged):', ...blocked.map(line)].join('\n');
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

export function outcomeTable(outcomes: readonly Outcome[]): string {
  return table(
    ['FUNCTION', 'ACTION', 'ETAG', 'TRIGGER'],
    [...outcomes].sort((a, b) => a.functionName.localeCompare(b.functionName)).map((o) => [o.functionName, o.action, o.etag ?? '-', o.trigger]),
  );
}

/** Where the CLI points, and as whom: --endpoint and --profile over the environment. */
export interface Target {
  /** The service the failed call went to; default CloudFront. */
  readonly service?: string;
  readonly endpoint: string | undefined;
  readonly profile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/** One line a user can act on, for the failures a CLI user actually meets. */
export function explain(error: unknown, target: Target): string {
  const { endpoint, env } = target;
  const service = target.service ?? 'CloudFront';
  const where = endpoint ? `${service} at ${endpoint}` : service;
  if (error instanceof S3ReadError) {
    return `--cases ${error.url}: S3 GetObject failed: ${explain(error.cause, { ...target, service: 'S3', endpoint: error.endpoint })}`;
  }
  if (error instanceof SweepListingError) {
    // Credentials are not a ListFunctions problem: say only that, as for the other commands.
    return isCredentialsError(error.cause) ? explain(error.cause, target) : `sweep: ListFunctions (${error.stage}) failed: ${explain(error.cause, target)}`;
  }
  const cause = error instanceof ReconcileError ? error.cause : error;
  const name = (cause as { name?: string })?.name ?? '';
  const code = (cause as { code?: string })?.code ?? '';
  const message = cause instanceof Error ? cause.message : String(cause);
  const response = cause as { $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string> } };
  const status = response?.$metadata?.httpStatusCode;
  if (error instanceof ConfigError) return error.message;
  if (isCredentialsError(cause)) {
    // The SDK's chain ends on a generic message even when the named profile simply does not exist.
    const profile = target.profile;
    if (profile) {
      const { found, files } = findProfile(profile, env);
      return found
        ? `profile "${profile}" gave no AWS credentials: ${/Could not load credentials from any providers/.test(message) ? 'it has no keys, role or SSO settings the SDK can use' : message}`
        : `profile "${profile}" was not found in the AWS config/credentials files (${files.join(', ')})`;
    }
    return 'no AWS credentials found: set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for the emulator pass --endpoint';
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') return `access denied: ${message}`;
  const tls = tlsProblem(code, message);
  if (tls) return `TLS with ${where} failed: ${tls}`;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT'].includes(code) || name === 'TimeoutError') {
    return `cannot reach ${where} (${code || name})`;
  }
  if (status !== undefined && /XML parse error|Deserialization error/.test(message)) {
    // Something else answers there (a web server's error page, a proxy): the SDK's parse error is noise.
    const type = response.$response?.headers?.['content-type'];
    return `${where} answered HTTP ${status} with something that is not ${service}'s XML${type ? ` (${type})` : ''}`;
  }
  if (status !== undefined) {
    // A service error: its name alone ("UnknownError" when the body was empty) hides the status.
    return `${describeError(cause)}${message === 'UnknownError' ? ` (${where} answered with no ${service} error in the body)` : ''}`;
  }
  return error instanceof Error && !(error instanceof ReconcileError) ? message : describeError(cause);
}

/** Certificate errors Node reports by code (its tls module); the rest come from OpenSSL as EPROTO. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * What a failed TLS handshake means for the user, in words, or undefined when it was not one: OpenSSL's
 * own text (library, function, source file and line) says nothing a user can act on.
 */
function tlsProblem(code: string, message: string): string | undefined {
  if (CERTIFICATE_CODES.has(code)) return `its certificate is not trusted (${code}); for a local emulator use http://`;
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_') || /SSL routines/.test(message)) {
    return /wrong version number|packet length too long|http request/i.test(message)
      ? 'it does not speak TLS there (an http:// endpoint?)'
      : `the handshake was refused (${code || 'TLS error'})`;
  }
  return undefined;
}

function isCredentialsError(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'CredentialsProviderError' || /Could not load credentials/.test(error instanceof Error ? error.message : String(error));
}

/**
 * Whether the shared files declare `profile`, read where the SDK reads them: `[name]` in the
 * credentials file, `[profile name]` (or `[default]`) in the config file.
 */
function findProfile(profile: string, env: NodeJS.ProcessEnv): { found: boolean; files: string[] } {
  const home = env.HOME || env.USERPROFILE || homedir();
  const config = env.AWS_CONFIG_FILE || join(home, '.aws', 'config');
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials');
  const sections = (file: string): string[] => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return [...text.matchAll(/^\s*\[([^[\]]+)\]\s*$/gm)].map((m) => (m[1] ?? '').trim());
  };
  const configProfiles = sections(config).map((s) => (s === 'default' ? s : /^profile\s+(.+)$/.exec(s)?.[1]?.trim()));
  return { found: configProfiles.includes(profile) || sections(credentials).includes(profile), files: [config, credentials] };
}

/** The process wiring: argv in, text out, exit code set. */
export function run(): void {
  // The SDK's notice that future releases will need Node 22 would precede every one-line answer on
  // Node 20; README.md ("Quick start") says which Node versions are supported instead. Read when a client is built.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    interactive: Boolean(process.stdout.isTTY && process.stderr.isTTY) && process.env.TERM !== 'dumb',
    ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) run();

/** 1-50 member accounts: enough to show the fan-out, few enough for a laptop's terminal. */
function accountCount(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 50) throw new UsageError(`--accounts: "${raw}" is not a whole number from 1 to 50`);
  return Number(raw);
}
