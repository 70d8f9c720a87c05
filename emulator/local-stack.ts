/**
 * The deployed stack, on a laptop: the emulator stands in for CloudFront (and CloudTrail), the local
 * bus for the us-east-1 default bus with the rules read from serverless.yml, and the real handlers
 * are its targets, invoked the way Lambda would. Nothing is deployed and no AWS account is needed.
 *
 * The handlers read their settings from process.env, as in Lambda, so one stack runs per process.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { handler as onFunctionChange, type EventSummary } from '../handlers/on-function-change';
import { handler as driftSweep } from '../handlers/drift-sweep';
import type { Outcome } from '../lib/reconcile';
import type { SweepSummary } from '../lib/sweep';
import { type BusOptions, LocalBus } from '../local/bus';
import type { CloudTrailEvent } from './cloudtrail';
import { type Emulator, type EmulatorOptions, startEmulator } from './index';
import { busRulesFromServerless, readServerlessRules, SERVERLESS_YML } from '../local/serverless-rules';
import { lambdaContext } from '../local/lambda-context';

export { lambdaContext } from '../local/lambda-context';

/** The access key the reconciler signs with: the emulator's publish log names it as the actor. */
export const RECONCILER_ACTOR = 'cf-autopublish';
const RECONCILER_KEY = 'AKIDRECONCILER';

export interface LocalStackOptions {
  readonly emulator?: EmulatorOptions;
  readonly bus?: BusOptions;
  /** Reconciler settings, as the Lambda environment would hold them (DRY_RUN, AUTO_PUBLISH_TAG_KEY…). */
  readonly settings?: Readonly<Record<string, string>>;
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

/**
 * Points the handlers (which read process.env, as in Lambda) at the emulator, signing as the
 * reconciler actor, with `settings` on top. Returns the function that puts the environment back.
 */
export function reconcilerEnvironment(emulator: Emulator, settings: Readonly<Record<string, string>> = {}): () => void {
  const savedEnv = { ...process.env };
  Object.assign(process.env, {
    CLOUDFRONT_ENDPOINT: emulator.endpoint,
    AWS_ACCESS_KEY_ID: RECONCILER_KEY,
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    ...settings,
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  emulator.controls.setActor(RECONCILER_KEY, RECONCILER_ACTOR);
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const emulator = await startEmulator(options.emulator);
  const restoreEnvironment = reconcilerEnvironment(emulator, options.settings);

  const outcomes: DecidedOutcome[] = [];
  const account = emulator.accountId;
  const bus = new LocalBus(options.bus);
  try {
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
    restoreEnvironment();
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
        restoreEnvironment();
      }
    },
  };
}
