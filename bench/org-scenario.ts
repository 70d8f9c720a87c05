/**
 * Issue 11: organisation mode's scheduled sweep over many accounts. One emulator (in this process)
 * serves the organisation: the management account, where the central stack runs, and member accounts,
 * every one of them with the member role trusting the central reconciler role and the same fleet of
 * functions. ListAccounts lists them all (MEMBER_ACCOUNTS is empty, the default deployment), so the
 * management account is one of the accounts swept: it carries the member stack and the fleet too,
 * and `accounts` counts it (with no member role there, its message would fail three times and go to
 * the dead-letter queue, as test/e2e/organization.test.ts shows).
 *
 * The run: the real fan-out (makeSweepFanOut, in this process, sending to a LocalQueue), then W
 * worker containers draining the queue as an SQS event source with maximum concurrency W does, in
 * one account per batch, as serverless.yml sets. Each container is its own process (bench/org-child.ts, bundled), started before the
 * clock (a warm container: process start-up and module loading are not the reconciler's cost, see
 * the bundles' cold starts) with its own runtime; its first invocation lists the organisation and
 * assumes roles from a cold cache, as a fresh container's does.
 *
 * The fleet per account: N functions, all published, 5% edited since (DEVELOPMENT ahead of LIVE,
 * UNPUBLISHED), 30% opted in, the edited ones at the same 30% (at least one when two or more), no
 * distributions. Same plan in every account.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { makeSweepFanOut } from '../handlers/drift-sweep';
import { DEFAULTS, loadConfig } from '../lib/config';
import type { SweepRequest } from '../lib/fan-out';
import { createObservability } from '../lib/report';
import { createRuntime } from '../lib/runtime';
import { type Emulator, SeededRandom, startEmulator } from '../emulator/index';
import { lambdaContext } from '../local/lambda-context';
import { CENTRAL_ACCOUNT, memberAccount, SWEEP_WORKER_ROLE_ARN } from '../local/organization-stack';
import { LocalQueue } from '../local/queue';
import { bundle, FUNCTION_CODE, LATENCY_MS, pick, RATE, scratchDir, SEED, type Settings, sleep } from './common';
import type { FromWorker, OrgWorkerJob, ToWorker } from './org-child';
import { flagged, type LowerBound, lowerBoundOf } from './sweep-scenario';

/** The central reconciler role's own key (its Lambda's credentials), bound to that role in the emulator. */
const RECONCILER_KEY = 'AKIDCFAUTOPUBLISHBENCH';
const OPTED_IN = { 'auto-publish': 'true', team: 'edge' };
const NOT_OPTED_IN = { team: 'edge' };

/** What results.json keeps under `org` (other tooling reads this shape). */
export interface OrgFigures {
  accounts: number;
  functionsPerAccount: number;
  workerConcurrency: number;
  ours: { calls: number; wallMs: number; failures: number; assumeRoleCalls: number; workerPeakRssBytes: number };
  lowerBound: { calls: number; wallMs: number; definition: string };
}

/** The figures, and what the printed summary needs besides. */
export interface OrgResult extends OrgFigures {
  callsByOperation: Record<string, number>;
  /** Messages the fan-out sent (accounts ListAccounts listed as ACTIVE). */
  fanOutAccounts: number;
  deadLetters: number;
  failedOutcomes: number;
  /** Accounts swept to the end (onAccountSwept), retries included. */
  sweptAccounts: number;
  published: number;
  /** Publishes the plan needs: every opted-in function edited since its last publish, in every account. */
  expectedPublishes: number;
  /** Opted-in functions whose LIVE differs from DEVELOPMENT afterwards, over all accounts. */
  outOfSyncAfter: number;
  inSyncAfter: boolean;
  /** Throttled CloudFront answers are counted in `calls`; AssumeRole answers other than issued are here. */
  assumeRoleDenied: number;
  /** One account's bound (every account holds the same fleet). */
  perAccount: LowerBound;
  /** Per worker process: invocations served and its peak RSS. */
  workers: { invocations: number; maxRssBytes: number; cpuMs: number }[];
  /**
   * CPU time of this process (the emulator, its TestFunction threads, the queue, the fan-out) from
   * fan-out start to queue empty: with the workers' own, it tells a wall time bounded by the
   * machine's cores from one bounded by latency.
   */
  parentCpuMs: number;
  fleet: { optedIn: number; edited: number; editedOptedIn: number };
  settings: Settings;
  /** Issue 20's CPU figures of this run (the summary and results.json show them next to the wall). */
  cpu: OrgCpu;
}

