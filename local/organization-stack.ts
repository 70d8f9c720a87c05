/**
 * Organisation mode on a laptop: one emulator serving a central (management) account and member
 * accounts, each member with the member template's pieces (a default bus whose rule forwards to the
 * central bus, and the member role trusting the central reconciler role), the central bus with the
 * rule serverless.yml puts there, the real handlers built on an organisation-mode runtime, and a
 * local sweep queue drained by the real worker. Nothing is deployed and nothing is written to
 * process.env.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { type EventSummary, makeOnFunctionChange } from '../handlers/on-function-change';
import { makeSweepFanOut } from '../handlers/drift-sweep';
import { createSweepWorkerRuntime, makeSweepAccount } from '../handlers/sweep-account';
import { DEFAULTS, loadConfig } from '../lib/config';
import type { FailureRecord } from '../lib/failure-queue';
import type { FanOutSummary, SweepRequest } from '../lib/fan-out';
import type { Outcome } from '../lib/reconcile';
import { createObservability } from '../lib/report';
import { createRuntime, type Runtime, type RuntimeClients } from '../lib/runtime';
import type { SweepSummary } from '../lib/sweep';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index';
import { type BusEvent, LocalBus } from './bus';
import { lambdaContext } from './lambda-context';
import { readMemberRule } from './member-template';
import { type QueuedMessage, LocalQueue } from './queue';
import { busRulesFromServerless, readServerlessRules, SERVERLESS_YML } from './serverless-rules';
import type { LocalCredentials } from './local-stack';

/** The management account, where the central stack runs. */
export const CENTRAL_ACCOUNT = '100000000000';
/** The event handler's role, one of the two every member role trusts (the member template's EventHandlerRoleArn). */
export const EVENT_HANDLER_ROLE_ARN = `arn:aws:iam::${CENTRAL_ACCOUNT}:role/cloudfront-autopublish-event-handler`;
/** The sweep worker's role, the other one (the member template's SweepWorkerRoleArn). */
export const SWEEP_WORKER_ROLE_ARN = `arn:aws:iam::${CENTRAL_ACCOUNT}:role/cloudfront-autopublish-sweep-worker`;
/** The roles a member role trusts, as member/template.yml writes its trust. */
export const MEMBER_TRUSTED_ROLE_ARNS = [EVENT_HANDLER_ROLE_ARN, SWEEP_WORKER_ROLE_ARN] as const;
const EVENT_HANDLER_KEY = 'AKIDCFAUTOPUBLISHEVENTS';
const SWEEP_WORKER_KEY = 'AKIDCFAUTOPUBLISHWORKER';

/** Member account n (1-based): 200000000001, 200000000002, … */
export const memberAccount = (n: number) => String(200_000_000_000 + n);

export interface OrganizationStackOptions {
  /** Member accounts, each with the member stack deployed. Default 3. */
  readonly accounts?: number;
  /** Members whose member stack is missing: no member role, no forwarding rule. */
  readonly withoutMemberStack?: readonly string[];
  /** Accounts of the organisation the reconciler does not list (MEMBER_ACCOUNTS leaves them out). */
  readonly outsiders?: number;
  /**
   * Which accounts the reconciler sweeps: `listed` sets MEMBER_ACCOUNTS to the members (the
   * default); `organization` leaves it empty, so the runtime lists the organisation's ACTIVE accounts.
   */
  readonly memberList?: 'listed' | 'organization';
  readonly settings?: Readonly<Record<string, string>>;
  readonly emulator?: EmulatorOptions;
  readonly clients?: RuntimeClients;
  /** The sweep worker's maximum concurrency (serverless.yml sweepWorkerConcurrency). Default 10. */
  readonly workerConcurrency?: number;
  readonly serverlessYml?: string;
}

export interface AccountOutcome extends Outcome {
  readonly account: string;
  readonly decidedBy: 'event' | 'sweep';
}

export interface OrganizationSweep {
  readonly fanOut: FanOutSummary;
  /** Accounts whose message ended in the dead-letter queue (the body itself when it names none). */
  readonly deadLetters: readonly string[];
  /** Each account the worker swept, with its summary. */
  readonly swept: ReadonlyMap<string, SweepSummary>;
}

