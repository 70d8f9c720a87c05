/**
 * Scenario 1: one sweep over a seeded fleet of N functions, ours (and optionally the naive
 * reconciler), each in a fresh child process against an emulator holding the same fleet.
 *
 * The fleet: 30% opted in; 30% of the published functions associated with a distribution (10 per
 * distribution); 5% changed since the last sweep: 2% never published, 1.5% edited after their last
 * publish while associated, 1.5% edited while unassociated. Each changed group is opted in at the
 * fleet's 30% (at least one function when the group has two or more), so the opted-in paths are
 * exercised even at --functions 200. Run under `developmentStatusAfterAssociatedUpdate=DEPLOYED`,
 * the associated edits list as DEPLOYED and only their LastModifiedTime says they changed.
 *
 * With `connections` (issue 19), the fleet mixes in that many connection functions, planned with the
 * same shares (at least two of each change, one of them opted in) and never associated: the bound
 * counts their two listings and their candidates as it counts the functions'.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describeVariants, resolveVariants, SeededRandom, startEmulator, type Variants } from '../emulator/index';
import { loadConfig } from '../lib/config';
import { actorCredentials, RECONCILER_ACTOR } from '../local/local-stack';
import { associateAll, bundle, CONNECTION_FUNCTION_CODE, FUNCTION_CODE, LATENCY_MS, pick, RATE, scratchDir, SEED, type Settings, sleep } from './common';
import type { SweepJob } from './sweep-child';

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
  /** Every opted-in function has LIVE = DEVELOPMENT after the sweep. */
  inSyncAfter: boolean;
  /** Opted-in functions whose LIVE differs after the sweep (0 when inSyncAfter). */
  outOfSyncAfter: number;
  [extra: string]: unknown;
}

/**
 * What any sweep that lists both stages must at least call (issue 8), plus what the publish gate must
 * call before each publish (issue 10) when PUBLISH_GATE is not `off`.
 */
export interface LowerBound {
  calls: number;
  wallMs: number;
  /** ListFunctions calls: DEVELOPMENT pages + LIVE pages. */
  pages: number;
  /**
   * ListConnectionFunctions calls: DEVELOPMENT pages + LIVE pages, at least one each (an account with
   * no connection functions still answers one empty page per stage, and the sweep must ask to know).
   */
  connectionPages: number;
  /** Functions the two listings flag (DEVELOPMENT UNPUBLISHED or unknown status, no LIVE, or DEVELOPMENT modified after LIVE): one tag read each. */
  candidates: number;
  /** Opted-in candidates: one DescribeFunction(DEVELOPMENT) each. */
  optedCandidates: number;
  /** Opted-in candidates whose DEVELOPMENT status is not UNPUBLISHED: one DescribeFunction(LIVE) each. */
  liveReads: number;
  /** Opted-in candidates whose LIVE differs: one PublishFunction each. */
  publishes: number;
  /** Whether the bound counts the publish gate (PUBLISH_GATE=smoke, the default). */
  gate: boolean;
  /**
   * The gate's TestFunction calls: one per test case of each opted-in candidate that differs (smoke:
   * one per event type its distributions use it on; one when no distribution does, since the bench's
   * code passes the viewer-request case, tried first). 0 with the gate off.
   */
  tests: number;
  /**
   * The gate's ListDistributions pages: ceil(distributions / 100), at least 1, once per sweep, when at
   * least one candidate is tested (what the distributions run a function on decides what is tested,
   * whatever its auto-publish-event-type tag says); else 0.
   */
  distributionPages: number;
  /** Whether the bound counts history (HISTORY_BUCKET set, as the stack deploys by default). */
  history: boolean;
  /**
   * History's calls: per publish that replaces a LIVE version, 1 GetFunction(LIVE) and 1 PutObject;
   * and 1 DescribeFunction(LIVE) for each of those whose DEVELOPMENT lists UNPUBLISHED (without history
   * that status alone decides "differs"; with it LIVE's existence and config must be read).
   */
  historySaves: number;
  historyLiveReads: number;
  /** What `calls` counts and how `wallMs` is computed. */
  definition: string;
}

export interface FleetSummary {
  functions: number;
  optedIn: number;
  associated: number;
  distributions: number;
  neverPublished: number;
  editedAssociated: number;
  editedUnassociated: number;
}