/** Where the organisation sweep's CPU went, and what it makes the floor of the wall time. */
export interface OrgCpu {
  /** The worker processes' CPU (user + system, process.cpuUsage in each) over the run, per account swept. */
  workerMsPerAccount: number;
  workerMs: number;
  /** The median invocation's CPU (one account each): the steady state, without a fresh container's first. */
  workerMsPerInvocationMedian: number;
  /** os.loadavg() at the end: the machine's other work, which stretches the wall and neither CPU figure counts. */
  loadAverage: number[];
  /** The emulator's CPU per CloudFront call, median, TestFunction aside (emulator recordCallCpu). */
  emulatorMsPerCallMedian: number;
  /** The same for TestFunction: its parsing and reply, its run in the runner thread not included. */
  testFunctionMsPerCallMedian: number;
  /** This process's whole CPU (emulator, its runner threads, HTTP, the queue, the fan-out) per call: a mean, an upper bound. */
  emulatorProcessMsPerCall: number;
  cores: number;
  /** (worker CPU + this process's CPU) / cores: the shortest wall this machine allows for the run. */
  floorMs: number;
  /** wall / max(network bound, CPU floor): issue 20's target (<= 1.3). */
  wallOverBoundOrFloor: number;
  /** wall / network bound alone. */
  wallOverBound: number;
}

/** Median of a list of numbers (0 when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface OrgFleet {
  names: string[];
  opted: Set<number>;
  edited: Set<number>;
}

/** One account's plan, from the bench's seed (the same in every account). */
function planOrgFleet(n: number): OrgFleet {
  const random = new SeededRandom(SEED);
  const next = () => random.next();
  const names = Array.from({ length: n }, (_, i) => `fn-${String(i).padStart(5, '0')}`);
  const opted = pick(n, Math.round(n * 0.3), next);
  const count = Math.round(n * 0.05);
  const optedCount = count >= 2 ? Math.max(1, Math.round(count * 0.3)) : Math.round(count * 0.3);
  const from = (pool: number[], k: number) => [...pick(pool.length, Math.min(k, pool.length), next)].map((j) => pool[j]!);
  const all = Array.from({ length: n }, (_, i) => i);
  const edited = new Set([
    ...from(
      all.filter((i) => opted.has(i)),
      optedCount,
    ),
    ...from(
      all.filter((i) => !opted.has(i)),
      count - optedCount,
    ),
  ]);
  return { names, opted, edited };
}

/**
 * Powertools' warning when an invocation ends with no metric left to flush (the worker flushes one
 * EMF record per account, then the middleware flushes again at the end of the batch): once per
 * invocation, so not passed on.
 */
const EMPTY_METRICS_WARNING = 'No application metrics to publish';

/** The child's stderr, line by line, to ours, less the warning above. */
function forwardStderr(proc: ChildProcess): void {
  let partial = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '' && !line.includes(EMPTY_METRICS_WARNING)) process.stderr.write(`[org worker ${proc.pid}] ${line}\n`);
  });
  proc.stderr?.on('end', () => {
    if (partial !== '' && !partial.includes(EMPTY_METRICS_WARNING)) process.stderr.write(`[org worker ${proc.pid}] ${partial}\n`);
  });
}

/** A pool of worker processes; `invoke` hands an event to an idle one (the queue never runs more than the pool holds). */
class WorkerPool {
  private readonly idle: ChildProcess[] = [];
  private readonly pending = new Map<number, (message: Extract<FromWorker, { type: 'result' }>) => void>();
  private nextId = 0;
  swept = 0;
  failedOutcomes = 0;
  published = 0;
  /** CPU of each invocation, as its worker measured it. */
  readonly invocationCpuMs: number[] = [];

  private constructor(private readonly processes: ChildProcess[]) {}

