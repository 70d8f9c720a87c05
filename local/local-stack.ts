/**
 * The deployed stack, on a laptop: the emulator stands in for CloudFront (and CloudTrail), the local
 * bus for the us-east-1 default bus with the rules read from serverless.yml, and the real handlers
 * are its targets, invoked the way Lambda would, with a runtime built from `settings` (as a Lambda's
 * environment would hold them) and pointed at the emulator. Nothing is deployed, no AWS account is
 * needed, and nothing is written to process.env: several stacks can run in one process.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { type EventPathOptions, type EventSummary, makeOnFunctionChange } from '../handlers/on-function-change';
import { makeDriftSweep } from '../handlers/drift-sweep';
import { loadConfig } from '../lib/config';
import type { FailureRecord } from '../lib/failure-queue';
import type { Outcome } from '../lib/reconcile';
import { createObservability } from '../lib/report';
import { createRuntime, type Runtime, type RuntimeClients } from '../lib/runtime';
import type { SweepSummary } from '../lib/sweep';
import type { CloudTrailEvent } from '../emulator/cloudtrail';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index';
import { type BusOptions, LocalBus } from './bus';
import { busRulesFromServerless, readServerlessRules, SERVERLESS_YML } from './serverless-rules';
import { lambdaContext } from './lambda-context';

export { lambdaContext } from './lambda-context';

/** The access key the reconciler signs with: the emulator's publish log names it as the actor. */
export const RECONCILER_ACTOR = 'cf-autopublish';
const RECONCILER_KEY = 'AKIDRECONCILER';

export interface LocalStackOptions {
  readonly emulator?: EmulatorOptions;
  readonly bus?: BusOptions;
  /** Reconciler settings, as the Lambda environment would hold them (DRY_RUN, AUTO_PUBLISH_TAG_KEY…). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Clients or observability the runtime should use instead of its own (the bench counts calls). */
  readonly clients?: RuntimeClients;
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
  clientFor(actor: string, options?: { maxAttempts?: number }): CloudFrontClient;
  /** Runs one drift sweep now, as the schedule would. Rejects like the Lambda would. */
  sweep(): Promise<SweepSummary>;
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
  emulator.controls.setActor(RECONCILER_KEY, RECONCILER_ACTOR);

  const outcomes: DecidedOutcome[] = [];
  const failureQueue: FailureRecord[] = [];
  const account = emulator.accountId;
  const bus = new LocalBus(options.bus);
  let runtime: Runtime;
  let onFunctionChange: ReturnType<typeof makeOnFunctionChange>;
  let driftSweep: ReturnType<typeof makeDriftSweep>;
  try {
    runtime = createRuntime(loadConfig({ ...options.settings, CLOUDFRONT_ENDPOINT: emulator.endpoint }), {
      credentials: { accessKeyId: RECONCILER_KEY, secretAccessKey: 'local' },
      observability: createObservability({ quiet: true }),
      failureQueue: { send: async (record) => void failureQueue.push(record) },
      ...options.clients,
    });
    onFunctionChange = makeOnFunctionChange(runtime, options.eventPath);
    driftSweep = makeDriftSweep(runtime);
    const rules = busRulesFromServerless(readServerlessRules(options.serverlessYml ?? SERVERLESS_YML), {
      onFunctionChange: async (event) => {
        const summary = (await onFunctionChange(event, lambdaContext('onFunctionChange', account, 30_000))) as EventSummary;
        outcomes.push(...summary.outcomes.map((o) => ({ ...o, decidedBy: 'event' as const })));
        return summary;
      },
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
    clientFor: (actor, clientOptions = {}) => {
      const key = `AKID${actor.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
      emulator.controls.setActor(key, actor);
      return new CloudFrontClient({
        endpoint: emulator.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: key, secretAccessKey: 'local' },
        maxAttempts: clientOptions.maxAttempts ?? 3,
      });
    },
    async sweep() {
      const scheduled = { version: '0', id: `sweep-${Date.now()}`, 'detail-type': 'Scheduled Event', source: 'aws.events', account, region: 'us-east-1', resources: [], detail: {} };
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