/** The connection functions of a mixed fleet (issue 19): the same shares as the functions', never associated. */
export interface ConnectionFleetSummary {
  connectionFunctions: number;
  optedIn: number;
  neverPublished: number;
  /** Edited after their last publish (the plan's two edited groups: a connection function is not associated here). */
  edited: number;
}

export interface SweepResult {
  variants: string;
  fleet: FleetSummary;
  /** Present when the fleet mixes in connection functions. */
  connectionFleet?: ConnectionFleetSummary;
  lowerBound: LowerBound;
  ours?: SweepRun;
  naive?: SweepRun;
}

const PAGE = 100;

interface Fleet {
  names: string[];
  opted: Set<number>;
  neverPublished: Set<number>;
  associated: Set<number>;
  editedAssociated: Set<number>;
  editedUnassociated: Set<number>;
}

/** `atLeast`: the smallest size of each changed group, so that a small fleet still has an opted-in function in each. */
function planFleet(n: number, prefix = 'fn-', seed = SEED, atLeast = 0): Fleet {
  const random = new SeededRandom(seed);
  const next = () => random.next();
  const names = Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
  const opted = pick(n, Math.round(n * 0.3), next);
  // `count` of `pool`, 30% of them opted in (at least one when count >= 2), the rest not.
  const choose = (pool: number[], count: number): Set<number> => {
    const inPool = (want: boolean) => pool.filter((i) => opted.has(i) === want);
    const optedCount = count >= 2 ? Math.max(1, Math.round(count * 0.3)) : Math.round(count * 0.3);
    const from = (list: number[], k: number) => [...pick(list.length, Math.min(k, list.length), next)].map((j) => list[j]!);
    return new Set([...from(inPool(true), optedCount), ...from(inPool(false), count - optedCount)]);
  };
  const all = Array.from({ length: n }, (_, i) => i);
  const share = (fraction: number) => Math.min(n, Math.max(atLeast, Math.round(n * fraction)));
  const neverPublished = choose(all, share(0.02));
  const published = all.filter((i) => !neverPublished.has(i));
  const associated = new Set([...pick(published.length, Math.round(published.length * 0.3), next)].map((j) => published[j]!));
  const editedAssociated = choose([...associated], share(0.015));
  const editedUnassociated = choose(
    published.filter((i) => !associated.has(i)),
    share(0.015),
  );
  return { names, opted, neverPublished, associated, editedAssociated, editedUnassociated };
}

/** The sweep's candidate rule (issue 8), applied here to the emulator's own state, independently of lib/decide.ts. */
export function flagged(f: Pick<BoundFunction, 'development' | 'live'>): boolean {
  const known = ['UNPUBLISHED', 'UNASSOCIATED', 'DEPLOYED'];
  if (f.development.status === 'UNPUBLISHED' || !known.includes(f.development.status)) return true;
  if (!f.live) return true;
  return Date.parse(f.development.lastModifiedTime) > Date.parse(f.live.lastModifiedTime);
}

/** What the gate needs to know of the account, peeked from the emulator (no call). */
export interface GateView {
  /** PUBLISH_GATE is not `off`. */
  on: boolean;
  distributions: number;
  /** The event types the account's distributions run a function on. */
  eventTypesOf: (f: BoundFunction) => ReadonlySet<string>;
}

// The gate's tags (issue 10), spelled here rather than imported: the bound is stated independently of lib/.
const EVENT_TYPE_TAG = 'auto-publish-event-type';
const TEST_CASES_TAG = 'auto-publish-tests';

/** The history bucket the bench sweeps write to (the emulator's S3). */
export const BENCH_HISTORY_BUCKET = 'bench-history';

