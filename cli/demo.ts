/**
 * `npm start`: the whole flow on the embedded emulator. Seeds functions of both kinds, edits them the
 * way a console user and a CI job would (one tag added after the edit, one CloudTrail event lost, two
 * connection functions edited in the console: one goes live, one throws), lets the event path and one
 * sweep run, and shows every function before and after.
 */
import { CreateFunctionCommand, type CloudFrontClient, TagResourceCommand } from '@aws-sdk/client-cloudfront';
import { editConnectionFunction, editFunction } from '../local/console-edit';
import { actorCredentials, type DecidedOutcome, type LocalStack, type LocalStackOptions, RECONCILER_ACTOR, startLocalStack } from '../local/local-stack';
import { createObservability } from '../lib/report';
import { createRuntime } from '../lib/runtime';
import { createS3Client, s3Gateway } from '../lib/s3-gateway';
import { runRollback } from './history-command';
import type { ConnectionFunctionSnapshot, FunctionSnapshot } from '../emulator/index';
import type { Action } from '../lib/decide';
import type { Io } from './io';
import { table } from './table';
import { createSsmClient, pauseParameterStore } from '../lib/ssm-gateway';
import { ACTIVE, pauseValue } from '../lib/pause';

const TAG = { Key: 'auto-publish', Value: 'true' };
/** Every LIVE version the reconciler replaces is saved here first (the emulator's S3). */
const HISTORY_BUCKET = 'demo-history';
const DEMO_TEST_BUDGET_MS = 200;
/** The brake, as the stack creates it for a stage called `demo`; read on every invocation here, so resume is at once. */
const PAUSE_PARAMETER = '/cloudfront-autopublish/demo/pause';
const source = (body: string) => `function handler(event) {\n  ${body}\n  return event.request;\n}`;
const code = (body: string) => new TextEncoder().encode(source(body));
/** A connection function: it runs in the TLS handshake and decides by calling allow() or deny(). */
const connectionSource = (body: string) => `function connectionHandler(connection) {\n  ${body}\n}`;
const CONNECTION_V1 = connectionSource('connection.allow(); // v1');

interface Edit {
  readonly who: string;
  readonly what: string;
  run(clients: Record<'console' | 'ci', CloudFrontClient>, stack: LocalStack): Promise<void>;
}

async function update(client: CloudFrontClient, name: string, body: string): Promise<void> {
  await editFunction(client, name, source(body));
}