export interface OrganizationStack {
  readonly emulator: Emulator;
  readonly central: string;
  readonly members: readonly string[];
  readonly outsiders: readonly string[];
  readonly centralBus: LocalBus;
  /** The default bus of each member account that has the member stack. */
  readonly memberBuses: ReadonlyMap<string, LocalBus>;
  /** The fan-out's runtime, as the worker's role (the worker has its own: createSweepWorkerRuntime). */
  readonly runtime: Runtime;
  /** The event handler's runtime, as its own role (serverless.yml: one role per function). */
  readonly eventRuntime: Runtime;
  readonly queue: LocalQueue<SweepRequest>;
  readonly outcomes: AccountOutcome[];
  readonly failureQueue: FailureRecord[];
  /** A CloudFront client of a user in `account` (a console user, a CI job there). */
  clientFor(account: string, actor: string): CloudFrontClient;
  /** The scheduled sweep: fan-out, then the worker drains the queue. */
  sweep(options?: { full?: boolean }): Promise<OrganizationSweep>;
  /** Waits until every event in flight on every bus has been handled. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startOrganizationStack(options: OrganizationStackOptions = {}): Promise<OrganizationStack> {
  const members = Array.from({ length: options.accounts ?? 3 }, (_, i) => memberAccount(i + 1));
  const outsiders = Array.from({ length: options.outsiders ?? 0 }, (_, i) => String(900_000_000_001 + i));
  const emulator = await startEmulator({ accountId: CENTRAL_ACCOUNT, ...options.emulator });
  const centralBus = new LocalBus({ retry: { maxRetries: 2, delayMs: 10 } });
  const memberBuses = new Map<string, LocalBus>();
  const outcomes: AccountOutcome[] = [];
  const failureQueue: FailureRecord[] = [];
  const queue = new LocalQueue<SweepRequest>();
  const workerConcurrency = options.workerConcurrency ?? 10;
  const withoutStack = new Set(options.withoutMemberStack ?? []);
  let runtime: Runtime;
  let eventRuntime: Runtime;
  let fanOut: ReturnType<typeof makeSweepFanOut>;
  let worker: ReturnType<typeof makeSweepAccount>;
  const swept = new Map<string, SweepSummary>();
  try {
    for (const account of [...members, ...outsiders]) emulator.addAccount(account, { name: `account ${account}` });
    emulator.iam.setPrincipal(EVENT_HANDLER_KEY, EVENT_HANDLER_ROLE_ARN);
    emulator.iam.setPrincipal(SWEEP_WORKER_KEY, SWEEP_WORKER_ROLE_ARN);
    const memberRule = readMemberRule();
    for (const account of members) {
      if (withoutStack.has(account)) continue;
      emulator.iam.createRole({ account, roleName: DEFAULTS.memberRoleName, trustedPrincipalArns: [...MEMBER_TRUSTED_ROLE_ARNS] });
      // The member's rule: matching events go on to the central bus, keeping their `account`.
      const bus = new LocalBus();
      bus.addRule({ name: memberRule.name, pattern: memberRule.pattern, target: async (event) => void centralBus.put(event) });
      memberBuses.set(account, bus);
    }
    const as = (accessKeyId: string): LocalCredentials => ({ accessKeyId, secretAccessKey: 'local' });
    const config = loadConfig({
      ...options.settings,
      ORGANIZATION_MODE: 'true',
      MEMBER_ACCOUNTS: options.memberList === 'organization' ? '' : members.join(','),
      CLOUDFRONT_ENDPOINT: emulator.endpoint,
      STS_ENDPOINT: emulator.endpoint,
      ORGANIZATIONS_ENDPOINT: emulator.endpoint,
      S3_ENDPOINT: emulator.endpoint,
    });
    const clients: RuntimeClients = {
      observability: createObservability({ quiet: true }),
      failureQueue: { send: async (record) => void failureQueue.push(record) },
      sweepQueue: queue,
      sweepDeadLetters: queue.deadLetterQueue,
      ...options.clients,
    };
    runtime = createRuntime(config, { credentials: as(SWEEP_WORKER_KEY), ...clients });
    eventRuntime = createRuntime(config, { credentials: as(EVENT_HANDLER_KEY), ...clients });
    const onFunctionChange = makeOnFunctionChange(eventRuntime);
    fanOut = makeSweepFanOut(runtime);
    // The worker's own runtime, as deployed: its member list is the sweep queue's word.
    worker = makeSweepAccount(createSweepWorkerRuntime(config, { credentials: as(SWEEP_WORKER_KEY), ...clients }), {
      onAccountSwept: (account, summary) => {
        swept.set(account, summary);
        outcomes.push(...summary.outcomes.map((o) => ({ ...o, account, decidedBy: 'sweep' as const })));
      },
    });
    const invoke = async (event: BusEvent) => {
      const summary = (await onFunctionChange(event, lambdaContext('onFunctionChange', CENTRAL_ACCOUNT, 30_000))) as EventSummary;
      const account = String(event.account);
      // An event put on the failure queue answers `{failed, sentToFailureQueue}`: no outcomes.
      outcomes.push(...(summary.outcomes ?? []).map((o) => ({ ...o, account, decidedBy: 'event' as const })));
      return summary;
    };
    // The rule serverless.yml puts on the central bus in organisation mode (not the default bus's).
    const central = readServerlessRules(options.serverlessYml ?? SERVERLESS_YML, { organizationMode: true });
    if (central.rules.some((rule) => rule.eventBus === undefined)) throw new Error('serverless.yml: in organisation mode a rule is still on the default bus');
    const rules = busRulesFromServerless(central, { onFunctionChange: invoke });
    if (rules.length === 0) throw new Error('serverless.yml declares no central-bus rule for onFunctionChange in organisation mode');
    for (const rule of rules) centralBus.addRule(rule);
  } catch (error) {
    centralBus.dispose();
    for (const bus of memberBuses.values()) bus.dispose();
    await emulator.close();
    throw error;
  }

  // CloudTrail in each account reaches that account's default bus; an account without the member
  // stack has no rule there, so its events go nowhere.
  const unsubscribe = emulator.onCloudTrailEvent((event) => {
    memberBuses.get(String(event.account))?.put(event);
  });

  // The SQS event source: the worker takes whatever waits on the sweep queue.
  const drainSweepQueue = () =>
    queue.drain((batch) => worker(batch, lambdaContext('sweepAccount', CENTRAL_ACCOUNT, 600_000)), { concurrency: workerConcurrency });

  const settle = async () => {
    // A member bus's delivery puts onto the central bus: drain the members first. The reconciler's
    // own calls (PublishFunction) match no member rule, so nothing flows back. An event that names no
    // function leaves a sweep message, which the worker takes as the event source would.
    await Promise.all([...memberBuses.values()].map((bus) => bus.drain()));
    await centralBus.drain();
    await drainSweepQueue();
  };

  return {
    emulator,
    central: CENTRAL_ACCOUNT,
    members,
    outsiders,
    centralBus,
    memberBuses,
    runtime,
    eventRuntime,
    queue,
    outcomes,
    failureQueue,
    clientFor(account, actor) {
      const accessKeyId = `AKID${account}${actor.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
      emulator.iam.setPrincipal(accessKeyId, `arn:aws:iam::${account}:user/${actor}`);
      return new CloudFrontClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'local' }, maxAttempts: 3 });
    },
    async sweep(sweepOptions = {}) {
      const event = sweepOptions.full ? { full: true } : { 'detail-type': 'Scheduled Event', source: 'aws.events', account: CENTRAL_ACCOUNT, detail: {} };
      const summary = (await fanOut(event, lambdaContext('driftSweep', CENTRAL_ACCOUNT, 600_000))) as FanOutSummary;
      const deadBefore = queue.deadLetters.length;
      swept.clear();
      await drainSweepQueue();
      // A dead letter may be a message that was never valid JSON (sweep-account dead-letters those at once).
      const accountOf = (m: QueuedMessage) => {
        try {
          const { account } = JSON.parse(m.body) as { account?: unknown };
          return typeof account === 'string' ? account : m.body;
        } catch {
          return m.body;
        }
      };
      return { fanOut: summary, deadLetters: queue.deadLetters.slice(deadBefore).map(accountOf), swept: new Map(swept) };
    },
    settle,
    async close() {
      unsubscribe();
      try {
        await settle();
      } finally {
        centralBus.dispose();
        for (const bus of memberBuses.values()) bus.dispose();
        await emulator.close();
      }
    },
  };
}
