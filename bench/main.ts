/**
 * `npm run bench [-- --functions N] [-- --quick] [-- --accounts N --worker-concurrency W] [-- --only org|burst|cold]`: the
 * reconciler's cost on the embedded emulator.
 * Scenarios: the sweep (ours vs its lower bound vs a naive reconciler, then ours under the variant
 * developmentStatusAfterAssociatedUpdate=DEPLOYED), an event burst under both values of that variant,
 * the event path one update at a time with LIVE read lazily (default) or eagerly, organisation mode's
 * sweep over many accounts (fan-out, then W worker processes draining the sweep queue), and the bundles
 * (with what the S3 and SQS clients cost them). The publish gate runs as deployed (PUBLISH_GATE=smoke,
 * the default) everywhere; the burst and the lazy event path run again with PUBLISH_GATE=off, so the
 * gate's own calls show (the burst under DEPLOYED only in the full run).
 * Prints a table whose last column is PASS/FAIL per target (bench/targets.ts: one entry per target) and writes bench/results.json (tracked: the last full
 * run's figures, which other tooling reads; `git add -f`, .gitignore still lists it). Exits non-zero
 * when a target with `gating: true` fails (call counts, failures, in sync, zip size); timing targets
 * are reported but never gate, so a loaded CI machine cannot make the build flaky.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BundlesReport, runBundles } from './bundles';
import { describeVariants, resolveVariants } from '../emulator/index';
import { PROJECT_ROOT } from '../local/packaging';
import { type BurstResult, runBurstScenario } from './burst-scenario';
import { LATENCY_MS, RATE } from './common';
import { type EventPathRun, type KindFigures, runEventPathScenario } from './event-path-scenario';
import { type OrgResult, runOrgScenario } from './org-scenario';
import { type LowerBound, runSweepScenario, type SweepResult, type SweepRun } from './sweep-scenario';
import { evaluate, failedGates, noFailures, summaryTable, type TargetResult, type TargetSpec } from './targets';

const { values: args } = parseArgs({
  options: {
    functions: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    'burst-functions': { type: 'string' },
    'skip-package': { type: 'boolean', default: false },
    accounts: { type: 'string' },
    'worker-concurrency': { type: 'string', default: '10' },
    // `--only org` / `--only burst`: that scenario alone; `--only cold`: the bundles alone (sizes, cold start,
    // what each client costs: `--quick` for 7 processes instead of 20). Each prints its summary and targets; results.json untouched.
    only: { type: 'string' },
  },
});
const quick = args.quick;
const functions = Number(args.functions);
const burstFunctions = Number(args['burst-functions'] ?? (quick ? 50 : 200));
const burstWindowMs = quick ? 5_000 : 20_000;
const coldRuns = quick ? 7 : 20;
// Organisation mode (issue 11): W worker containers (the SQS event source's maximum concurrency, the
// deployment's default 10) over `accounts` accounts of ORG_FUNCTIONS functions each, one account per
// invocation (serverless.yml's batchSize). The quick run takes 3 accounts per container.
const workerConcurrency = Number(args['worker-concurrency']);
const accounts = Number(args.accounts ?? (quick ? 3 * workerConcurrency : 200));
const ORG_FUNCTIONS = 100;
// Event path: updates per kind (3 kinds), one every EVENT_GAP_MS: at most ~5 calls per update
// (reconciler + CI job), so ~20 calls/s, under the 25/s limit: no call waits for the rate limit.
const eventsPerKind = quick ? 5 : 20;
const EVENT_GAP_MS = 250;
const CONCURRENCY = 4; // SWEEP_CONCURRENCY's default
// The pacer just under the emulator's 25 calls/s (see lib/cloudfront-gateway.ts). The naive
// reconciler gets the same client settings.
const PACED = { CLOUDFRONT_MAX_CALLS_PER_SECOND: String(RATE.ratePerSecond - 1) };
/** The same, without the publish gate: what the gate itself costs shows against the default. */
const GATE_OFF = { ...PACED, PUBLISH_GATE: 'off' };
/** The gate on with history (as deployed by default): LIVE's config and code read once more per publish. */
const WITH_HISTORY = { ...PACED, HISTORY_BUCKET: 'bench-history' };
/** The event path in an account with this many distributions, against one with DISTRIBUTIONS_FEW. */
const DISTRIBUTIONS_MANY = 1_500;
const DISTRIBUTIONS_FEW = 15;
/**
 * What the gate adds to one event-path update that publishes: one TestFunction (one smoke case: the
 * bench's functions have one event type, or none and pass the viewer-request case tried first). The
 * associations are read by the warm-up update and kept (ASSOCIATIONS_TTL_SECONDS, 60 s by default),
 * so no measured update reads ListDistributions.
 */
const GATE_CALLS_PER_PUBLISH = 1;
/** Issue 20: the burst's calls per publish, gate on (default variants). */
const BURST_GATE_ON_TARGET = 5;
/** What history adds to each publish that replaces a LIVE version: DescribeFunction(LIVE) for its config, GetFunction(LIVE) for its code. */
const HISTORY_READS_PER_PUBLISH = 2;
const BURST_HISTORY_TARGET = BURST_GATE_ON_TARGET + HISTORY_READS_PER_PUBLISH;

