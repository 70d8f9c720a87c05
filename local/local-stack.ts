/**
 * The deployed stack, on a laptop: the emulator stands in for CloudFront (and CloudTrail, and S3 for
 * the publish gate's test cases), the local bus for the us-east-1 default bus with the rules read
 * from serverless.yml, and the real handlers are its targets, invoked the way Lambda would, with a
 * runtime built from `settings` (as a Lambda's environment would hold them) and pointed at the
 * emulator. Nothing is deployed, no AWS account is needed, and nothing is written to process.env:
 * several stacks can run in one process.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { type EventPathOptions, type EventSummary, makeOnFunctionChange } from '../handlers/on-function-change';
import { makeDriftSweep } from '../handlers/drift-sweep';
import { type Config, loadConfig } from '../lib/config';
import type { FailureRecord } from '../lib/failure-queue';
import type { Outcome } from '../lib/reconcile';
import { createObservability } from '../lib/report';
import { createRuntime, type Runtime, type RuntimeClients } from '../lib/runtime';
import type { SweepSummary } from '../lib/sweep';
import type { CloudTrailEvent } from '../emulator/cloudtrail';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index';
import { type BusEvent, type BusOptions, LocalBus } from './bus';
import { busRulesFromServerless, readServerlessRules, SERVERLESS_YML } from './serverless-rules';
import { lambdaContext } from './lambda-context';

export { lambdaContext } from './lambda-context';

/** The actor the reconciler's calls are logged under (publish log, CloudTrail). */
export const RECONCILER_ACTOR = 'cf-autopublish';

export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The keys `actor` signs with on `emulator`, registered there: the emulator checks no signature, the
 * key id names the actor in its publish log and CloudTrail records.
 */