  static async start(file: string, job: OrgWorkerJob, size: number): Promise<WorkerPool> {
    const processes: ChildProcess[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      // The settings travel in argv; the environment only keeps the SDK's Node version notice quiet.
      // BENCH_ORG_CPU_PROF=<dir>: each worker writes a V8 CPU profile there (node --cpu-prof) when it exits.
      // BENCH_WORKER_NODE=<node binary>: the workers run on that Node (Lambda's major, say), the bench on its own.
      const profileDir = process.env.BENCH_ORG_CPU_PROF;
      const proc = fork(file, [JSON.stringify(job)], {
        ...(profileDir ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
        ...(process.env.BENCH_WORKER_NODE ? { execPath: process.env.BENCH_WORKER_NODE } : {}),
        env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      forwardStderr(proc);
      processes.push(proc);
      ready.push(
        new Promise<void>((resolve, reject) => {
          proc.once('error', reject);
          proc.once('exit', (code) => reject(new Error(`org worker ${i} exited ${code} before it was ready`)));
          proc.once('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : reject(new Error(`org worker ${i}: ${JSON.stringify(m)}`))));
        }),
      );
    }
    const pool = new WorkerPool(processes);
    try {
      await Promise.all(ready);
    } catch (error) {
      pool.kill();
      throw error;
    }
    for (const proc of processes) {
      proc.removeAllListeners();
      proc.on('message', (m: FromWorker) => {
        if (m.type !== 'result') return;
        const answer = pool.pending.get(m.id);
        pool.pending.delete(m.id);
        answer?.(m);
      });
      proc.on('exit', (code) => {
        for (const answer of pool.pending.values())
          answer({ type: 'result', id: -1, error: `a worker exited (${code})`, swept: 0, failedOutcomes: 0, published: 0 });
        pool.pending.clear();
      });
      pool.idle.push(proc);
    }
    return pool;
  }

  /** One SQS batch to an idle container; resolves to the handler's answer, rejects when it threw. */
  async invoke(event: SQSEvent): Promise<unknown> {
    const proc = this.idle.pop();
    if (!proc) throw new Error('org bench: more invocations at once than worker processes');
    const id = this.nextId++;
    try {
      const result = await new Promise<Extract<FromWorker, { type: 'result' }>>((resolve) => {
        const lost = (why: string) => resolve({ type: 'result', id, error: why, swept: 0, failedOutcomes: 0, published: 0 });
        // A container that died fails the batch (the queue retries it), rather than leaving the drain waiting.
        if (!proc.connected) return lost(`worker process ${proc.pid} is gone (exit ${proc.exitCode})`);
        this.pending.set(id, resolve);
        proc.send({ type: 'invoke', id, event } satisfies ToWorker, (error) => {
          if (!error) return;
          this.pending.delete(id);
          lost(`could not reach worker process ${proc.pid}: ${error.message}`);
        });
      });
      if (result.cpuMs !== undefined) this.invocationCpuMs.push(result.cpuMs);
      this.swept += result.swept;
      this.failedOutcomes += result.failedOutcomes;
      this.published += result.published;
      if (result.error !== undefined) throw new Error(result.error);
      return result.response;
    } finally {
      this.idle.push(proc);
    }
  }

  /** Stops every process; each reports its peak RSS first. */
  async stop(): Promise<{ invocations: number; maxRssBytes: number; cpuMs: number }[]> {
    return Promise.all(
      this.processes.map(
        (proc, i) =>
          new Promise<{ invocations: number; maxRssBytes: number; cpuMs: number }>((resolve, reject) => {
            let stats: { invocations: number; maxRssBytes: number; cpuMs: number } | undefined;
            proc.removeAllListeners('exit');
            proc.on('message', (m: FromWorker) => {
              if (m.type === 'stats') stats = { invocations: m.invocations, maxRssBytes: m.maxRssBytes, cpuMs: m.cpuMs };
            });
            proc.once('exit', (code) => (stats ? resolve(stats) : reject(new Error(`org worker ${i} exited ${code} without its stats`))));
            proc.send({ type: 'stop' } satisfies ToWorker);
          }),
      ),
    );
  }

  kill(): void {
    for (const proc of this.processes) if (proc.exitCode === null) proc.kill();
  }
}

export async function runOrgScenario(options: {
  accounts: number;
  functionsPerAccount: number;
  workerConcurrency: number;
  /** Reconciler settings besides the organisation's (default: none, the deployed defaults). */
  settings?: Settings;
  log?: (s: string) => void;
}): Promise<OrgResult> {
  const { accounts: count, functionsPerAccount: n, workerConcurrency: w } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--accounts must be a whole number >= 1, not ${count}`);
  if (!Number.isInteger(w) || w < 1) throw new RangeError(`--worker-concurrency must be a whole number >= 1, not ${w}`);
  const dir = scratchDir('org');
  // Profiled (BENCH_ORG_CPU_PROF), the worker is bundled unminified so the profile names functions.
  const child = await bundle('bench/org-child.ts', join(dir, 'org-child.js'), process.env.BENCH_ORG_CPU_PROF ? { minify: false, keepNames: true } : {});
  const plan = planOrgFleet(n);
  const isOpted = (f: { tags: Readonly<Record<string, string>> }) => f.tags['auto-publish'] === 'true';

  const emulator: Emulator = await startEmulator({ accountId: CENTRAL_ACCOUNT, functionQuota: n + 10, latency: LATENCY_MS, rateLimit: RATE });
  let pool: WorkerPool | undefined;
  try {
    // The management account is listed too (see above): it is account 1 of `count`.
    const accounts = [CENTRAL_ACCOUNT, ...Array.from({ length: count - 1 }, (_, i) => memberAccount(i + 1))];
    emulator.iam.setPrincipal(RECONCILER_KEY, SWEEP_WORKER_ROLE_ARN);
    const etags = new Map<string, string[]>();
    for (const account of accounts) {
      if (account !== CENTRAL_ACCOUNT) emulator.addAccount(account, { name: `account ${account}` });
      emulator.iam.createRole({ account, roleName: DEFAULTS.memberRoleName, trustedPrincipalArns: [SWEEP_WORKER_ROLE_ARN] });
      const { state } = emulator.account(account);
      etags.set(
        account,
        plan.names.map(
          (name, i) => state.seed({ name, code: `${FUNCTION_CODE} // ${i}`, tags: plan.opted.has(i) ? OPTED_IN : NOT_OPTED_IN, publish: true }).developmentEtag,
        ),
      );
    }
    // Edits strictly later (in ms) than every seed publish, so LastModifiedTime tells them apart too.
    await sleep(5);
    for (const account of accounts) {
      const { model } = emulator.account(account).state;
      for (const i of plan.edited) {
        model.updateFunction({
          name: plan.names[i]!,
          ifMatch: etags.get(account)![i],
          config: { comment: 'edited', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
          code: Buffer.from(`${FUNCTION_CODE} // v2 ${i}`),
        });
      }
    }

    // The bound, per account, from the state the sweep will find (snapshot() makes no call).
    const settings: Settings = { ...options.settings };
    const gateOn = loadConfig(settings).publishGate !== 'off';
    const bounds = accounts.map((account) => {
      const before = emulator.account(account).state.snapshot();
      const found = before.filter(flagged).map((f) => f.name);
      const expected = new Set([...plan.edited].map((i) => plan.names[i]!));
      if (found.length !== expected.size || !found.every((name) => expected.has(name))) {
        throw new Error(`org bench fleet (${account}): the listings would flag ${found.length} functions, the plan edited ${expected.size}`);
      }
      // No distributions: every function to publish gets the gate's one smoke case.
      return lowerBoundOf(before, isOpted, {
        on: gateOn,
        distributions: emulator.account(account).state.distributions().length,
        eventTypesOf: () => new Set(),
      });
    });
    const perAccount = bounds[0]!;
    const boundCalls = bounds.reduce((sum, b) => sum + b.calls + 1, 0);
    const perAccountMs = Math.max(...bounds.map((b) => b.wallMs)) + LATENCY_MS;
    const rounds = Math.ceil(count / w);
    const boundWallMs = rounds * perAccountMs;
    const definition =
      `calls = sum over the ${count} accounts of (that account's bound as the single-account sweep's, sweep.lowerBound.definition, states it, publish gate ` +
      `included: ${perAccount.calls} = ${perAccount.pages} ListFunctions + ${perAccount.connectionPages} ListConnectionFunctions + ${perAccount.candidates} ListTagsForResource + ` +
      `${perAccount.optedCandidates + perAccount.liveReads} DescribeFunction + ${perAccount.tests} TestFunction + ${perAccount.distributionPages} ListDistributions + ` +
      `${perAccount.publishes} PublishFunction here; + 1 AssumeRole) = ${count} x (${perAccount.calls} + 1) = ${boundCalls}; ListAccounts is not in the bound ` +
      `(MEMBER_ACCOUNTS could spare it); time = ceil(accounts / worker concurrency) x per-account time = ceil(${count}/${w}) x ` +
      `(${Math.round(perAccountMs - LATENCY_MS)} ms, that account's bound time at ${LATENCY_MS} ms/call and ${RATE.ratePerSecond}/s per account, + ${LATENCY_MS} ms ` +
      `for its AssumeRole, which precedes any call in it) = ${rounds} x ${Math.round(perAccountMs)} ms = ${Math.round(boundWallMs)} ms`;

    // The runtimes: the fan-out's here (it sends to the local queue), each worker's in its process.
    const orgSettings: Settings = {
      ...settings,
      ORGANIZATION_MODE: 'true',
      MEMBER_ACCOUNTS: '',
      CLOUDFRONT_ENDPOINT: emulator.endpoint,
      STS_ENDPOINT: emulator.endpoint,
      ORGANIZATIONS_ENDPOINT: emulator.endpoint,
    };
    const credentials = { accessKeyId: RECONCILER_KEY, secretAccessKey: 'bench' };
    const queue = new LocalQueue<SweepRequest>({ batchSize: 1, maxReceiveCount: 3 });
    const fanOut = makeSweepFanOut(
      createRuntime(loadConfig(orgSettings), { credentials, sweepQueue: queue, observability: createObservability({ quiet: true }) }),
    );
    options.log?.(`org: ${w} worker processes starting`);
    pool = await WorkerPool.start(child, { settings: orgSettings, credentials, account: CENTRAL_ACCOUNT }, w);

    emulator.controls.resetCalls();
    emulator.controls.recordCallCpu(true);
    emulator.sts.clearAssumeRoleCalls();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const scheduled = { version: '0', id: 'bench', 'detail-type': 'Scheduled Event', source: 'aws.events', account: CENTRAL_ACCOUNT, detail: {} };
    const fanOutSummary = (await fanOut(scheduled, lambdaContext('driftSweep', CENTRAL_ACCOUNT, 600_000))) as { accounts: number };
    const workers = pool;
    await queue.drain((event) => workers.invoke(event), { concurrency: w });
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);

    const callsByOperation = emulator.controls.calls();
    const calls = Object.values(callsByOperation).reduce((a, b) => a + b, 0);
    const callCpu = emulator.controls.callCpu();
    emulator.controls.recordCallCpu(false);
    const assumed = emulator.sts.assumeRoleCalls();
    const stats = await pool.stop();
    pool = undefined;

    let outOfSyncAfter = 0;
    for (const account of accounts) {
      outOfSyncAfter += emulator
        .account(account)
        .state.snapshot()
        .filter((f) => isOpted(f) && f.live?.etag !== f.development.etag).length;
    }
    const editedOptedIn = [...plan.edited].filter((i) => plan.opted.has(i)).length;
    if (fanOutSummary.accounts !== count) {
      throw new Error(`org bench: the fan-out listed ${fanOutSummary.accounts} accounts, the organisation has ${count} (all ACTIVE)`);
    }
    return {
      accounts: count,
      functionsPerAccount: n,
      workerConcurrency: w,
      ours: {
        calls,
        wallMs,
        failures: workers.failedOutcomes + queue.deadLetters.length,
        assumeRoleCalls: assumed.length,
        workerPeakRssBytes: Math.max(...stats.map((s) => s.maxRssBytes)),
      },
      lowerBound: { calls: boundCalls, wallMs: boundWallMs, definition },
      callsByOperation,
      fanOutAccounts: fanOutSummary.accounts,
      deadLetters: queue.deadLetters.length,
      failedOutcomes: workers.failedOutcomes,
      sweptAccounts: workers.swept,
      published: workers.published,
      expectedPublishes: editedOptedIn * count,
      outOfSyncAfter,
      inSyncAfter: outOfSyncAfter === 0,
      assumeRoleDenied: assumed.filter((a) => a.outcome !== 'issued').length,
      perAccount,
      workers: stats,
      parentCpuMs: (cpu.user + cpu.system) / 1000,
      fleet: { optedIn: plan.opted.size, edited: plan.edited.size, editedOptedIn },
      settings,
      cpu: orgCpu({
        stats,
        invocationCpuMs: workers.invocationCpuMs,
        accounts: count,
        callCpu,
        calls,
        parentCpuMs: (cpu.user + cpu.system) / 1000,
        wallMs,
        boundWallMs,
      }),
    };
  } finally {
    pool?.kill();
    await emulator.close();
  }
}

function orgCpu(run: {
  stats: { cpuMs: number }[];
  invocationCpuMs: number[];
  accounts: number;
  callCpu: Record<string, number[]>;
  calls: number;
  parentCpuMs: number;
  wallMs: number;
  boundWallMs: number;
}): OrgCpu {
  const workerMs = run.stats.reduce((sum, s) => sum + s.cpuMs, 0);
  const cores = availableParallelism();
  const floorMs = (workerMs + run.parentCpuMs) / cores;
  const others = Object.entries(run.callCpu).flatMap(([operation, samples]) => (operation === 'TestFunction' ? [] : samples));
  return {
    workerMsPerAccount: workerMs / run.accounts,
    workerMs,
    workerMsPerInvocationMedian: median(run.invocationCpuMs),
    loadAverage: loadavg(),
    emulatorMsPerCallMedian: median(others) / 1000,
    testFunctionMsPerCallMedian: median(run.callCpu.TestFunction ?? []) / 1000,
    emulatorProcessMsPerCall: run.parentCpuMs / Math.max(1, run.calls),
    cores,
    floorMs,
    wallOverBoundOrFloor: run.wallMs / Math.max(run.boundWallMs, floorMs),
    wallOverBound: run.wallMs / run.boundWallMs,
  };
}
