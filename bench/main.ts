/**
 * `npm run bench [-- --functions N] [-- --quick]`: the reconciler's cost on the embedded emulator.
 * Prints a table with PASS/FAIL per target and writes bench/results.json. Exits non-zero when a
 * gating target fails (see GATING below); timing targets are reported but never gate, so a loaded CI
 * machine cannot make the build flaky.
 */
import '../emulator/quiet';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBundles } from './bundles';
import { runBurstScenario } from './burst-scenario';
import { LATENCY_MS, RATE, ROOT } from './common';
import { runSweepScenario, type SweepRun } from './sweep-scenario';

const { values: args } = parseArgs({
  options: {
    functions: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    'burst-functions': { type: 'string' },
    'skip-package': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const functions = Number(args.functions);
const burstFunctions = Number(args['burst-functions'] ?? (quick ? 50 : 200));
const burstWindowMs = quick ? 5_000 : 20_000;
const coldRuns = quick ? 7 : 20;
const CONCURRENCY = 4; // SWEEP_CONCURRENCY's default
// The pacer just under the emulator's 25 calls/s (see lib/cloudfront-gateway.ts). The naive
// reconciler gets the same client settings.
const PACED = { CLOUDFRONT_MAX_CALLS_PER_SECOND: String(RATE.ratePerSecond - 1) };

const kb = (b: number) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KB` : 'n/a');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const ms = (v: number) => `${Math.round(v)} ms`;
const x = (v: number) => `${v.toFixed(2)}x`;

interface Target {
  name: string;
  value: string;
  limit: string;
  pass: boolean;
  gating: boolean;
}

async function main(): Promise<void> {
  const started = performance.now();
  const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${s}\n`);

  log(`sweep: ${functions} functions, ours (paced ${PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND}/s)`);
  const sweep = await runSweepScenario({ functions, naive: false, concurrency: CONCURRENCY, env: PACED });
  let adaptiveOnly: SweepRun | undefined;
  if (!quick) {
    log('sweep: ours, adaptive retry only (no pacer)');
    adaptiveOnly = (await runSweepScenario({ functions, naive: false, concurrency: CONCURRENCY })).ours;
  }
  log('sweep: naive reconciler (same client settings)');
  const naive = (await runSweepScenario({ functions, naive: true, concurrency: CONCURRENCY, env: PACED })).naive as SweepRun;
  log(`burst: ${burstFunctions} functions updated within ${burstWindowMs / 1000} s, handler concurrency 2`);
  const burst = await runBurstScenario({ functions: burstFunctions, windowMs: burstWindowMs, concurrency: 2, env: PACED });
  log(`bundles: serverless package + ${coldRuns} cold starts each`);
  const bundles = await runBundles({ runs: coldRuns, packageIt: !args['skip-package'] });

  const { ours, lowerBound } = sweep;
  const lines: string[] = [];
  const row = (cells: (string | number)[], widths: number[]) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  const w = [30, 7, 7, 9, 9, 8, 9, 9, 9, 8];
  lines.push(`Sweep: ${functions} functions (${lowerBound.unpublished} UNPUBLISHED, ${lowerBound.optedUnpublished} of them opted in), ${LATENCY_MS} ms/call, limit ${RATE.ratePerSecond}/s burst ${RATE.burst}, concurrency ${CONCURRENCY}`);
  lines.push(row(['', 'List', 'Tags', 'Describe', 'Publish', 'calls', 'wall', 'published', 'throttled', 'failures'], w));
  const sweepRow = (label: string, r: { callsByOperation: Record<string, number>; calls: number; wallMs: number; publishes: number; throttled: number; failures: number }) =>
    row([label, r.callsByOperation.ListFunctions ?? 0, r.callsByOperation.ListTagsForResource ?? 0, r.callsByOperation.DescribeFunction ?? 0, r.callsByOperation.PublishFunction ?? 0, r.calls, ms(r.wallMs), r.publishes, r.throttled, r.failures], w);
  lines.push(row(['lower bound', lowerBound.pages, lowerBound.unpublished, lowerBound.optedUnpublished, lowerBound.optedUnpublished, lowerBound.calls, ms(lowerBound.wallMs), lowerBound.optedUnpublished, 0, 0], w));
  lines.push(sweepRow(`ours (pacer ${PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND}/s)`, ours));
  if (adaptiveOnly) lines.push(sweepRow('ours (adaptive retry only)', adaptiveOnly));
  lines.push(sweepRow('naive (list, tags+2 stages each)', naive));
  lines.push(`  lower-bound time = ${lowerBound.definition}`);
  lines.push(`  ratios: ours/lower bound calls ${x(ours.calls / lowerBound.calls)}, wall ${x(ours.wallMs / lowerBound.wallMs)}; naive/ours calls ${x(naive.calls / ours.calls)}, wall ${x(naive.wallMs / ours.wallMs)}; naive/lower bound calls ${x(naive.calls / lowerBound.calls)}`);
  lines.push(`  calls = every request sent (throttled attempts included), counted in the client; the emulator saw ${ours.emulatorCalls} (ours) / ${naive.emulatorCalls} (naive)`);
  lines.push(`  peak RSS of the sweep's own process (bundled child, emulator in the parent): ours ${mb(ours.maxRssBytes)}, naive ${mb(naive.maxRssBytes)}`);
  lines.push('');
  lines.push(`Burst: ${burst.functions} opted-in functions updated by a CI job within ${burstWindowMs / 1000} s; ${burst.deliveries} deliveries (${burst.duplicates} duplicates) of ${burst.events} events; handler concurrency 2, async retries 2`);
  lines.push(
    `  reconciler calls ${burst.calls} (${Object.entries(burst.callsByOperation).map(([k, v]) => `${k} ${v}`).join(', ')}), publishes ${burst.publishes}, calls/publish ${burst.callsPerPublish.toFixed(2)}, throttled+retried ${burst.throttled}, failed events ${burst.failures}, all in sync after ${ms(burst.wallMs)}`,
  );
  lines.push(`  outcomes: ${Object.entries(burst.actions).map(([k, v]) => `${k} ${v}`).join(', ')}; CI job's own calls ${burst.updaterCalls} (${burst.updaterThrottled} throttled), not counted`);
  lines.push('');
  lines.push(`Bundles (serverless package${bundles.packageSeconds ? ` in ${bundles.packageSeconds.toFixed(1)} s` : ' skipped'}; cold start = median of ${coldRuns} fresh node processes: require + build clients)`);
  const bw = [30, 12, 12, 12, 14];
  lines.push(row(['', 'zip', 'unzipped', 'cold start', 'vs reference'], bw));
  for (const b of bundles.bundles) lines.push(row([b.handler, kb(b.bytes), kb(b.unzippedBytes), ms(b.coldStartMs), x(b.coldStartMs / b.referenceColdStartMs)], bw));
  lines.push(row(['reference (CloudFrontClient)', '', kb(bundles.reference.bytes), ms(bundles.reference.coldStartMs), x(1)], bw));
  lines.push('');

  const targets: Target[] = [
    { name: 'sweep calls <= 1.1 x lower bound', value: x(ours.calls / lowerBound.calls), limit: '1.10x', pass: ours.calls <= 1.1 * lowerBound.calls, gating: true },
    { name: 'naive calls >= 10 x ours', value: x(naive.calls / ours.calls), limit: '10x', pass: naive.calls >= 10 * ours.calls, gating: true },
    { name: 'sweep wall <= 1.3 x lower-bound time', value: x(ours.wallMs / lowerBound.wallMs), limit: '1.30x', pass: ours.wallMs <= 1.3 * lowerBound.wallMs, gating: false },
    { name: 'zero failures, all in sync (sweep)', value: `${ours.failures}/${naive.failures}${ours.inSyncAfter && naive.inSyncAfter ? '' : ' NOT IN SYNC'}`, limit: '0', pass: ours.failures === 0 && naive.failures === 0 && ours.inSyncAfter && naive.inSyncAfter, gating: true },
    { name: 'zero failed events, all in sync (burst)', value: `${burst.failures}${burst.inSync ? '' : ' NOT IN SYNC'}`, limit: '0', pass: burst.failures === 0 && burst.inSync, gating: true },
    { name: 'burst calls per publish <= 4', value: burst.callsPerPublish.toFixed(2), limit: '4.00', pass: burst.callsPerPublish <= 4, gating: false },
    ...bundles.bundles.map((b) => ({ name: `${b.handler} zip <= 250 KB`, value: kb(b.bytes), limit: '250 KB', pass: !(b.bytes > 250 * 1024), gating: true })),
    ...bundles.bundles.map((b) => ({ name: `${b.handler} unzipped <= 250 KB`, value: kb(b.unzippedBytes), limit: '250 KB', pass: b.unzippedBytes <= 250 * 1024, gating: false })),
    ...bundles.bundles.map((b) => ({ name: `${b.handler} cold start <= 1.3 x reference`, value: x(b.coldStartMs / b.referenceColdStartMs), limit: '1.30x', pass: b.coldStartMs <= 1.3 * b.referenceColdStartMs, gating: false })),
    { name: 'sweep peak RSS <= 128 MB', value: mb(ours.maxRssBytes), limit: '128 MB', pass: ours.maxRssBytes <= 128 * 1024 * 1024, gating: false },
  ];
  const tw = [42, 14, 12, 6, 10];
  lines.push(row(['target', 'value', 'limit', '', 'gates CI'], tw));
  for (const t of targets) lines.push(row([t.name, t.value, t.limit, t.pass ? 'PASS' : 'FAIL', t.gating ? 'yes' : 'no'], tw));
  lines.push(`(${quick ? 'quick' : 'full'} run, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const strip = (r: SweepRun) => ({ calls: r.calls, wallMs: Math.round(r.wallMs), publishes: r.publishes, throttled: r.throttled, failures: r.failures, callsByOperation: r.callsByOperation, maxRssBytes: r.maxRssBytes });
  const results = {
    quick,
    sweep: {
      functions,
      ours: strip(ours),
      ...(adaptiveOnly ? { oursAdaptiveOnly: strip(adaptiveOnly) } : {}),
      naive: strip(naive),
      lowerBound: { calls: lowerBound.calls, wallMs: Math.round(lowerBound.wallMs), definition: lowerBound.definition },
      settings: { latencyMs: LATENCY_MS, rateLimit: RATE, concurrency: CONCURRENCY, pacer: Number(PACED.CLOUDFRONT_MAX_CALLS_PER_SECOND) },
    },
    burst: { ...burst, wallMs: Math.round(burst.wallMs), callsPerPublish: Number(burst.callsPerPublish.toFixed(3)) },
    bundles: bundles.bundles.map((b) => ({ ...b, coldStartMs: Number(b.coldStartMs.toFixed(1)), referenceColdStartMs: Number(b.referenceColdStartMs.toFixed(1)) })),
    referenceBundle: bundles.reference,
    sweepPeakRssBytes: ours.maxRssBytes,
    sweepPeakRssMeasures: "the sweep child process only (esbuild bundle of bench/sweep-child.ts run by plain node: the real driftSweep handler + SDK), not the emulator",
    targets,
  };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const failedGates = targets.filter((t) => t.gating && !t.pass);
  if (failedGates.length) {
    process.stderr.write(`bench: gating target(s) failed: ${failedGates.map((t) => t.name).join('; ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