export function actorCredentials(emulator: Emulator, actor: string): LocalCredentials {
  const accessKeyId = `AKID${actor.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
  emulator.controls.setActor(accessKeyId, actor);
  return { accessKeyId, secretAccessKey: 'local' };
}

/** What a client the caller builds for the reconciler needs: its settings (endpoint included) and keys. */
export interface ReconcilerAccess {
  readonly config: Config;
  readonly credentials: LocalCredentials;
}

export interface LocalStackOptions {
  readonly emulator?: EmulatorOptions;
  readonly bus?: BusOptions;
  /** Reconciler settings, as the Lambda environment would hold them (DRY_RUN, AUTO_PUBLISH_TAG_KEY…). */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Clients or observability the runtime should use instead of its own; a function of the runtime's
   * settings and keys when a client must reach the emulator (the bench counts the reconciler's calls).
   */
  readonly clients?: RuntimeClients | ((reconciler: ReconcilerAccess) => RuntimeClients);
  /**
   * Stands between the bus and the event handler, as Lambda's async invoke does: gets the invocation
   * and returns the bus's target (the bench limits concurrency, or runs one at a time and times each).
   */
  readonly eventInvoker?: (invoke: (event: BusEvent) => Promise<EventSummary>) => (event: BusEvent) => Promise<unknown>;
  /** Reconcile options of the event path (the bench measures eagerLive). */
  readonly eventPath?: EventPathOptions;
  /** Default: this package's serverless.yml, wherever the process runs from. */
  readonly serverlessYml?: string;
  /** Lambda timeout the sweep sees through getRemainingTimeInMillis. */
  readonly sweepTimeoutMs?: number;
}

export interface DecidedOutcome extends Outcome {
  /** Which path decided: the event handler or the sweep. */
  readonly decidedBy: 'event' | 'sweep';
}

export interface LocalStack {
  readonly emulator: Emulator;
  readonly bus: LocalBus;
  /** The runtime both handlers were built with. */
  readonly runtime: Runtime;
  /** What the event handler put on its failure queue (failures no retry can mend). */
  readonly failureQueue: FailureRecord[];
  /** Every outcome either handler reported, in order. */
  readonly outcomes: DecidedOutcome[];
  /** A client for another actor (a console user, a CI job): its calls are logged under `actor`. */
  clientFor(actor: string, options?: { maxAttempts?: number; retryMode?: 'standard' | 'adaptive' }): CloudFrontClient;
  /** Runs one drift sweep now, as the schedule would. Rejects like the Lambda would. */
  sweep(options?: { full?: boolean }): Promise<SweepSummary>;
  /**
   * Holds CloudTrail events back from the bus until `release()`: lets a demo or test show the state
   * edits leave behind before the reconciler sees them.
   */
  hold(): void;
  release(): void;
  /** The next CloudTrail event that `matches` never reaches the bus, as when CloudTrail drops it. */
  loseNext(matches: (event: CloudTrailEvent) => boolean): void;
  /** Waits until every delivery in flight (retries included) has finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const emulator = await startEmulator(options.emulator);
  const credentials = actorCredentials(emulator, RECONCILER_ACTOR);

  const outcomes: DecidedOutcome[] = [];
  const failureQueue: FailureRecord[] = [];
  const account = emulator.accountId;
  const bus = new LocalBus(options.bus);
  let runtime: Runtime;
  let onFunctionChange: ReturnType<typeof makeOnFunctionChange>;
  let driftSweep: ReturnType<typeof makeDriftSweep>;
  try {
    // The emulator also answers S3 GetObject (the gate's test cases, when TEST_CASES_BUCKETS lists
    // buckets); a caller's own S3_ENDPOINT wins. It also answers SSM (the pause parameter, when PAUSE_PARAMETER names one).
    const config = loadConfig({ S3_ENDPOINT: emulator.endpoint, SSM_ENDPOINT: emulator.endpoint, ...options.settings, CLOUDFRONT_ENDPOINT: emulator.endpoint });
    runtime = createRuntime(config, {
      credentials,
      observability: createObservability({ quiet: true }),
      failureQueue: { send: async (record) => void failureQueue.push(record) },
      ...(typeof options.clients === 'function' ? options.clients({ config, credentials }) : options.clients),
    });
    onFunctionChange = makeOnFunctionChange(runtime, options.eventPath);
    driftSweep = makeDriftSweep(runtime);
    const invoke = async (event: BusEvent) => {
      const summary = (await onFunctionChange(event, lambdaContext('onFunctionChange', account, 30_000))) as EventSummary;
      // An event put on the failure queue answers `{failed, sentToFailureQueue}`: no outcomes.
      outcomes.push(...(summary.outcomes ?? []).map((o) => ({ ...o, decidedBy: 'event' as const })));
      return summary;
    };
    const rules = busRulesFromServerless(readServerlessRules(options.serverlessYml ?? SERVERLESS_YML), {
      onFunctionChange: options.eventInvoker ? options.eventInvoker(invoke) : invoke,
    });
    if (rules.length === 0) throw new Error('serverless.yml declares no eventBridge rule for onFunctionChange');
    for (const rule of rules) bus.addRule(rule);
  } catch (error) {
    // Nothing is handed back to close, so close it here: a listening emulator would keep the process alive.
    bus.dispose();
    await emulator.close();
    throw error;
  }
  let held: CloudTrailEvent[] | undefined;
  const losses: ((event: CloudTrailEvent) => boolean)[] = [];
  const unsubscribe = emulator.onCloudTrailEvent((event) => {
    const lost = losses.findIndex((matches) => matches(event));
    if (lost !== -1) {
      losses.splice(lost, 1);
      return;
    }
    if (held) held.push(event);
    else bus.put(event);
  });

  return {
    emulator,
    bus,
    runtime,
    failureQueue,
    outcomes,
    clientFor: (actor, clientOptions = {}) =>
      new CloudFrontClient({
        endpoint: emulator.endpoint,
        region: 'us-east-1',
        credentials: actorCredentials(emulator, actor),
        maxAttempts: clientOptions.maxAttempts ?? 3,
        ...(clientOptions.retryMode ? { retryMode: clientOptions.retryMode } : {}),
      }),
    async sweep(sweepOptions = {}) {
      // The daily full sweep is invoked with its schedule's constant input, as EventBridge does.
      const scheduled = sweepOptions.full
        ? { full: true }
        : {
            version: '0',
            id: `sweep-${Date.now()}`,
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            account,
            region: 'us-east-1',
            resources: [],
            detail: {},
          };
      const summary = (await driftSweep(scheduled, lambdaContext('driftSweep', account, options.sweepTimeoutMs ?? 600_000))) as SweepSummary;
      outcomes.push(...summary.outcomes.map((o) => ({ ...o, decidedBy: 'sweep' as const })));
      return summary;
    },
    hold: () => {
      held ??= [];
    },
    release: () => {
      const events = held ?? [];
      held = undefined;
      for (const event of events) bus.put(event);
    },
    loseNext: (matches) => void losses.push(matches),
    settle: () => bus.drain(),
    async close() {
      unsubscribe();
      try {
        await bus.drain();
      } finally {
        bus.dispose();
        await emulator.close();
      }
    },
  };
}