/** What the bound reads of one function of either kind (the emulator's snapshots of both kinds have it). */
export interface BoundFunction {
  readonly name: string;
  readonly development: { readonly etag: string; readonly status: string; readonly lastModifiedTime: string };
  readonly live?: { readonly etag: string; readonly lastModifiedTime: string } | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/** What one kind's candidates cost beyond the listings, and the longest chain of dependent calls they need. */
interface KindCost {
  candidates: number;
  opted: number;
  liveReads: number;
  publishes: number;
  tests: number;
  historySaves: number;
  historyLiveReads: number;
  /** Whether one of them is tested with the cases its distributions decide (the ordinary kind only). */
  needsEventTypes: boolean;
  /** The chain in calls, given when the distribution pages are read (0: not needed). */
  chain: (distributionPages: number) => number;
}

/**
 * One kind's cost. `casesOf`: the smoke cases a function to publish gets (a connection function: its
 * one connection-request case, read from no distribution; an ordinary one: one per event type its
 * distributions use it on, at least one).
 */
function kindCost(
  fleet: readonly BoundFunction[],
  isOpted: (f: BoundFunction) => boolean,
  gateOn: boolean,
  history: boolean,
  casesOf: (f: BoundFunction) => number,
  readsDistributions: boolean,
): KindCost {
  const candidates = fleet.filter(flagged);
  const opted = candidates.filter(isOpted);
  const differs = (f: BoundFunction) => f.live?.etag !== f.development.etag;
  const toPublish = opted.filter(differs);
  const replacing = history ? toPublish.filter((f) => f.live !== undefined) : [];
  const liveRank = new Map(fleet.filter((f) => f.live).map((f, i) => [f.name, i]));
  return {
    candidates: candidates.length,
    opted: opted.length,
    liveReads: opted.filter((f) => f.development.status !== 'UNPUBLISHED').length,
    publishes: toPublish.length,
    tests: gateOn ? toPublish.reduce((sum, f) => sum + casesOf(f), 0) : 0,
    historySaves: replacing.length,
    historyLiveReads: replacing.filter((f) => f.development.status === 'UNPUBLISHED').length,
    needsEventTypes: readsDistributions && gateOn && toPublish.length > 0,
    // A function is known to be a candidate once both listings reached it (pages are sequential, the
    // two stages in parallel); then its tags; then, if opted in, DEVELOPMENT (and LIVE, in parallel:
    // the listing already told its status); then, with the gate, its test cases (one after the other:
    // a function no distribution uses gets the viewer-response case only if the request case fails);
    // then the publish. History: LIVE read when not yet read (UNPUBLISHED), then GetFunction, then
    // PutObject, one after the other.
    chain: (distributionPages) => {
      let longest = 0;
      fleet.forEach((f, i) => {
        if (!flagged(f)) return;
        const livePosition = liveRank.get(f.name) ?? fleet.slice(0, i).filter((g) => g.live).length;
        const listed = Math.max(Math.floor(i / PAGE), Math.floor(livePosition / PAGE)) + 1;
        const publishing = isOpted(f) && differs(f);
        const beforeTest = listed + 1 + (isOpted(f) ? 1 : 0);
        const waitFor = readsDistributions ? distributionPages : 0;
        const tested = publishing && gateOn ? Math.max(beforeTest, waitFor) + casesOf(f) : beforeTest;
        const saving = publishing && history && f.live !== undefined ? (f.development.status === 'UNPUBLISHED' ? 3 : 2) : 0;
        longest = Math.max(longest, tested + saving + (publishing ? 1 : 0));
      });
      return longest;
    },
  };
}

export function lowerBoundOf(
  fleet: readonly BoundFunction[],
  isOpted: (f: BoundFunction) => boolean,
  gate: GateView,
  history = false,
  /** The account's connection functions (issue 19): their two listings, and their candidates like the ordinary kind's. */
  connections: readonly BoundFunction[] = [],
): LowerBound {
  const n = fleet.length;
  const published = fleet.filter((f) => f.live).length;
  const devPages = Math.max(1, Math.ceil(n / PAGE));
  const livePages = Math.max(1, Math.ceil(published / PAGE));
  const pages = devPages + livePages;
  const connectionsPublished = connections.filter((f) => f.live).length;
  const connectionPages = Math.max(1, Math.ceil(connections.length / PAGE)) + Math.max(1, Math.ceil(connectionsPublished / PAGE));
  // The gate, smoke cases only: the bench fleet carries no auto-publish-tests tag.
  if (gate.on && [...fleet, ...connections].some((f) => isOpted(f) && flagged(f) && f.tags[TEST_CASES_TAG] !== undefined))
    throw new Error("bench fleet: the bound counts smoke cases only, not a function's own");
  // Every associated type is tested, the tag notwithstanding; an unused function gets one case (the
  // tag's type, or the viewer-request case the bench's code passes, tried first).
  const ordinary = kindCost(fleet, isOpted, gate.on, history, (f) => Math.max(1, gate.eventTypesOf(f).size), true);
  // A connection function runs on the connection request only: one smoke case, no distribution read.
  const connection = kindCost(connections, isOpted, gate.on, history, () => 1, false);
  const kinds = [ordinary, connection];
  const sum = (field: keyof Omit<KindCost, 'needsEventTypes' | 'chain'>) => kinds.reduce((total, k) => total + k[field], 0);
  const candidates = sum('candidates');
  const optedCandidates = sum('opted');
  const liveReads = sum('liveReads');
  const publishes = sum('publishes');
  const tests = sum('tests');
  const historySaves = sum('historySaves');
  const historyLiveReads = sum('historyLiveReads');
  const distributionPages = kinds.some((k) => k.needsEventTypes) ? Math.max(1, Math.ceil(gate.distributions / PAGE)) : 0;
  const calls =
    pages + connectionPages + candidates + optedCandidates + liveReads + tests + distributionPages + historyLiveReads + 2 * historySaves + publishes;

  // Time: the rate limit, or the longest chain of dependent calls, whichever is longer. The four
  // listings (two kinds, two stages) run in parallel: the longest sets the start. The distribution
  // pages need nothing before them: a sweep could read them while it lists.
  const rateBound = (Math.max(0, calls - RATE.burst) / RATE.ratePerSecond) * 1000 + LATENCY_MS;
  const listings = Math.max(devPages, livePages, Math.ceil(connections.length / PAGE), Math.ceil(connectionsPublished / PAGE));
  const chain = Math.max(listings, ...kinds.map((k) => k.chain(distributionPages))) * LATENCY_MS;
  const pagesText = devPages === livePages ? `2 x ceil(${n}/${PAGE}) = ${pages}` : `ceil(${n}/${PAGE}) + ceil(${published} published/${PAGE}) = ${pages}`;
  return {
    calls,
    wallMs: Math.max(rateBound, chain),
    pages,
    connectionPages,
    candidates,
    optedCandidates,
    liveReads,
    publishes,
    gate: gate.on,
    tests,
    distributionPages,
    history,
    historySaves,
    historyLiveReads,
    definition:
      `calls = ListFunctions pages of both stages (${pagesText}) + ListConnectionFunctions pages of both stages ` +
      `(max(1, ceil(${connections.length}/${PAGE})) + max(1, ceil(${connectionsPublished} published/${PAGE})) = ${connectionPages}) + ` +
      `then, for the candidates of both kinds (${ordinary.candidates} functions, ${connection.candidates} connection functions; candidate = ` +
      `DEVELOPMENT UNPUBLISHED or unknown status, or no LIVE, or DEVELOPMENT LastModifiedTime later than LIVE's): 1 ListTagsForResource each (${candidates}) + ` +
      `1 Describe(DEVELOPMENT) per opted-in candidate (${optedCandidates}) + 1 Describe(LIVE) per opted-in candidate whose status is not UNPUBLISHED (${liveReads}) + ` +
      (gate.on
        ? `publish gate (PUBLISH_GATE=smoke): 1 Test call per test case of each opted-in candidate that differs (smoke: for a function 1 per event type its ` +
          `distributions use it on, 1 when none does, the bench's code passing the viewer-request case tried first; for a connection function its one ` +
          `connection-request case: ${tests}) + ListDistributions pages, once per sweep when at least one function (not connection function) is tested ` +
          `(whatever its ${EVENT_TYPE_TAG} tag): ${distributionPages ? `max(1, ceil(${gate.distributions} distributions/${PAGE})) = ${distributionPages}` : '0'} + `
        : 'no publish gate (PUBLISH_GATE=off) + ') +
      (history
        ? `history (HISTORY_BUCKET): 1 Get(LIVE) + 1 PutObject per opted-in candidate that differs and has a LIVE version (${historySaves} x 2) + ` +
          `1 Describe(LIVE) for those of them listed UNPUBLISHED (${historyLiveReads}) + `
        : 'no history + ') +
      `1 Publish per opted-in candidate that differs (${publishes}) = ${calls}; ` +
      `time = max((calls - burst) / rate + latency, dependency chain) = max((${calls} - ${RATE.burst}) / ${RATE.ratePerSecond}/s + ${LATENCY_MS} ms, ${chain} ms)`,
  };
}

export async function runSweepScenario(options: {
  functions: number;
  runs: readonly ('ours' | 'naive')[];
  concurrency: number;
  settings?: Settings;
  variants?: Partial<Variants>;
  /** Save replaced LIVE versions to the emulator's S3 (the stack's default). Default true. */
  history?: boolean;
  /** Connection functions mixed into the fleet (issue 19), beside the `functions` ordinary ones. Default 0. */
  connections?: number;
}): Promise<SweepResult> {
  const history = options.history ?? true;
  const n = options.functions;
  const c = options.connections ?? 0;
  const dir = scratchDir('sweep');
  const child = await bundle('bench/sweep-child.ts', join(dir, 'sweep-child.js'));
  const plan = planFleet(n);
  // The connection functions' own plan: the same shares, drawn from another seed, at least two of each
  // change (one opted in), so that a quick run's small mix publishes, tests and saves connection functions too.
  const connectionPlan = planFleet(c, 'cf-', SEED + 1, 2);
  const tagsIn = (fleet: Fleet, i: number): Record<string, string> => (fleet.opted.has(i) ? { 'auto-publish': 'true', team: 'edge' } : { team: 'edge' });
  const tagsOf = (i: number) => tagsIn(plan, i);
  const isOpted = (f: { tags: Readonly<Record<string, string>> }) => f.tags['auto-publish'] === 'true';

  /** A fresh emulator holding the fleet, its edits strictly later (in ms) than every seed publish. */
  const seedFleet = async () => {
    const emulator = await startEmulator({
      functionQuota: n + 10,
      latency: LATENCY_MS,
      rateLimit: RATE,
      ...(options.variants ? { variants: options.variants } : {}),
    });
    const etags = new Map<number, string>();
    const arn = (i: number) => emulator.state.model.arnFor(plan.names[i]!);
    for (let i = 0; i < n; i++) {
      const seeded = emulator.state.seed({ name: plan.names[i]!, code: `${FUNCTION_CODE} // ${i}`, tags: tagsOf(i), publish: !plan.neverPublished.has(i) });
      etags.set(i, seeded.developmentEtag);
    }
    if (history) emulator.state.createBucket(BENCH_HISTORY_BUCKET);
    const distributions = associateAll(emulator, [...plan.associated].sort((a, b) => a - b).map(arn));
    // The connection functions (an account's quota is the emulator's control, emulator/VARIANTS.md).
    emulator.state.model.connectionFunctions.quota = c + 10;
    const connections = new Map<number, { id: string; etag: string }>();
    for (let i = 0; i < c; i++) {
      const seeded = emulator.state.seedConnectionFunction({
        name: connectionPlan.names[i]!,
        code: `${CONNECTION_FUNCTION_CODE} // ${i}`,
        tags: tagsIn(connectionPlan, i),
        publish: !connectionPlan.neverPublished.has(i),
      });
      connections.set(i, { id: seeded.id, etag: seeded.developmentEtag });
    }
    await sleep(5);
    for (const i of [...plan.editedAssociated, ...plan.editedUnassociated]) {
      emulator.state.model.updateFunction({
        name: plan.names[i]!,
        ifMatch: etags.get(i),
        config: { comment: 'edited', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
        code: Buffer.from(`${FUNCTION_CODE} // v2 ${i}`),
      });
    }
    for (const i of [...connectionPlan.editedAssociated, ...connectionPlan.editedUnassociated]) {
      const { id, etag } = connections.get(i)!;
      emulator.state.model.connectionFunctions.update({
        id,
        ifMatch: etag,
        config: { comment: 'edited', runtime: 'cloudfront-js-2.0', keyValueStoreArns: [] },
        code: Buffer.from(`${CONNECTION_FUNCTION_CODE} // v2 ${i}`),
      });
    }
    return { emulator, distributions };
  };

  // The bound, from the state the sweep will find (snapshot() peeks without using reads).
  const probe = await seedFleet();
  const before = probe.emulator.state.snapshot();
  const connectionsBefore = probe.emulator.state.connectionFunctions();
  const eventTypes = new Map(before.map((f) => [f.name, new Set(probe.emulator.state.associationsOf(f.name).map((a) => a.eventType))]));
  const gate: GateView = {
    on: loadConfig(options.settings ?? {}).publishGate !== 'off',
    distributions: probe.emulator.state.distributions().length,
    eventTypesOf: (f) => eventTypes.get(f.name) ?? new Set(),
  };
  await probe.emulator.close();
  const lowerBound = lowerBoundOf(before, isOpted, gate, history, connectionsBefore);
  for (const [fleet, snapshot] of [
    [plan, before],
    [connectionPlan, connectionsBefore],
  ] as const) {
    const expected = new Set([...fleet.neverPublished, ...fleet.editedAssociated, ...fleet.editedUnassociated].map((i) => fleet.names[i]!));
    const found = snapshot.filter(flagged).map((f) => f.name);
    if (found.length !== expected.size || !found.every((name) => expected.has(name))) {
      throw new Error(`bench fleet: the listings would flag ${found.length} functions, the plan changed ${expected.size}`);
    }
  }

  const run = async (mode: 'ours' | 'naive'): Promise<SweepRun> => {
    const { emulator } = await seedFleet();
    try {
      emulator.controls.resetCalls();
      const job: SweepJob = {
        mode,
        settings: {
          ...options.settings,
          SWEEP_CONCURRENCY: String(options.concurrency),
          CLOUDFRONT_ENDPOINT: emulator.endpoint,
          ...(history ? { HISTORY_BUCKET: BENCH_HISTORY_BUCKET, S3_ENDPOINT: emulator.endpoint } : {}),
        },
        credentials: actorCredentials(emulator, RECONCILER_ACTOR),
        account: emulator.accountId,
      };
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        // The settings travel in argv; the environment only keeps the SDK's Node version notice quiet.
        const proc = fork(child, [JSON.stringify(job)], {
          env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        let message: Record<string, unknown> | undefined;
        proc.on('message', (m) => (message = m as Record<string, unknown>));
        proc.on('error', reject);
        proc.on('exit', (code) =>
          message && !message.fatal ? resolve(message) : reject(new Error(`sweep child (${mode}) exited ${code}: ${String(message?.fatal ?? '')}`)),
        );
      });
      const emulatorCalls = Object.values(emulator.controls.calls()).reduce((a, b) => a + b, 0);
      const outOfSyncAfter = [...emulator.state.snapshot(), ...emulator.state.connectionFunctions()].filter(
        (f) => isOpted(f) && f.live?.etag !== f.development.etag,
      ).length;
      // The child counts CloudFront calls; the history writes are S3's, counted by the emulator.
      const puts = emulator.controls.calls().PutObject ?? 0;
      const run = result as unknown as SweepRun;
      return {
        ...run,
        calls: run.calls + puts,
        callsByOperation: { ...run.callsByOperation, ...(puts > 0 ? { PutObject: puts } : {}) },
        emulatorCalls,
        inSyncAfter: outOfSyncAfter === 0,
        outOfSyncAfter,
      };
    } finally {
      await emulator.close();
    }
  };

  const runs: Partial<Record<'ours' | 'naive', SweepRun>> = {};
  for (const mode of options.runs) runs[mode] = await run(mode);
  return {
    variants: describeVariants(resolveVariants(options.variants)),
    fleet: {
      functions: n,
      optedIn: plan.opted.size,
      associated: plan.associated.size,
      distributions: probe.distributions,
      neverPublished: plan.neverPublished.size,
      editedAssociated: plan.editedAssociated.size,
      editedUnassociated: plan.editedUnassociated.size,
    },
    ...(c > 0
      ? {
          connectionFleet: {
            connectionFunctions: c,
            optedIn: connectionPlan.opted.size,
            neverPublished: connectionPlan.neverPublished.size,
            edited: connectionPlan.editedAssociated.size + connectionPlan.editedUnassociated.size,
          },
        }
      : {}),
    lowerBound,
    ...runs,
  };
}
