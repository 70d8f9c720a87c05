/**
 * One sweep in its own process, so that its peak RSS is the reconciler's alone (the emulator runs in
 * the parent). The parent bundles this file with esbuild (as the Lambda bundle is built) and forks it
 * with plain `node`: no tsx, no emulator in this heap.
 *
 *   BENCH_MODE=ours  → the real driftSweep handler (middy, Powertools, runtimeFromEnvironment)
 *   BENCH_MODE=naive → bench/naive.ts with the same client settings
 *
 * The result goes back over IPC; the handler's log lines go to stdout (the parent discards them).
 */
import { lambdaContext } from '../local/lambda-context';
import { handler } from '../handlers/drift-sweep';
import { runtimeFromEnvironment } from '../lib/runtime';
import type { SweepSummary } from '../lib/sweep';
import { instrument } from './instrument';
import { naiveReconcile } from './naive';


async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE ?? 'ours';
  const runtime = runtimeFromEnvironment();
  const counter = instrument(runtime.cloudFrontClient);
  const started = performance.now();
  let result: Record<string, unknown>;
  if (mode === 'naive') {
    const report = await naiveReconcile(runtime.cloudfront, runtime.policy.optedIn, runtime.config.sweepConcurrency);
    result = { publishes: report.published, failures: report.failures, listed: report.listed, errors: report.errors };
  } else {
    const scheduled = { version: '0', id: 'bench', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
    let summary: SweepSummary | undefined;
    let error: string | undefined;
    try {
      summary = (await handler(scheduled, lambdaContext('driftSweep', '123456789012', 600_000))) as SweepSummary;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    result = {
      publishes: summary?.counts.published ?? 0,
      failures: summary ? summary.failed.length : 1,
      listed: summary?.listed,
      candidates: summary?.candidates,
      deferred: summary?.deferred.length,
      counts: summary?.counts,
      ...(error ? { error } : {}),
    };
  }
  const wallMs = performance.now() - started;
  const c = counter.counts();
  process.send?.({
    ...result,
    wallMs,
    calls: counter.total(),
    callsByOperation: c.sent,
    throttled: counter.throttled(),
    throttledByOperation: c.throttled,
    errorsByName: c.errors,
    // kilobytes on Linux (process.resourceUsage), peak over the child's whole life.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  });
}

main().catch((error) => {
  process.send?.({ fatal: error instanceof Error ? error.stack : String(error) });
  process.exitCode = 1;
});