const kb = (b: number) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KB` : 'n/a');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const ms = (v: number) => `${Math.round(v)} ms`;
const x = (v: number) => `${v.toFixed(2)}x`;

const VARIANT = 'developmentStatusAfterAssociatedUpdate';
const DEPLOYED = { [VARIANT]: 'DEPLOYED' } as const;

async function main(): Promise<void> {
  const started = performance.now();
  const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${s}\n`);
  /** One scenario alone (`--only`): its lines, its targets' table, how long it took; results.json untouched. */
  const reportOnly = (what: string, lines: readonly string[], specs: readonly TargetSpec[]) => {
    const targets = evaluate(specs);
    const took = `(${what} only, ${((performance.now() - started) / 1000).toFixed(0)} s)`;
    process.stdout.write(`${[...lines, '', ...summaryTable(targets), took].join('\n')}\n`);
    exitOnFailedGates(targets);
  };
  if (args.only === 'burst') {
    log(
      `burst only: ${burstFunctions} functions updated within ${burstWindowMs / 1000} s, handler concurrency 2, the bursts of the ${quick ? 'quick' : 'full'} run`,
    );
    const runs = await runBursts(!quick);
    reportOnly('burst', burstLines(burstRows(runs)), burstTargets(runs));
    return;
  }
  if (args.only === 'cold') {
    const load = loadavg();
    log(`bundles only: ${args['skip-package'] ? '' : 'serverless package + '}${coldRuns} cold starts each, and builds without the S3 / SQS clients`);
    const bundles = await runBundles({ runs: coldRuns, packageIt: !args['skip-package'] });
    const loadLine = `load average ${load.map((l) => l.toFixed(2)).join(' / ')} before, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} after (${cpus().length} cores)`;
    // Without packaging there is no zip to judge: its rows would read n/a and fail.
    reportOnly(
      'bundles',
      [...bundleLines(bundles), loadLine],
      bundleTargets(bundles).filter((t) => !args['skip-package'] || !t.name.includes(' zip ')),
    );
    return;
  }
  if (args.only !== undefined) {
    if (args.only !== 'org')
      throw new RangeError(
        `--only takes "org" (the organisation sweep alone), "burst" (the bursts alone) or "cold" (the bundles alone), not ${JSON.stringify(args.only)}`,
      );
    log(`organisation only: ${accounts} accounts x ${ORG_FUNCTIONS} functions, ${workerConcurrency} worker processes`);
    const org = await runOrgScenario({ accounts, functionsPerAccount: ORG_FUNCTIONS, workerConcurrency, log });
    reportOnly('organisation', orgLines(org), orgTargets(org));
    return;
  }

  log(`sweep: ${functions} functions, ours and naive (paced ${PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND}/s, same client settings), default variants`);
  const sweep = await runSweepScenario({ functions, runs: ['ours', 'naive'], concurrency: CONCURRENCY, settings: PACED });
  let adaptiveOnly: SweepRun | undefined;
  if (!quick) {
    log('sweep: ours, adaptive retry only (no pacer)');
    adaptiveOnly = (await runSweepScenario({ functions, runs: ['ours'], concurrency: CONCURRENCY })).ours;
  }
  log(`sweep: ours, ${VARIANT}=DEPLOYED`);
  const sweepDeployed = await runSweepScenario({ functions, runs: ['ours'], concurrency: CONCURRENCY, settings: PACED, variants: DEPLOYED });
  // Issue 19: a fleet of both kinds, a quarter as many connection functions as functions, the same shares changed.
  const mixedConnections = Math.round(functions / 4);
  log(`sweep: ours, a fleet of both kinds (${functions} functions + ${mixedConnections} connection functions), default variants`);
  const sweepMixed = await runSweepScenario({ functions, connections: mixedConnections, runs: ['ours'], concurrency: CONCURRENCY, settings: PACED });
  log(
    `burst: ${burstFunctions} functions updated within ${burstWindowMs / 1000} s, handler concurrency 2, default variants then ${VARIANT}=DEPLOYED, then PUBLISH_GATE=off${quick ? ' (default variants)' : ''}, then gate on with history`,
  );
  const bursts = await runBursts(!quick);
  const { burst, burstDeployed, burstOff, burstDeployedOff, burstHistory } = bursts;
  log(
    `event path: ${3 * eventsPerKind} updates one at a time, ${EVENT_GAP_MS} ms apart, lazy vs eager LIVE read, ${VARIANT}=DEPLOYED then default, then lazy with PUBLISH_GATE=off`,
  );
  const eventPath = {
    deployed: {
      lazy: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, variants: DEPLOYED, settings: PACED }),
      eager: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: true, variants: DEPLOYED, settings: PACED }),
    },
    default: {
      lazy: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, settings: PACED }),
      eager: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: true, settings: PACED }),
    },
    gateOff: {
      deployed: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, variants: DEPLOYED, settings: GATE_OFF }),
      default: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, settings: GATE_OFF }),
    },
  };
  log(`event path: the same updates (default variants, lazy, gate on) in an account with ${DISTRIBUTIONS_FEW}, then ${DISTRIBUTIONS_MANY} distributions`);
  const byDistributions = {
    few: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, settings: PACED, distributions: DISTRIBUTIONS_FEW }),
    many: await runEventPathScenario({ perKind: eventsPerKind, gapMs: EVENT_GAP_MS, eagerLive: false, settings: PACED, distributions: DISTRIBUTIONS_MANY }),
  };
  log(
    `organisation: ${accounts} accounts x ${ORG_FUNCTIONS} functions, MEMBER_ACCOUNTS empty, fan-out then ${workerConcurrency} worker processes draining the sweep queue`,
  );
  const org = await runOrgScenario({ accounts, functionsPerAccount: ORG_FUNCTIONS, workerConcurrency, log });
  log(`bundles: serverless package + ${coldRuns} cold starts each, and builds without the S3 / SQS clients`);
  const bundles = await runBundles({ runs: coldRuns, packageIt: !args['skip-package'] });

  const ours = sweep.ours as SweepRun;
  const naive = sweep.naive as SweepRun;
  const oursDeployed = sweepDeployed.ours as SweepRun;
  const oursMixed = sweepMixed.ours as SweepRun;
  const { lowerBound, fleet } = sweep;
  const lines: string[] = [];
  const row = (cells: (string | number)[], widths: number[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  const w = [34, 6, 6, 9, 6, 6, 8, 7, 9, 10, 10, 9];
  lines.push(
    `Sweep: ${functions} functions, ${fleet.optedIn} opted in, ${fleet.associated} associated (${fleet.distributions} distributions); changed since the last publish: ` +
      `${fleet.neverPublished} never published, ${fleet.editedAssociated} associated + ${fleet.editedUnassociated} unassociated edited; ` +
      `${LATENCY_MS} ms/call, limit ${RATE.ratePerSecond}/s burst ${RATE.burst}, concurrency ${CONCURRENCY}`,
  );
  lines.push(row(['', 'List', 'Tags', 'Describe', 'Test', 'Dists', 'Publish', 'calls', 'wall', 'published', 'throttled', 'failures'], w));
  // Each column counts both kinds' call (DescribeFunction and DescribeConnectionFunction…).
  const op = (r: SweepRun, name: string) => {
    const connection = name.replace('Function', 'ConnectionFunction');
    return (r.callsByOperation[name] ?? 0) + (connection === name ? 0 : (r.callsByOperation[connection] ?? 0));
  };
  const sweepRow = (label: string, r: SweepRun) =>
    row(
      [
        label,
        // Both kinds' listings (ListConnectionFunctions: one empty page per stage while the fleet has none).
        op(r, 'ListFunctions'),
        op(r, 'ListTagsForResource'),
        op(r, 'DescribeFunction'),
        op(r, 'TestFunction'),
        op(r, 'ListDistributions'),
        op(r, 'PublishFunction'),
        r.calls,
        ms(r.wallMs),
        r.publishes,
        r.throttled,
        r.failures,
      ],
      w,
    );
  const boundRow = (label: string, b: LowerBound) =>
    row(
      [
        label,
        b.pages + b.connectionPages,
        b.candidates,
        b.optedCandidates + b.liveReads,
        b.tests,
        b.distributionPages,
        b.publishes,
        b.calls,
        ms(b.wallMs),
        b.publishes,
        0,
        0,
      ],
      w,
    );
  lines.push(boundRow('lower bound (default variants)', lowerBound));
  lines.push(sweepRow(`ours (pacer ${PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND}/s)`, ours));
  if (adaptiveOnly) lines.push(sweepRow('ours (adaptive retry only)', adaptiveOnly));
  lines.push(sweepRow('naive (list, tags+2 stages each)', naive));
  lines.push(boundRow('lower bound (DEPLOYED variant)', sweepDeployed.lowerBound));
  lines.push(sweepRow('ours (DEPLOYED variant, pacer)', oursDeployed));
  lines.push(boundRow('lower bound (both kinds)', sweepMixed.lowerBound));
  lines.push(sweepRow('ours (both kinds, pacer)', oursMixed));
  lines.push(`  lower bound (default) = ${lowerBound.definition}`);
  lines.push(
    `  lower bound (DEPLOYED): ${sweepDeployed.lowerBound.liveReads} DescribeFunction(LIVE) for the opted-in associated edits, which list as DEPLOYED; ${sweepDeployed.lowerBound.calls} calls, ${ms(sweepDeployed.lowerBound.wallMs)}`,
  );
  lines.push(
    `  history's share: ${lowerBound.historySaves} GetFunction(LIVE) + ${lowerBound.historySaves} PutObject (one each per publish that replaces a LIVE version) + ` +
      `${lowerBound.historyLiveReads} DescribeFunction(LIVE) (those listed UNPUBLISHED) of ${lowerBound.calls} bound calls; ours made ` +
      `${ours.callsByOperation.GetFunction ?? 0} GetFunction and ${ours.callsByOperation.PutObject ?? 0} PutObject for ${ours.publishes} publishes`,
  );
  lines.push(
    `  the gate's share of the bound: ${lowerBound.tests} TestFunction + ${lowerBound.distributionPages} ListDistributions of ${lowerBound.calls} calls (${lowerBound.calls - lowerBound.tests - lowerBound.distributionPages} without the gate); bound time counts latency only, not TestFunction's run in the emulator's worker`,
  );
  lines.push(
    `  ratios: ours/lower bound calls ${x(ours.calls / lowerBound.calls)} (DEPLOYED variant ${x(oursDeployed.calls / sweepDeployed.lowerBound.calls)}), wall ${x(ours.wallMs / lowerBound.wallMs)}; ` +
      `naive/ours calls ${x(naive.calls / ours.calls)}, wall ${x(naive.wallMs / ours.wallMs)}; naive/lower bound calls ${x(naive.calls / lowerBound.calls)}`,
  );
  const cf = sweepMixed.connectionFleet;
  lines.push(
    `  both kinds: ${functions} functions as above + ${cf?.connectionFunctions} connection functions (${cf?.optedIn} opted in; ${cf?.neverPublished} never published, ${cf?.edited} edited), ` +
      `bound ${sweepMixed.lowerBound.calls} calls (${sweepMixed.lowerBound.connectionPages} ListConnectionFunctions pages), ours ${oursMixed.calls} = ${x(oursMixed.calls / sweepMixed.lowerBound.calls)}; ` +
      `connection-function calls: ${Object.entries(oursMixed.callsByOperation)
        .filter(([name]) => name.includes('Connection'))
        .map(([name, n]) => `${name} ${n}`)
        .join(', ')}; in sync after ${yes(oursMixed.inSyncAfter)}`,
  );
  lines.push(`  lower bound (both kinds) = ${sweepMixed.lowerBound.definition}`);
  lines.push(
    `  every opted-in function in sync after the sweep: default ${yes(ours.inSyncAfter)} (naive ${yes(naive.inSyncAfter)}), DEPLOYED variant ${yes(oursDeployed.inSyncAfter)}`,
  );
  lines.push(
    `  calls = every request sent (throttled attempts included), counted in the client; the emulator saw ${ours.emulatorCalls} (ours) / ${naive.emulatorCalls} (naive)`,
  );
  lines.push(`  peak RSS of the sweep's own process (bundled child, emulator in the parent): ours ${mb(ours.maxRssBytes)}, naive ${mb(naive.maxRssBytes)}`);
  lines.push('');
  lines.push(...burstLines(burstRows(bursts)));
  lines.push('');
  lines.push(
    `Event path: ${3 * eventsPerKind} updates (${eventsPerKind} each: opted-in unassociated, opted-in associated, not opted in), one invocation at a time, ${EVENT_GAP_MS} ms apart, ${LATENCY_MS} ms/call`,
  );
  const ew = [30, 12, 10, 8, 8, 22, 22, 22];
  lines.push(row(['', 'calls/event', 'ms/event', 'p95', 'max', 'unassoc calls/ms', 'assoc calls/ms', 'not-opted calls/ms'], ew));
  const kindCell = (k: KindFigures) => `${k.callsPerEvent.toFixed(2)} / ${Math.round(k.msPerEvent)} ms ${Object.keys(k.statuses).join('+')}`;
  const eventRow = (label: string, r: EventPathRun) =>
    row(
      [
        label,
        r.callsPerEvent.toFixed(2),
        ms(r.msPerEvent),
        ms(r.p95Ms),
        ms(r.maxMs),
        kindCell(r.byKind['unassociated-edit']),
        kindCell(r.byKind['associated-edit']),
        kindCell(r.byKind['not-opted-in']),
      ],
      ew,
    );
  lines.push(eventRow('DEPLOYED variant, lazy LIVE', eventPath.deployed.lazy));
  lines.push(eventRow('DEPLOYED variant, eager LIVE', eventPath.deployed.eager));
  lines.push(eventRow('default variants, lazy LIVE', eventPath.default.lazy));
  lines.push(eventRow('default variants, eager LIVE', eventPath.default.eager));
  lines.push(eventRow('DEPLOYED, lazy, PUBLISH_GATE=off', eventPath.gateOff.deployed));
  lines.push(eventRow('default, lazy, PUBLISH_GATE=off', eventPath.gateOff.default));
  lines.push(eventRow(`default, lazy, ${DISTRIBUTIONS_FEW} distributions`, byDistributions.few));
  lines.push(eventRow(`default, lazy, ${DISTRIBUTIONS_MANY} distributions`, byDistributions.many));
  const eventRuns = [
    eventPath.deployed.lazy,
    eventPath.deployed.eager,
    eventPath.default.lazy,
    eventPath.default.eager,
    eventPath.gateOff.deployed,
    eventPath.gateOff.default,
    byDistributions.few,
    byDistributions.many,
  ];
  lines.push(
    `  most calls one update cost, by DEVELOPMENT status after it: lazy ${statusMax(eventPath.default.lazy, eventPath.deployed.lazy)}; eager ${statusMax(eventPath.default.eager, eventPath.deployed.eager)}; ` +
      `lazy, gate off ${statusMax(eventPath.gateOff.default, eventPath.gateOff.deployed)}`,
  );
  lines.push(
    `  the gate's calls (lazy, both variants): ${gateOps(eventPath.default.lazy, eventPath.deployed.lazy)} for ${eventPath.default.lazy.publishes + eventPath.deployed.lazy.publishes} publishes`,
  );
  lines.push(
    `  ${eventRuns.every((r) => r.inSync && r.failures === 0) ? 'every run: 0 failed events, opted-in functions in sync, the others left unpublished' : 'SOME RUN FAILED OR LEFT A FUNCTION OUT OF SYNC'}; throttled ${eventRuns.map((r) => r.throttled).join('/')}`,
  );
  lines.push('');
  lines.push(...orgLines(org), '');
  lines.push(...bundleLines(bundles));
  lines.push('');

  const lazyMax = (status: 'UNPUBLISHED' | 'other', runs = [eventPath.default.lazy, eventPath.deployed.lazy]) =>
    Math.max(
      0,
      ...runs.flatMap((r) =>
        Object.entries(r.maxCallsByStatus)
          .filter(([s]) => (status === 'UNPUBLISHED') === (s === 'UNPUBLISHED'))
          .map(([, v]) => v),
      ),
    );
  const gateOffRuns = [eventPath.gateOff.default, eventPath.gateOff.deployed];
  // One entry per target (bench/targets.ts): adding a target is adding a line here.
  const specs: TargetSpec[] = [
    { name: 'sweep calls <= 1.1 x lower bound', value: ours.calls / lowerBound.calls, target: 1.1, comparator: '<=', unit: 'x', gating: true },
    {
      name: 'sweep calls <= 1.1 x bound (DEPLOYED var.)',
      value: oursDeployed.calls / sweepDeployed.lowerBound.calls,
      target: 1.1,
      comparator: '<=',
      unit: 'x',
      gating: false,
    },
    { name: 'naive calls >= 10 x ours', value: naive.calls / ours.calls, target: 10, comparator: '>=', unit: 'x', gating: true },
    { name: 'sweep wall <= 1.3 x lower-bound time', value: ours.wallMs / lowerBound.wallMs, target: 1.3, comparator: '<=', unit: 'x', gating: false },
    noFailures(
      'zero failures, all in sync (sweep)',
      [ours, naive].map((r) => ({ failures: r.failures, outOfSync: r.outOfSyncAfter })),
    ),
    noFailures('zero failures, in sync (sweep, DEPLOYED)', [{ failures: oursDeployed.failures, outOfSync: oursDeployed.outOfSyncAfter }]),
    // Issue 19: the mixed fleet at 1.00-1.1x its bound, which counts both kinds' listings and candidates.
    {
      name: 'sweep calls <= 1.1 x bound (both kinds)',
      value: oursMixed.calls / sweepMixed.lowerBound.calls,
      target: 1.1,
      comparator: '<=',
      unit: 'x',
      gating: true,
    },
    {
      name: 'sweep calls >= 1.00 x bound (both kinds)',
      value: oursMixed.calls / sweepMixed.lowerBound.calls,
      target: 1,
      comparator: '>=',
      unit: 'x',
      gating: true,
    },
    noFailures('zero failures, in sync (sweep, both kinds)', [{ failures: oursMixed.failures, outOfSync: oursMixed.outOfSyncAfter }]),
    ...burstTargets(bursts),
    {
      name: `event path calls/update, ${DISTRIBUTIONS_MANY} dists vs ${DISTRIBUTIONS_FEW}`,
      value: byDistributions.many.callsPerEvent / byDistributions.few.callsPerEvent,
      target: 1,
      comparator: '<=',
      unit: 'x',
      gating: true,
    },
    {
      name: 'event path calls/update, UNPUBLISHED <= 3, gate off',
      value: lazyMax('UNPUBLISHED', gateOffRuns),
      target: 3,
      comparator: '<=',
      unit: 'count',
      gating: true,
    },
    {
      name: 'event path calls/update, other status <= 4, gate off',
      value: lazyMax('other', gateOffRuns),
      target: 4,
      comparator: '<=',
      unit: 'count',
      gating: true,
    },
    {
      name: `event path calls/update, UNPUBLISHED <= ${3 + GATE_CALLS_PER_PUBLISH}, gate on`,
      value: lazyMax('UNPUBLISHED'),
      target: 3 + GATE_CALLS_PER_PUBLISH,
      comparator: '<=',
      unit: 'count',
      gating: true,
    },
    {
      name: `event path calls/update, other status <= ${4 + GATE_CALLS_PER_PUBLISH}, gate on`,
      value: lazyMax('other'),
      target: 4 + GATE_CALLS_PER_PUBLISH,
      comparator: '<=',
      unit: 'count',
      gating: true,
    },
    noFailures(
      'zero failed events, in sync (event path)',
      eventRuns.map((r) => ({ failures: r.failures, outOfSync: !r.inSync })),
    ),
    ...bundleTargets(bundles),
    { name: 'sweep peak RSS <= 128 MB', value: ours.maxRssBytes, target: 128 * 1024 * 1024, comparator: '<=', unit: 'MB', gating: false },
    ...orgTargets(org),
  ];
  const targets = evaluate(specs);
  lines.push(...summaryTable(targets));
  lines.push(`(${quick ? 'quick' : 'full'} run, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const strip = (r: SweepRun) => ({
    calls: r.calls,
    wallMs: Math.round(r.wallMs),
    publishes: r.publishes,
    throttled: r.throttled,
    failures: r.failures,
    inSyncAfter: r.inSyncAfter,
    callsByOperation: r.callsByOperation,
    maxRssBytes: r.maxRssBytes,
  });
  const bound = (b: LowerBound) => ({ ...b, wallMs: Math.round(b.wallMs) });
  const byVariant = (result: SweepResult) => {
    const r = result.ours as SweepRun;
    return {
      variants: result.variants,
      calls: r.calls,
      lowerBound: result.lowerBound.calls,
      ratio: Number((r.calls / result.lowerBound.calls).toFixed(3)),
      liveReadsInBound: result.lowerBound.liveReads,
      publishes: r.publishes,
      failures: r.failures,
      allOptedInInSync: r.inSyncAfter,
      callsByOperation: r.callsByOperation,
      wallMs: Math.round(r.wallMs),
    };
  };
  const burstOut = (b: BurstResult) => ({ ...b, wallMs: Math.round(b.wallMs), callsPerPublish: Number(b.callsPerPublish.toFixed(3)) });
  const results = {
    quick,
    sweep: {
      functions,
      fleet,
      ours: strip(ours),
      ...(adaptiveOnly ? { oursAdaptiveOnly: strip(adaptiveOnly) } : {}),
      naive: strip(naive),
      lowerBound: bound(lowerBound),
      [VARIANT]: {
        UNPUBLISHED: byVariant(sweep),
        DEPLOYED: { ...byVariant(sweepDeployed), lowerBoundDetail: bound(sweepDeployed.lowerBound) },
      },
      bothKinds: {
        connectionFleet: sweepMixed.connectionFleet,
        ours: strip(oursMixed),
        lowerBound: bound(sweepMixed.lowerBound),
        ratio: Number((oursMixed.calls / sweepMixed.lowerBound.calls).toFixed(3)),
      },
      settings: { latencyMs: LATENCY_MS, rateLimit: RATE, concurrency: CONCURRENCY, pacer: Number(PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND) },
    },
    burst: {
      publishGate: 'smoke (the default) under [VARIANT]; gateOff: the same burst with PUBLISH_GATE=off (DEPLOYED only in a full run)',
      [VARIANT]: { UNPUBLISHED: burstOut(burst), DEPLOYED: burstOut(burstDeployed) },
      gateOff: { [VARIANT]: { UNPUBLISHED: burstOut(burstOff), ...(burstDeployedOff ? { DEPLOYED: burstOut(burstDeployedOff) } : {}) } },
      withHistory: { ...burstOut(burstHistory), settings: 'gate on, HISTORY_BUCKET set, default variants' },
    },
    eventPath: {
      mix: `${eventsPerKind} opted-in unassociated (UNPUBLISHED after the update), ${eventsPerKind} opted-in associated (DEPLOYED after the update under ${VARIANT}=DEPLOYED, UNPUBLISHED under the default), ${eventsPerKind} not opted in; one invocation at a time`,
      variants: describeVariants(resolveVariants(DEPLOYED)),
      lazy: eventPath.deployed.lazy,
      eager: eventPath.deployed.eager,
      defaultVariants: { variants: describeVariants(resolveVariants()), lazy: eventPath.default.lazy, eager: eventPath.default.eager },
      publishGate: 'smoke (the default) in lazy, eager and defaultVariants; gateOff: lazy LIVE with PUBLISH_GATE=off',
      gateOff: { deployed: eventPath.gateOff.deployed, defaultVariants: eventPath.gateOff.default },
      byDistributions: {
        measures:
          'default variants, lazy LIVE, gate on; empty distributions added to those the associated functions fill; the warm-up update reads the associations, kept for ASSOCIATIONS_TTL_SECONDS',
        [DISTRIBUTIONS_FEW]: byDistributions.few,
        [DISTRIBUTIONS_MANY]: byDistributions.many,
      },
      msPerEventMeasures: 'the handler invocation, start to end (middy, Powertools, reconcile, report), wall clock in the bench process',
      settings: { latencyMs: LATENCY_MS, gapMs: EVENT_GAP_MS, rateLimit: RATE, pacer: Number(PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND) },
    },
    bundles: bundles.bundles.map((b) => ({
      ...b,
      coldStartMs: Number(b.coldStartMs.toFixed(1)),
      referenceColdStartMs: Number(b.referenceColdStartMs.toFixed(1)),
      clientCosts: b.clientCosts.map((c) => ({ ...c, coldStartWithoutMs: Number(c.coldStartWithoutMs.toFixed(1)) })),
    })),
    clientCostMeasures:
      'per handler: the shipped esbuild build minus the same build with the package(s) aliased to a stub exporting the names lib/ imports (serverless.yml esbuild settings); ' +
      'zippedBytes = difference of zlib deflate level 1 streams, the level serverless package zips at (zipOverheadBytes = zip minus our deflate of the same files: the entry and its chunks); startBytes = the entry and the chunks it imports statically, what a cold start reads; zipWithoutBytes = zip minus zippedBytes',
    referenceBundle: bundles.reference,
    sweepPeakRssBytes: ours.maxRssBytes,
    sweepPeakRssMeasures:
      'the sweep child process only (esbuild bundle of bench/sweep-child.ts run by plain node: the real driftSweep handler + SDK), not the emulator',
    org: {
      accounts: org.accounts,
      functionsPerAccount: org.functionsPerAccount,
      workerConcurrency: org.workerConcurrency,
      ours: {
        calls: org.ours.calls,
        wallMs: Math.round(org.ours.wallMs),
        failures: org.ours.failures,
        assumeRoleCalls: org.ours.assumeRoleCalls,
        workerPeakRssBytes: org.ours.workerPeakRssBytes,
      },
      lowerBound: { calls: org.lowerBound.calls, wallMs: Math.round(org.lowerBound.wallMs), definition: org.lowerBound.definition },
      cpu: orgCpuOut(org),
    },
    targets,
  };
  writeFileSync(join(PROJECT_ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  exitOnFailedGates(targets);
}

/** The bundles' table: zip, sizes, cold start against the reference, and what each client costs. */
function bundleLines(bundles: BundlesReport): string[] {
  const lines: string[] = [];
  const row = (cells: (string | number)[], widths: number[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  lines.push(
    `Bundles (serverless package${bundles.packageSeconds ? ` in ${bundles.packageSeconds.toFixed(1)} s` : ' skipped'}; cold start = median of ${coldRuns} fresh node processes: import the ES module + build clients; read at start = the entry and the chunks it imports statically)`,
  );
  const bw = [30, 12, 12, 14, 12, 14];
  lines.push(row(['', 'zip', 'unzipped', 'read at start', 'cold start', 'vs reference'], bw));
  for (const b of bundles.bundles)
    lines.push(row([b.handler, kb(b.bytes), kb(b.unzippedBytes), kb(b.startBytes), ms(b.coldStartMs), x(b.coldStartMs / b.referenceColdStartMs)], bw));
  lines.push(
    row(['reference (CloudFrontClient)', '', kb(bundles.reference.bytes), kb(bundles.reference.startBytes), ms(bundles.reference.coldStartMs), x(1)], bw),
  );
  for (const b of bundles.bundles) {
    for (const c of b.clientCosts) {
      lines.push(
        row(
          [
            `${b.handler} without ${c.without.map((p) => p.replace('@aws-sdk/client-', '')).join('+')}`,
            kb(c.zipWithoutBytes),
            kb(c.unzippedWithoutBytes),
            '',
            ms(c.coldStartWithoutMs),
            x(c.coldStartWithoutMs / b.referenceColdStartMs),
          ],
          bw,
        ),
      );
    }
  }
  lines.push(
    `  what a client costs = the shipped build minus the same build with that package aliased to a stub (esbuild, serverless.yml's settings); zipped = difference of deflate level 1 streams, ` +
      `the level serverless package zips at (zip minus our deflate of the same files: ${bundles.bundles.map((b) => `${b.zipOverheadBytes} B`).join(' / ')} of headers; our handler build ${bundles.bundles.map((b) => (b.handlerBundleBytes === b.unzippedBytes ? "has the zip entries' size" : `differs from the zip entries by ${b.handlerBundleBytes - b.unzippedBytes} B`)).join(' / ')})`,
  );
  for (const b of bundles.bundles) {
    lines.push(
      `  ${b.handler}: ${b.clientCosts.map((c) => `${c.without.join(' + ')} costs ${kb(c.zippedBytes)} zipped, ${kb(c.bytes)} unzipped, ${ms(b.coldStartMs - c.coldStartWithoutMs)} cold start`).join('; ')}`,
    );
  }
  return lines;
}

/** Issue 20's bundle targets: the zip size gates, the cold start reports only. */
function bundleTargets(bundles: BundlesReport): TargetSpec[] {
  return [
    ...bundles.bundles.map(
      (b): TargetSpec => ({ name: `${b.handler} zip <= 250 KB`, value: b.bytes, target: 250 * 1024, comparator: '<=', unit: 'KB', gating: true }),
    ),
    // No unzipped target: the SDK's CloudFront client alone is over 250 KB unzipped (the reference bundle).
    ...bundles.bundles.map(
      (b): TargetSpec => ({
        name: `${b.handler} cold start <= 1.2 x reference`,
        value: b.coldStartMs / b.referenceColdStartMs,
        target: 1.2,
        comparator: '<=',
        unit: 'x',
        gating: false,
      }),
    ),
  ];
}

function exitOnFailedGates(targets: readonly TargetResult[]): void {
  const failed = failedGates(targets);
  if (failed.length) {
    process.stderr.write(`bench: gating target(s) failed: ${failed.map((t) => t.name).join('; ')}\n`);
    process.exitCode = 1;
  }
}

interface Bursts {
  burst: BurstResult;
  burstDeployed: BurstResult;
  burstOff: BurstResult;
  /** Full run only: PUBLISH_GATE=off under DEPLOYED. */
  burstDeployedOff: BurstResult | undefined;
  burstHistory: BurstResult;
}

/** The bursts, one after another: gate on under both variants, gate off, then gate on with history. */
async function runBursts(withDeployedOff: boolean): Promise<Bursts> {
  const run = (settings: Record<string, string>, variants?: typeof DEPLOYED) =>
    runBurstScenario({ functions: burstFunctions, windowMs: burstWindowMs, concurrency: 2, settings, ...(variants ? { variants } : {}) });
  const burst = await run(PACED);
  const burstDeployed = await run(PACED, DEPLOYED);
  const burstOff = await run(GATE_OFF);
  const burstDeployedOff = withDeployedOff ? await run(GATE_OFF, DEPLOYED) : undefined;
  const burstHistory = await run(WITH_HISTORY);
  return { burst, burstDeployed, burstOff, burstDeployedOff, burstHistory };
}

function burstRows({ burst, burstDeployed, burstOff, burstDeployedOff, burstHistory }: Bursts): [string, BurstResult][] {
  return [
    ['gate on', burst],
    ['gate on', burstDeployed],
    ['PUBLISH_GATE=off', burstOff],
    ...(burstDeployedOff ? [['PUBLISH_GATE=off', burstDeployedOff] as [string, BurstResult]] : []),
    ['gate on, history on', burstHistory],
  ];
}

/** Each burst's summary: its calls by operation, its publishes and its outcomes. */
function burstLines(rows: readonly [string, BurstResult][]): string[] {
  const lines: string[] = [];
  for (const [gate, b] of rows) {
    lines.push(
      `Burst (${VARIANT}=${variantOf(b.variants)}, ${gate}): ${b.functions} opted-in functions (${b.associated} associated) updated by a CI job within ${burstWindowMs / 1000} s; ${b.deliveries} deliveries (${b.duplicates} duplicates) of ${b.events} events; handler concurrency 2, async retries 2`,
    );
    lines.push(
      `  reconciler calls ${b.calls} (${Object.entries(b.callsByOperation)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}), publishes ${b.publishes}, calls/publish ${b.callsPerPublish.toFixed(2)}, throttled+retried ${b.throttled}, failed events ${b.failures}, ${b.inSync ? 'all in sync' : 'NOT ALL IN SYNC'} after ${ms(b.wallMs)}`,
    );
    lines.push(
      `  outcomes: ${Object.entries(b.actions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; CI job's own calls ${b.updaterCalls} (${b.updaterThrottled} throttled), not counted`,
    );
  }
  return lines;
}

function burstTargets(bursts: Bursts): TargetSpec[] {
  const { burst, burstOff, burstHistory } = bursts;
  return [
    noFailures(
      'zero failed events, all in sync (burst)',
      burstRows(bursts).map(([, b]) => ({ failures: b.failures, outOfSync: !b.inSync })),
    ),
    // Issue 10's target for the gate. The associations are kept now (one read per burst, issue 20);
    // what is left over 4 per publish is the duplicates (20%) that race their original to a 412
    // publish and a re-read, and throttled retries, so it is reported, not gated.
    {
      name: `burst calls/publish <= ${BURST_GATE_ON_TARGET}, gate on (default var.)`,
      value: burst.callsPerPublish,
      target: BURST_GATE_ON_TARGET,
      comparator: '<=',
      unit: 'number',
      gating: false,
    },
    { name: 'burst calls/publish <= 4, gate off (default var.)', value: burstOff.callsPerPublish, target: 4, comparator: '<=', unit: 'number', gating: false },
    // The gate-on target plus the two reads a rollback needs: a saved record restores LIVE's code
    // (GetFunction) and its configuration (DescribeFunction LIVE: GetFunction answers no
    // configuration), and an UNPUBLISHED edit has not read LIVE on the way. Issue 20 assumed one
    // GetFunction (<= 6); dropping the configuration would make the record unable to roll back.
    {
      name: `burst calls/publish <= ${BURST_HISTORY_TARGET}, gate on, history on`,
      value: burstHistory.callsPerPublish,
      target: BURST_HISTORY_TARGET,
      comparator: '<=',
      unit: 'number',
      gating: false,
    },
  ];
}

/**
 * Issue 20's organisation targets: calls gate (ListAccounts once per fan-out), CPU and wall report only.
 * The wall is held to the larger of the network bound and the CPU floor: on a machine with fewer cores
 * than workers, the network bound alone is a figure no implementation could meet, so its ratio is
 * printed (orgLines) and kept in results.json (wallOverBound), not judged.
 */
function orgTargets(org: OrgResult): TargetSpec[] {
  const { cpu } = org;
  return [
    { name: 'org calls <= 1.02 x lower bound', value: org.ours.calls / org.lowerBound.calls, target: 1.02, comparator: '<=', unit: 'x', gating: true },
    {
      name: 'org wall <= 1.3 x max(network bound, CPU floor)',
      value: cpu.wallOverBoundOrFloor,
      target: 1.3,
      comparator: '<=',
      unit: 'x',
      gating: false,
    },
    { name: 'org worker CPU per account <= 20 ms', value: cpu.workerMsPerAccount, target: 20, comparator: '<=', unit: 'ms', gating: false },
    { name: 'org emulator CPU per call (median) <= 1 ms', value: cpu.emulatorMsPerCallMedian, target: 1, comparator: '<=', unit: 'ms', gating: false },
    noFailures('zero failures, all in sync (org)', [{ failures: org.ours.failures, outOfSync: org.outOfSyncAfter }]),
  ];
}

const round2 = (v: number) => Number(v.toFixed(2));

/** results.json's org.cpu: issue 20's figures, rounded. */
function orgCpuOut(org: OrgResult) {
  const { cpu } = org;
  return {
    workerMsPerAccount: round2(cpu.workerMsPerAccount),
    workerMsPerAccountMedian: round2(cpu.workerMsPerInvocationMedian),
    workerMs: Math.round(cpu.workerMs),
    emulatorMsPerCallMedian: round2(cpu.emulatorMsPerCallMedian),
    testFunctionMsPerCallMedian: round2(cpu.testFunctionMsPerCallMedian),
    emulatorProcessMsPerCall: round2(cpu.emulatorProcessMsPerCall),
    emulatorProcessMs: Math.round(org.parentCpuMs),
    cores: cpu.cores,
    cpuFloorMs: Math.round(cpu.floorMs),
    wallOverBoundOrFloor: round2(cpu.wallOverBoundOrFloor),
    wallOverBound: round2(cpu.wallOverBound),
    loadAverage: cpu.loadAverage.map(round2),
    measures:
      'workerMs: user + system CPU (process.cpuUsage) of every worker process from ready to stop, over the accounts (first invocations, which load SDK parts lazily, included; workerMsPerAccountMedian: the median invocation); ' +
      'emulatorMsPerCallMedian: CPU of each CloudFront call in the emulator over its synchronous stretches (emulator recordCallCpu), TestFunction aside; ' +
      'emulatorProcessMs: the bench process (emulator, its TestFunction threads, HTTP, queue, fan-out) over the run; cpuFloorMs = (workerMs + emulatorProcessMs) / cores; ' +
      'loadAverage: os.loadavg() at the end (1, 5, 15 min): other work on the machine, which neither CPU figure counts, stretches the wall',
  };
}

const yes = (b: boolean) => (b ? 'yes' : 'NO');

/** The organisation sweep's summary: what it cost against its bound, and where the calls and the time went. */
function orgLines(org: OrgResult): string[] {
  const op = (name: string) => org.callsByOperation[name] ?? 0;
  const b = org.perAccount;
  const pages = Math.max(1, Math.ceil(org.accounts / 20));
  const cpu = (v: number) => `${(v / 1000).toFixed(1)} s`;
  const ms1 = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  const c = org.cpu;
  const rss = org.workers.map((w) => w.maxRssBytes);
  const lines = [
    `Organisation sweep: ${org.accounts} accounts (the management account, with the member stack, and ${org.accounts - 1} members) x ${org.functionsPerAccount} functions ` +
      `(${org.fleet.optedIn} opted in; ${org.fleet.edited} edited since their last publish, ${org.fleet.editedOptedIn} of them opted in; no distributions); ` +
      `MEMBER_ACCOUNTS empty (ListAccounts), PUBLISH_GATE=smoke, no pacer; ${LATENCY_MS} ms/call, limit ${RATE.ratePerSecond}/s per account; ` +
      `fan-out, then ${org.workerConcurrency} worker processes taking one account per invocation`,
    `  calls ${org.ours.calls} vs lower bound ${org.lowerBound.calls} (${x(org.ours.calls / org.lowerBound.calls)}): ` +
      Object.entries(org.callsByOperation)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    `  bound per account ${b.calls} + 1 AssumeRole = ${b.pages} ListFunctions + ${b.connectionPages} ListConnectionFunctions + ${b.candidates} ListTagsForResource + ${b.optedCandidates + b.liveReads} DescribeFunction + ` +
      `${b.tests} TestFunction + ${b.distributionPages} ListDistributions + ${b.publishes} PublishFunction + 1; ` +
      `over the bound: ListAccounts ${op('ListAccounts')} (expected ${pages}: the fan-out's one listing, ceil(${org.accounts}/20) pages; the workers trust the sweep queue and list nothing)` +
      `${org.ours.calls - org.lowerBound.calls - op('ListAccounts') !== 0 ? `, other ${org.ours.calls - org.lowerBound.calls - op('ListAccounts')}` : ''}`,
    `  wall ${ms(org.ours.wallMs)} vs network bound ${ms(org.lowerBound.wallMs)} (${x(c.wallOverBound)}) and CPU floor ${ms(c.floorMs)} (${x(org.ours.wallMs / c.floorMs)}): ` +
      `${x(c.wallOverBoundOrFloor)} the larger; fan-out start to queue empty`,
    `  CPU: workers ${cpu(c.workerMs)} = ${ms1(c.workerMsPerAccount)} per account (median invocation ${ms1(c.workerMsPerInvocationMedian)}); ` +
      `emulator ${ms1(c.emulatorMsPerCallMedian)} per CloudFront call (median; TestFunction ${ms1(c.testFunctionMsPerCallMedian)} besides its run), ` +
      `this whole process (emulator, TestFunction threads, HTTP, queue, fan-out) ${cpu(org.parentCpuMs)} = ${ms1(c.emulatorProcessMsPerCall)} per call; ` +
      `floor = (workers + this process) / ${c.cores} cores; load average ${c.loadAverage.map((l) => l.toFixed(1)).join(' / ')} (other work on the machine counts in neither)`,
    `  AssumeRole ${org.ours.assumeRoleCalls} (${org.accounts} accounts${org.assumeRoleDenied ? `, ${org.assumeRoleDenied} denied` : ''}); ` +
      `published ${org.published} of ${org.expectedPublishes} expected; failures ${org.ours.failures} (failed outcomes ${org.failedOutcomes}, dead letters ${org.deadLetters}); ` +
      `every opted-in function in every account in sync: ${org.inSyncAfter ? 'yes' : `NO (${org.outOfSyncAfter} not)`}`,
    `  worker peak RSS ${mb(org.ours.workerPeakRssBytes)} (max of ${org.workers.length}; min ${mb(Math.min(...rss))}); ` +
      `invocations per worker ${org.workers.map((w) => w.invocations).join('/')}`,
  ];
  if (org.accounts < org.workerConcurrency) {
    lines.push(
      `  note: ${org.accounts} accounts keep only that many of the ${org.workerConcurrency} containers busy; the bound's time assumes all ${org.workerConcurrency} are`,
    );
  }
  return lines;
}
const gateOps = (...runs: EventPathRun[]) => {
  const sum = (name: string) => runs.reduce((a, r) => a + (r.callsByOperation[name] ?? 0), 0);
  return `TestFunction ${sum('TestFunction')}, ListDistributions ${sum('ListDistributions')}`;
};
const variantOf = (description: string) => /developmentStatusAfterAssociatedUpdate=(\w+)/.exec(description)?.[1] ?? '?';
const statusMax = (...runs: EventPathRun[]) => {
  const max: Record<string, number> = {};
  for (const r of runs) for (const [s, v] of Object.entries(r.maxCallsByStatus)) max[s] = Math.max(max[s] ?? 0, v);
  return Object.entries(max)
    .map(([s, v]) => `${s} ${v}`)
    .join(', ');
};

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
