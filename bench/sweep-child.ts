/**
 * One sweep in its own process, so that its peak RSS is the reconciler's alone (the emulator runs in
 * the parent). The parent bundles this file with esbuild (as the Lambda bundle is built) and forks it
 * with plain `node`: no tsx, no emulator in this heap. What to run comes as JSON in argv[2] (a
 * SweepJob), not from the environment:
 *
 *   mode 'ours'  → the real driftSweep handler (middy, Powertools), built by makeDriftSweep(runtime)
 *   mode 'naive' → bench/naive.ts with the same client settings
 *
 * The result goes back over IPC; the handler's log lines go to stdout (the parent discards them).
 */
import { makeDriftSweep } from '../handlers/drift-sweep';
import { loadConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import type { SweepSummary } from '../lib/sweep';
import { lambdaContext } from '../local/lambda-context';
import { countedCloudFrontClient } from './instrument';
import { naiveReconcile } from './naive';

export interface SweepJob {
  readonly mode: 'ours' | 'naive';
  /** Reconciler settings, as the Lambda environment would hold them (CLOUDFRONT_ENDPOINT included). */
  readonly settings: Readonly<Record<string, string>>;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The account the sweep's Lambda context says it runs in. */
  readonly account: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as SweepJob;
  const config = loadConfig(job.settings);
  const { client, counter } = countedCloudFrontClient(config, job.credentials);
  // S3 (the history bucket) signs with the same keys; its calls are counted by the emulator.
  const runtime = createRuntime(config, { cloudFront: client, credentials: job.credentials });
  const started = performance.now();
  let result: Record<string, unknown>;
  if (job.mode === 'naive') {
    const report = await naiveReconcile(runtime.cloudfrontFor(job.account), runtime.policy.optedIn, config.sweepConcurrency);
    result = { publishes: report.published, failures: report.failures, listed: report.listed, errors: report.errors };
  } else {
    const scheduled = { version: '0', id: 'bench', 'detail-type': 'Scheduled Event', source: 'aws.events', account: job.account, detail: {} };
    let summary: SweepSummary | undefined;
    let error: string | undefined;
    try {
      summary = await makeDriftSweep(runtime)(scheduled, lambdaContext('driftSweep', job.account, 600_000));
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
