/**
 * Scenario 1: one sweep over N functions (30% opted in, 5% UNPUBLISHED, seeded), ours vs the naive
 * reconciler, each in a fresh child process against the same emulator settings.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { startEmulator, SeededRandom } from '../emulator/index';
import { bundle, LATENCY_MS, pick, RATE, scratchDir, SEED } from './common';

export interface SweepRun {
  calls: number;
  wallMs: number;
  publishes: number;
  throttled: number;
  failures: number;
  callsByOperation: Record<string, number>;
  throttledByOperation: Record<string, number>;
  errorsByName: Record<string, number>;
  /** Requests the emulator received during the run (all actors; only the reconciler runs here). */
  emulatorCalls: number;
  maxRssBytes: number;
  inSyncAfter: boolean;
  [extra: string]: unknown;
}

export interface LowerBound {
  calls: number;
  wallMs: number;
  pages: number;
  unpublished: number;
  optedUnpublished: number;
  /** Explains wallMs. */
  definition: string;
}

export interface SweepResult {
  functions: number;
  ours: SweepRun;
  naive?: SweepRun;
  lowerBound: LowerBound;
}

const CODE = 'function handler(event) { return event.request; }';

export async function runSweepScenario(options: { functions: number; naive: boolean; concurrency: number; env?: Record<string, string> }): Promise<SweepResult> {
  const n = options.functions;
  const dir = scratchDir('sweep');
  const child = await bundle('bench/sweep-child.ts', join(dir, 'sweep-child.js'));

  // The fleet: the same seeded choice for both reconcilers.
  const random = new SeededRandom(SEED);
  const opted = pick(n, Math.round(n * 0.3), () => random.next());
  const unpublished = pick(n, Math.round(n * 0.05), () => random.next());
  const names = Array.from({ length: n }, (_, i) => `fn-${String(i).padStart(5, '0')}`);

  // ListFunctions answers in name order, 100 per page: the page of function i is floor(i / 100).
  const pages = Math.max(1, Math.ceil(n / 100));
  const optedUnpublished = [...unpublished].filter((i) => opted.has(i)).length;
  const lbCalls = pages + unpublished.size + 2 * optedUnpublished;
  const rateBound = (Math.max(0, lbCalls - RATE.burst) / RATE.ratePerSecond) * 1000 + LATENCY_MS;
  // Dependency chain: page p is listed after p+1 sequential List calls; then tags (1 call), and for
  // opted-in ones Describe and Publish (3 calls in a row).
  let chain = pages * LATENCY_MS;
  for (const i of unpublished) chain = Math.max(chain, (Math.floor(i / 100) + 1 + (opted.has(i) ? 3 : 1)) * LATENCY_MS);
  const lowerBound: LowerBound = {
    calls: lbCalls,
    wallMs: Math.max(rateBound, chain),
    pages,
    unpublished: unpublished.size,
    optedUnpublished,
    definition:
      `max((calls - burst) / rate + latency, dependency chain) = max((${lbCalls} - ${RATE.burst}) / ${RATE.ratePerSecond}/s + ${LATENCY_MS} ms, ${chain} ms)`,
  };

  const run = async (mode: 'ours' | 'naive'): Promise<SweepRun> => {
    const emulator = await startEmulator({ functionQuota: n + 10, latency: LATENCY_MS, rateLimit: RATE });
    try {
      for (let i = 0; i < n; i++) {
        const name = names[i]!;
        const tags: Record<string, string> = opted.has(i) ? { 'auto-publish': 'true', team: 'edge' } : { team: 'edge' };
        const seeded = emulator.state.seed({ name, code: `${CODE} // ${i}`, tags, publish: true });
        if (unpublished.has(i)) {
          // Half were updated after their last publish, half were never published.
          if (i % 2 === 0) {
            emulator.state.model.updateFunction({ name, ifMatch: seeded.developmentEtag, config: { comment: 'edited', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] }, code: Buffer.from(`${CODE} // v2 ${i}`) });
          } else {
            emulator.state.model.deleteFunction(name, seeded.liveEtag ?? seeded.developmentEtag);
            emulator.state.seed({ name, code: `${CODE} // ${i}`, tags });
          }
        }
      }
      emulator.controls.resetCalls();
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const proc = fork(child, [], {
          env: {
            PATH: process.env.PATH,
            BENCH_MODE: mode,
            CLOUDFRONT_ENDPOINT: emulator.endpoint,
            AWS_ACCESS_KEY_ID: 'AKIDRECONCILER',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_REGION: 'us-east-1',
            SWEEP_CONCURRENCY: String(options.concurrency),
            POWERTOOLS_SERVICE_NAME: 'cloudfront-autopublish',
            POWERTOOLS_METRICS_NAMESPACE: 'CloudFrontAutoPublish',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            ...options.env,
          },
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        let message: Record<string, unknown> | undefined;
        proc.on('message', (m) => (message = m as Record<string, unknown>));
        proc.on('error', reject);
        proc.on('exit', (code) => (message && !message.fatal ? resolve(message) : reject(new Error(`sweep child (${mode}) exited ${code}: ${String(message?.fatal ?? '')}`))));
      });
      const emulatorCalls = Object.values(emulator.controls.calls()).reduce((a, b) => a + b, 0);
      const snapshot = emulator.state.snapshot();
      const inSyncAfter = snapshot.every((f) => f.tags['auto-publish'] !== 'true' || f.live?.etag === f.development.etag);
      return { ...(result as unknown as SweepRun), emulatorCalls, inSyncAfter };
    } finally {
      await emulator.close();
    }
  };

  const ours = await run('ours');
  const naive = options.naive ? await run('naive') : undefined;
  return { functions: n, ours, ...(naive ? { naive } : {}), lowerBound };
}