/** The story, in order. Each edit leaves DEVELOPMENT ahead of LIVE. */
const EDITS: readonly Edit[] = [
  {
    who: 'console user',
    what: 'updates url-rewrite (tagged)',
    run: ({ console: c }) => update(c, 'url-rewrite', "event.request.uri = event.request.uri.replace(/\\/$/, '/index.html');"),
  },
  { who: 'CI job', what: 'updates geo-redirect (tagged)', run: ({ ci }) => update(ci, 'geo-redirect', '// v2: redirect by country') },
  {
    who: 'CI job',
    what: 'creates security-headers with the tag',
    run: ({ ci }) =>
      ci
        .send(
          new CreateFunctionCommand({
            Name: 'security-headers',
            FunctionConfig: { Comment: 'HSTS and friends', Runtime: 'cloudfront-js-2.0' },
            FunctionCode: code('// adds headers on the response'),
            Tags: { Items: [TAG] },
          }),
        )
        .then(() => undefined),
  },
  { who: 'console user', what: 'updates ab-test (not tagged)', run: ({ console: c }) => update(c, 'ab-test', '// experiment 7') },
  { who: 'CI job', what: 'updates auth-check (not tagged yet)', run: ({ ci }) => update(ci, 'auth-check', '// v3: check the JWT') },
  {
    who: 'console user',
    what: 'tags auth-check auto-publish=true after the edit',
    run: async ({ console: c }, stack) => {
      await c.send(new TagResourceCommand({ Resource: arnOf(stack, 'auth-check'), Tags: { Items: [TAG] } }));
    },
  },
  {
    who: 'console user',
    what: 'updates price-banner (tagged) with a typo: it throws on every request',
    run: ({ console: c }) => update(c, 'price-banner', 'const banner = event.request.headers["x-banner"].value; // no such header'),
  },
  {
    who: 'CI job',
    what: 'updates heavy-rewrite (tagged) with a loop over the compute maximum',
    run: ({ ci }) => update(ci, 'heavy-rewrite', 'const until = Date.now() + 170; while (Date.now() < until) {} // 85% of the budget'),
  },
  {
    who: 'console user',
    what: 'updates mtls-partners (connection function, tagged): deny every certificate not from a partner CA',
    run: ({ console: c }, stack) =>
      editConnectionFunction(
        c,
        connectionIdOf(stack, 'mtls-partners'),
        connectionSource(
          "var leaf = connection.clientCertificate.certificates.leaf;\n  if (leaf.issuer.indexOf('Partner CA') >= 0) connection.allow(); else connection.deny();",
        ),
      ).then(() => undefined),
  },
  {
    who: 'console user',
    what: 'updates mtls-revocation (connection function, tagged) with a typo: it throws on every handshake',
    run: ({ console: c }, stack) =>
      editConnectionFunction(
        c,
        connectionIdOf(stack, 'mtls-revocation'),
        connectionSource("if (connection.clientCertificate.revocationCheck.stauts.toUpperCase() === 'REVOKED') connection.deny(); else connection.allow();"),
      ).then(() => undefined),
  },
  {
    who: 'CI job',
    what: 'updates cache-key (tagged), and CloudTrail loses the event',
    run: ({ ci }, stack) => {
      stack.loseNext((e) => e.detail.eventName.startsWith('UpdateFunction') && (e.detail.requestParameters as { name?: string } | null)?.name === 'cache-key');
      return update(ci, 'cache-key', '// v2: include the Accept-Language header');
    },
  },
];

const arnOf = (stack: LocalStack, name: string) => `arn:aws:cloudfront::${stack.emulator.accountId}:function/${name}`;
/** Connection functions are addressed by Id; the console user picks one by its name. */
function connectionIdOf(stack: LocalStack, name: string): string {
  const found = stack.emulator.state.connectionFunctions().find((f) => f.name === name);
  if (!found) throw new Error(`demo: no connection function named ${name}`);
  return found.id;
}

function seed(stack: LocalStack): void {
  const functions: [string, boolean][] = [
    ['url-rewrite', true],
    ['geo-redirect', true],
    ['cache-key', true],
    ['ab-test', false],
    ['auth-check', false],
    ['price-banner', true],
    ['heavy-rewrite', true],
  ];
  for (const [name, tagged] of functions) {
    stack.emulator.state.seed({ name, code: source('// v1'), tags: tagged ? { 'auto-publish': 'true' } : { team: 'web' }, publish: true });
  }
  for (const name of ['mtls-partners', 'mtls-revocation']) {
    stack.emulator.state.seedConnectionFunction({ name, code: CONNECTION_V1, tags: { 'auto-publish': 'true' }, publish: true });
  }
}

/** Every function of both kinds, as the emulator holds them: ordinary ones first, each kind by name. */
const everyFunction = (stack: LocalStack): Shown[] => [...stack.emulator.state.snapshot(), ...stack.emulator.state.connectionFunctions()];

export interface DemoOptions {
  readonly keep: boolean;
  readonly io: Io;
  /** Where the rules come from and the reconciler's settings (default: this package's serverless.yml, none). */
  readonly stack?: Pick<LocalStackOptions, 'serverlessYml' | 'settings'>;
  /** With --keep: resolves when it should stop (default: SIGINT or SIGTERM). */
  readonly until?: Promise<void>;
}

export async function runDemo({ keep, io, stack: stackOptions, until }: DemoOptions): Promise<number> {
  const started = Date.now();
  // A 200 ms TestFunction budget (the emulator's default is 1,000) keeps the over-budget function quick.
  const stack = await startLocalStack({
    ...stackOptions,
    settings: { HISTORY_BUCKET, PAUSE_PARAMETER, PAUSE_CACHE_SECONDS: '0', ...stackOptions?.settings },
    emulator: { testFunctionBudgetMs: DEMO_TEST_BUDGET_MS },
    bus: { seed: 7, delayMs: { min: 5, max: 50 } },
  });
  try {
    io.out(`CloudFront emulator on ${stack.emulator.endpoint}; rules from serverless.yml wired to the real handlers.\n`);
    stack.emulator.state.createBucket(HISTORY_BUCKET);
    seed(stack);
    stack.emulator.ssm.putParameter(PAUSE_PARAMETER, ACTIVE);
    stack.hold();
    const clients = { console: stack.clientFor('console-user'), ci: stack.clientFor('ci-job') };
    for (const edit of EDITS) {
      await edit.run(clients, stack);
      io.out(`  ${edit.who.padEnd(12)} ${edit.what}`);
    }
    io.out('\nBefore the reconciler (events held back):\n');
    io.out(stateTable(everyFunction(stack), []));

    stack.release();
    await stack.settle();
    const sweep = await stack.sweep();
    io.out(`\nAfter the event path and one sweep (listed ${sweep.listed}, ${sweep.candidates} candidate(s)):\n`);
    const after = everyFunction(stack);
    io.out(stateTable(after, stack.outcomes));

    const publishes = stack.emulator.controls.publishLog().filter((p) => p.actor === RECONCILER_ACTOR);
    const byEvent = stack.outcomes.filter((o) => o.action === 'published' && o.decidedBy === 'event').length;
    const bySweep = stack.outcomes.filter((o) => o.action === 'published' && o.decidedBy === 'sweep').length;
    const blocked = new Set(stack.outcomes.filter((o) => o.action === 'blocked').map((o) => o.functionName));
    const stale = after.filter((f) => f.tags['auto-publish'] === 'true' && f.live?.etag !== f.development.etag && !blocked.has(f.name));
    io.out(
      `\n${publishes.length} publish(es) by the reconciler: ${byEvent} from events, ${bySweep} from the sweep. ` +
        `Untagged functions were left alone. ${denyLine(after)}` +
        `Blocked by the publish gate, old code still live: ${[...blocked].sort().join(', ') || 'none'}. ` +
        `Opted-in functions not live: ${stale.length}. (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    for (const o of stack.outcomes.filter((x) => x.action === 'blocked' && x.decidedBy === 'event')) io.out(`  ${o.functionName}: ${o.blocked?.reason ?? ''}`);
    if (stale.length > 0) return 1;
    if (!(await showPause(stack, io))) return 1;
    if ((await showRollback(stack, io)) !== 0) return 1;
    if (keep) await keepRunning(stack, io, until);
    return 0;
  } finally {
    // Every way out, --keep included: an error must not leave the emulator holding the process open.
    await stack.close();
  }
}

/**
 * The brake: an operator pauses (what `cf-autopublish pause` writes, with the operator's own keys),
 * an edit arrives and a sweep runs (both held), then the operator resumes and the next sweep publishes
 * it. Resolves true when the edit was held while paused and live after the resume.
 */
async function showPause(stack: LocalStack, io: Io): Promise<boolean> {
  const operator = pauseParameterStore(
    createSsmClient({ endpoint: stack.emulator.endpoint, credentials: actorCredentials(stack.emulator, 'operator') }),
    PAUSE_PARAMETER,
  );
  const name = 'url-rewrite';
  const row = () => stack.emulator.state.snapshot().find((f) => f.name === name);
  const from = stack.outcomes.length;
  io.out(`\nThe brake: an operator runs \`cf-autopublish pause --reason "incident 4711"\`.`);
  await operator.put(pauseValue('incident 4711'));
  await update(stack.clientFor('console-user'), name, "event.request.uri = '/maintenance.html';");
  await stack.settle();
  const held = await stack.sweep();
  const whilePaused = row();
  const heldOutcomes = stack.outcomes.slice(from).filter((o) => o.functionName === name);
  io.out(
    `  console user updates ${name}: ${heldOutcomes.map((o) => `${o.decidedBy} ${o.action}`).join(', ')}; ` +
      `the sweep held ${held.counts.paused ?? 0}. DEVELOPMENT ${whilePaused?.development.etag}, LIVE ${whilePaused?.live?.etag} (old code still live).`,
  );
  io.out('Then `cf-autopublish resume`: no replay, the next sweep publishes what was held.');
  await operator.put(ACTIVE);
  const resumed = await stack.sweep();
  const after = row();
  const live = after !== undefined && after.live?.etag === after.development.etag;
  io.out(`  sweep: ${resumed.counts.published ?? 0} published. ${name} LIVE ${after?.live?.etag}: ${live ? 'in sync' : 'NOT in sync'}.`);
  return whilePaused?.live?.etag !== whilePaused?.development.etag && heldOutcomes.every((o) => o.action === 'paused') && live;
}

/** The connection function whose new code denies the gate's smoke connection: a deny is a decision, not a failure. */
function denyLine(after: readonly Shown[]): string {
  const partners = after.find((f) => 'id' in f && f.name === 'mtls-partners');
  const live = partners !== undefined && partners.live?.etag === partners.development.etag;
  return `mtls-partners denies certificates from any other CA, the smoke test's too: a deny is a decision, so it ${live ? 'went live' : 'DID NOT go live'}. `;
}

/** A function of either kind as the emulator holds it: a connection function's has its Id. */
type Shown = FunctionSnapshot | ConnectionFunctionSnapshot;

function stateTable(functions: readonly Shown[], outcomes: readonly DecidedOutcome[]): string {
  return table(
    STATE_COLUMNS,
    functions.map((f) => stateRow(f, outcomes)),
  );
}

/** The columns of a function's state after the reconciler (the organisation demo puts ACCOUNT first). */
export const STATE_COLUMNS = ['FUNCTION', 'KIND', 'TAG', 'DEVELOPMENT ETAG', 'LIVE ETAG', 'IN SYNC', 'OUTCOME', 'DECIDED BY'];

type Decision = Pick<DecidedOutcome, 'functionName' | 'functionArn' | 'action' | 'decidedBy' | 'trigger'>;

/**
 * One function's row, with the decision that mattered among `outcomes` (those of its account): by ARN,
 * since a name may be taken once per kind.
 */
export function stateRow(f: Shown, outcomes: readonly Decision[]): string[] {
  const decisive = decisiveOutcome(outcomes.filter((o) => o.functionArn === f.arn));
  return [
    f.name,
    'id' in f ? 'connection' : 'function',
    f.tags['auto-publish'] ? `auto-publish=${f.tags['auto-publish']}` : '-',
    f.development.etag,
    f.live?.etag ?? '(none)',
    f.live?.etag === f.development.etag ? 'yes' : 'NO',
    decisive?.action ?? '-',
    decisive ? (decisive.decidedBy === 'event' ? `event (${decisive.trigger})` : 'sweep') : '-',
  ];
}

/** A function may be decided several times (duplicates, races): show the decision that mattered. */
// A Record over Action: a new action that is not ranked here does not compile.
const RANK: Readonly<Record<Action, number>> = {
  published: 0,
  'would-publish': 1,
  failed: 2,
  blocked: 2,
  paused: 2,
  'already-published': 3,
  'skipped-not-opted-in': 4,
  'skipped-not-allowed': 5,
  gone: 6,
  'skipped-in-sync': 7,
};
function decisiveOutcome(outcomes: readonly Decision[]): Decision | undefined {
  return [...outcomes].sort((a, b) => RANK[a.action] - RANK[b.action])[0];
}

/**
 * The undo: every publish above saved the LIVE version it replaced to the history bucket. An operator
 * finds geo-redirect's v2 wrong and rolls it back with their own credentials: the saved v1 goes back to
 * DEVELOPMENT, through the gate, and live.
 */
async function showRollback(stack: LocalStack, io: Io): Promise<number> {
  const name = 'geo-redirect';
  const saved = stack.emulator.state.objects().filter((o) => o.bucket === HISTORY_BUCKET);
  io.out(`\n${saved.length} replaced LIVE version(s) saved to s3://${HISTORY_BUCKET} before their publish. An operator rolls back ${name}:\n`);
  const operator = createRuntime(stack.runtime.config, {
    credentials: actorCredentials(stack.emulator, 'operator'),
    observability: createObservability({ quiet: true }),
  });
  const s3 = s3Gateway(createS3Client({ endpoint: stack.emulator.endpoint, credentials: actorCredentials(stack.emulator, 'operator') }));
  const indented: Io = { ...io, out: (text) => io.out(text.replace(/^/gm, '  ')) };
  io.out(`  $ cf-autopublish rollback ${name} --yes`);
  // The rollback's own UpdateFunction reaches the event path too; held back so the demo's output is the
  // rollback's, then released: the reconciler finds it in sync.
  stack.hold();
  const code = await runRollback(name, { yes: true, operatorClient: stack.clientFor('operator') }, { runtime: operator, s3, bucket: HISTORY_BUCKET }, indented);
  stack.release();
  await stack.settle();
  const live = stack.emulator.state.snapshot().find((f) => f.name === name)?.live?.code ?? '';
  io.out(`\n${name} LIVE runs ${live.includes('// v1') ? 'v1 again' : 'something else'}.`);
  return code === 0 && live.includes('// v1') ? 0 : 1;
}

/** Runs until Ctrl-C (or `until`), printing each publish and block as it happens; the caller closes the stack. */
async function keepRunning(stack: LocalStack, io: Io, until?: Promise<void>): Promise<void> {
  const endpoint = stack.emulator.endpoint;
  io.out(`
Still running (Ctrl-C to stop). Endpoint: ${endpoint}
Edits made now go live by themselves, as they would in an account; a sweep runs every 60 s.
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
  aws cloudfront describe-function --endpoint-url ${endpoint} --name ab-test
  aws cloudfront list-connection-functions --endpoint-url ${endpoint}
  npx cf-autopublish status --endpoint ${endpoint}
Each publish is printed as it happens:`);
  // The stack appends every decision to `outcomes`: print what is new, so an edit made in another
  // terminal is seen going live (or blocked) here.
  let seen = stack.outcomes.length;
  const report = () => {
    for (const o of stack.outcomes.slice(seen)) {
      const time = new Date().toISOString().slice(11, 19);
      const by = o.decidedBy === 'event' ? `event ${o.trigger}` : 'sweep';
      if (o.action === 'published') io.out(`  ${time} published ${o.functionName} ${o.etag ?? ''} (${by})`);
      else if (o.action === 'blocked') io.out(`  ${time} BLOCKED ${o.functionName} ${o.etag ?? ''} (${by}): ${o.blocked?.reason ?? ''}`);
      else if (o.action === 'failed' || o.action === 'paused') io.out(`  ${time} ${o.action} ${o.functionName} (${by}): ${o.error ?? o.pause ?? ''}`);
    }
    seen = stack.outcomes.length;
  };
  const watcher = setInterval(report, 100);
  const timer = setInterval(() => void stack.sweep().catch((e: Error) => io.err(`sweep failed: ${e.message}`)), 60_000);
  await (until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    }));
  clearInterval(timer);
  clearInterval(watcher);
  report();
}
