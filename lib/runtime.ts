/**
 * The runtime: settings, policy, clients and reporting of one reconciler, built once and passed in.
 * A deployed Lambda builds it from its environment (handlers/); tests, the local stack, the bench
 * and the CLI build it with `createRuntime(config, clients)` and hand it to the same handler code.
 *
 * Only the CloudFront gateway is imported here. Every other gateway module (S3, SQS, STS,
 * Organizations, EventBridge, SSM, SNS) and the SDK client it brings is loaded on its first call,
 * and only when the settings use it: a cold start evaluates none of it that the configuration does
 * not need (bench/bundles.ts measures it; test/lazy-clients.test.ts holds it). Each is loaded with
 * `import()` (importLazily below): the shipped bundles are ES modules split by esbuild, so each such
 * module is a chunk file of its own that a cold start neither reads nor parses.
 */
import { join } from 'node:path';
import type { CloudFrontClient, CloudFrontClientConfig } from '@aws-sdk/client-cloudfront';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SNSClient } from '@aws-sdk/client-sns';
import { associationsCache } from './associations';
import { cloudFrontGateway, type CloudFrontGateway, createCloudFrontClient } from './cloudfront-gateway';
import { type Config, isOptedIn, nameGuard, type OrganizationConfig } from './config';
import type { Policy } from './decide';
import { type History, historyStore } from './history';
import type { FailureQueue } from './failure-queue';
import type { SweepRequest } from './fan-out';
import { fixedMembers, type MemberDirectory } from './member-directory';
import { createPublishGate, type GateOverrides, type PublishGate } from './publish-gate';
import type { PauseState } from './pause';
import { createObservability, createReporter, type Observability, type Reporter } from './report';
import type { PauseSwitch } from './ssm-gateway';
import type { S3Gateway } from './s3-gateway';
import type { DeadLetterQueue, MessageQueue } from './sqs-gateway';
import type { MemberCredentials } from './sts-gateway';
import { type SweepReport, sweep } from './sweep';

export interface Runtime {
  readonly config: Config;
  readonly policy: Policy;
  readonly observability: Observability;
  readonly reporter: Reporter;
  /** The reporter of one account's work: organisation mode puts the account on every line, count and announcement. */
  reporterFor(account: string | undefined): Reporter;
  /**
   * The gateway to an account's functions. Single-account mode: the deployment's own, whatever is
   * asked. Organisation mode: that member account's, through its member role (credentials cached per
   * account; an account outside the member list fails with NotAMemberError before any STS call).
   */
  cloudfrontFor(account: string | undefined): CloudFrontGateway;
  /** Organisation mode's member list and sweep queue; undefined in single-account mode. */
  readonly organization: Organization | undefined;
  /** Where the event path puts failures no retry can mend; undefined: Lambda's retries keep them. */
  readonly failureQueue: FailureQueue | undefined;
  /** The history bucket (HISTORY_BUCKET), one for every account; undefined: history is off. */
  readonly history: History | undefined;
  /**
   * A publish gate for one invocation over `cloudfront` (it reads the account's associations at most
   * once); undefined when PUBLISH_GATE=off. Organisation mode: `account` is the member account
   * `cloudfront` reaches, the only prefix its functions' test cases may be read from.
   */
  publishGate(cloudfront: CloudFrontGateway, overrides?: GateOverrides, options?: GateOptions): PublishGate | undefined;
  /**
   * A distribution was created, updated or deleted: the associations this container keeps for
   * `account` (organisation mode; any in single-account mode) are read afresh by the next event.
   */
  dropAssociations(account: string | undefined): void;
  /**
   * The pause in force: its text, or undefined when not paused (and always without PAUSE_PARAMETER).
   * Rejects with a retryable PauseReadError when the parameter cannot be read. An unrecognised value
   * pauses, and `reporter` warns, naming it.
   */
  pause(reporter: Reporter): Promise<string | undefined>;
}

export interface GateOptions {
  /** A gate even when PUBLISH_GATE=off (the CLI's test and wait). */
  readonly force?: boolean;
  readonly account?: string | undefined;
  /**
   * The event path: the associations from the container's cache, kept ASSOCIATIONS_TTL_SECONDS per
   * account (lib/associations.ts). Otherwise (the sweep, the CLI) the gate reads them fresh, once.
   */
  readonly cachedAssociations?: boolean;
}

export interface Organization {
  readonly members: MemberDirectory;
  /** Where the scheduled sweep sends one message per account; undefined without SWEEP_QUEUE_URL. */
  readonly sweepQueue: MessageQueue<SweepRequest> | undefined;
  /** Where the worker puts a sweep message that can never succeed; undefined without SWEEP_DEAD_LETTER_QUEUE_URL. */
  readonly sweepDeadLetters: DeadLetterQueue | undefined;
}

/** What a caller may bring instead of what the runtime would build from the settings. */
export interface RuntimeClients {
  readonly cloudFront?: CloudFrontClient;
  readonly eventBridge?: EventBridgeClient;
  readonly sqs?: SQSClient;
  readonly s3?: S3Client;
  /** A failure queue other than SQS (the local stack keeps failures in memory). */
  readonly failureQueue?: FailureQueue;
  /** Organisation mode: a sweep queue other than SQS (the local stack's in-memory queue). */
  readonly sweepQueue?: MessageQueue<SweepRequest>;
  /** Organisation mode: a sweep dead-letter queue other than SQS (the local stack's). */
  readonly sweepDeadLetters?: DeadLetterQueue;
  /** Organisation mode: a member list other than MEMBER_ACCOUNTS or the listing (the sweep worker's, lib/fan-out.ts sweepQueueMembers). */
  readonly members?: MemberDirectory;
  /** Credentials for the clients the runtime builds; default: the SDK's credential chain. */
  readonly credentials?: CloudFrontClientConfig['credentials'];
  /** A named profile of the shared config files (the CLI's --profile). */
  readonly profile?: string;
  /** The signing region of the CloudFront client (CloudFront is global: us-east-1 by default). */
  readonly region?: string;
  readonly observability?: Observability;
  readonly sts?: STSClient;
  readonly organizations?: OrganizationsClient;
  readonly ssm?: SSMClient;
  readonly sns?: SNSClient;
}

/**
 * Member-account gateways kept at once. A worker that sweeps many accounts over its life would
 * otherwise keep one SDK client per account ever seen; dropping one costs no AssumeRole (the
 * credentials are cached apart).
 */
const MAX_MEMBER_GATEWAYS = 64;

export function policyFor(config: Config): Policy {
  return {
    optedIn: (tags) => isOptedIn(config, tags),
    nameAllowed: nameGuard(config),
    dryRun: config.dryRun,
    gate: config.publishGate === 'smoke',
    history: config.historyBucket !== undefined,
  };
}

/**
 * An API of async methods whose module is loaded on the first call of any of them. The type allows
 * only methods that return promises, so no caller can tell it from the API itself.
 */
export function lazily<T extends { [K in keyof T]: (...args: never[]) => Promise<unknown> }>(load: () => Promise<T>): T {
  let loaded: Promise<T> | undefined;
  return new Proxy({} as T, {
    get(_, method) {
      // Not a method: `then` above all, so that awaiting the object does not call the loader.
      if (typeof method !== 'string' || method === 'then') return undefined;
      return async (...args: unknown[]) => {
        loaded ??= load();
        const api = await loaded;
        return (api[method as keyof T] as unknown as (...a: unknown[]) => Promise<unknown>).apply(api, args);
      };
    },
  });
}

/**
 * The module `load` imports: `load` is `() => import('./x')`, written out at the call site so that
 * esbuild sees it. The Lambda bundles (ES modules, code splitting) make it a chunk loaded on this
 * call; the CLI's CommonJS build (cli/build.ts) bundles it lazily. Only the CLI run from a checkout
 * cannot: tsx's CommonJS hooks alone compile the sources there (cli/bin.cjs) and Node's ES module
 * loader finds no `./x` beside a `.ts` file (ERR_MODULE_NOT_FOUND). There, and only there (this
 * module is itself a `.ts` file), `require` of the same `id`, relative to lib/, loads it.
 */
export async function importLazily<T>(load: () => Promise<T>, id: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const fromSources = typeof __filename === 'string' && __filename.endsWith('.ts');
    if (!fromSources || (error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return require(join(__dirname, id)) as T;
  }
}

type SqsModule = typeof import('./sqs-gateway');

export function createRuntime(config: Config, clients: RuntimeClients = {}): Runtime {
  const credentials = {
    ...(clients.credentials ? { credentials: clients.credentials } : {}),
    ...(clients.profile ? { profile: clients.profile } : {}),
  };
  // Member accounts' clients share the first one's HTTP handler: one pool of kept-alive connections
  // to the one CloudFront endpoint, not a new connection per account (each client keeps its pacer).
  let sharedHandler: CloudFrontClientConfig['requestHandler'];
  const cloudFrontClientFor = (memberCredentials?: CloudFrontClientConfig['credentials']) => {
    const client = createCloudFrontClient({
      endpoint: config.cloudFrontEndpoint,
      maxAttempts: config.maxAttempts,
      maxCallsPerSecond: config.maxCallsPerSecond,
      ...(clients.region ? { region: clients.region } : {}),
      ...(memberCredentials ? { credentials: memberCredentials } : credentials),
      ...(memberCredentials && sharedHandler ? { requestHandler: sharedHandler } : {}),
    });
    if (memberCredentials) sharedHandler ??= client.config.requestHandler;
    return client;
  };
  const { eventBusName } = config;
  const eventBridge = eventBusName
    ? lazily(async () => {
        const m = await importLazily(() => import('./eventbridge-gateway'), './eventbridge-gateway');
        return m.eventBridgeGateway(clients.eventBridge ?? m.createEventBridgeClient({ endpoint: config.eventBridgeEndpoint, ...credentials }), eventBusName);
      })
    : undefined;
  // One SQS client for every queue, built with the first of them to send.
  let sqs: SQSClient | undefined = clients.sqs;
  const sqsClient = (m: SqsModule) => (sqs ??= m.createSqsClient({ endpoint: config.sqsEndpoint, ...credentials }));
  const { failureQueueUrl } = config;
  const failureQueue =
    clients.failureQueue ??
    (failureQueueUrl
      ? lazily(async () => {
          const m = await importLazily(() => import('./sqs-gateway'), './sqs-gateway');
          return m.sqsFailureQueue(sqsClient(m), failureQueueUrl);
        })
      : undefined);
  const observability = clients.observability ?? createObservability();
  // Only a function that names its own cases needs S3 (only from the listed buckets), or history.
  const s3: S3Gateway | undefined =
    config.testCasesBuckets.length > 0 || config.historyBucket !== undefined
      ? lazily(async () => {
          const m = await importLazily(() => import('./s3-gateway'), './s3-gateway');
          return m.s3Gateway(clients.s3 ?? m.createS3Client({ endpoint: config.s3Endpoint, ...credentials }));
        })
      : undefined;
  const history = s3 && config.historyBucket !== undefined ? historyStore(s3, config.historyBucket) : undefined;
  const gateSettings = { maxCompute: config.maxComputeUtilization, testCasesBuckets: config.testCasesBuckets };
  // Container-level: the runtime is built once per container (handlers/), so this outlives invocations.
  const associations = associationsCache({ ttlSeconds: config.associationsTtlSeconds });
  // Single-account mode reaches one account whatever is asked, so one key; organisation mode, one per account.
  const associationsKey = (account: string | undefined) => (config.organization ? (account ?? '') : '');
  const org = config.organization ? organizationWiring(config.organization, clients, credentials, sqsClient, cloudFrontClientFor) : undefined;
  const organization = org?.organization;
  const { alarmTopicArn, pauseParameter } = config;
  const alarmTopic = alarmTopicArn
    ? lazily(async () => {
        const m = await importLazily(() => import('./sns-gateway'), './sns-gateway');
        return m.snsGateway(clients.sns ?? m.createSnsClient({ endpoint: config.snsEndpoint, ...credentials }), alarmTopicArn);
      })
    : undefined;
  const reporter = createReporter({ ...observability, eventBridge, alarmTopic });
  const pauseSwitch: PauseSwitch | undefined = pauseParameter
    ? lazily(async () => {
        const m = await importLazily(() => import('./ssm-gateway'), './ssm-gateway');
        return m.ssmPauseSwitch(clients.ssm ?? m.createSsmClient({ endpoint: config.ssmEndpoint, ...credentials }), pauseParameter, config.pauseCacheSeconds);
      })
    : undefined;
  return {
    config,
    policy: policyFor(config),
    observability,
    reporter,
    reporterFor: (account) => (organization && account ? createReporter({ ...observability, eventBridge, alarmTopic, account }) : reporter),
    cloudfrontFor: org ? org.cloudfrontFor : singleGateway(clients, cloudFrontClientFor),
    organization,
    failureQueue,
    history,
    publishGate: (gateway, overrides, options) =>
      config.publishGate === 'smoke' || options?.force
        ? createPublishGate(
            gateway,
            s3,
            {
              ...gateSettings,
              ...(organization ? { organization: true, account: options?.account } : {}),
              ...(options?.cachedAssociations ? { associations: associations.readerFor(associationsKey(options.account), gateway) } : {}),
            },
            overrides,
          )
        : undefined,
    dropAssociations: (account) => associations.drop(config.organization ? account : ''),
    async pause(forReporter) {
      if (!pauseSwitch || !config.pauseParameter) return undefined;
      const state: PauseState = await pauseSwitch.read();
      if (!state.paused) return undefined;
      if (state.unrecognised) forReporter.pauseUnrecognised(config.pauseParameter, state.reason);
      return state.reason;
    },
  };
}

type ClientCredentials = { credentials?: CloudFrontClientConfig['credentials']; profile?: string };

function singleGateway(clients: RuntimeClients, clientFor: () => CloudFrontClient): Runtime['cloudfrontFor'] {
  const cloudfront = cloudFrontGateway(clients.cloudFront ?? clientFor());
  return () => cloudfront;
}

/** Organisation mode: the member list, the sweep queue, and one gateway per member account. */
function organizationWiring(
  org: OrganizationConfig,
  clients: RuntimeClients,
  credentials: ClientCredentials,
  sqsClient: (m: SqsModule) => SQSClient,
  clientFor: (credentials: CloudFrontClientConfig['credentials']) => CloudFrontClient,
): { organization: Organization; cloudfrontFor: Runtime['cloudfrontFor'] } {
  const members =
    clients.members ??
    (org.memberAccounts.length > 0
      ? fixedMembers(org.memberAccounts)
      : lazily(async () => {
          const m = await importLazily(() => import('./organizations-gateway'), './organizations-gateway');
          return m.organizationMembers(clients.organizations ?? m.createOrganizationsClient({ endpoint: org.organizationsEndpoint, ...credentials }));
        }));
  const { sweepQueueUrl, sweepDeadLetterQueueUrl } = org;
  const sweepQueue =
    clients.sweepQueue ??
    (sweepQueueUrl
      ? lazily(async () => {
          const m = await importLazily(() => import('./sqs-gateway'), './sqs-gateway');
          return m.sqsMessageQueue<SweepRequest>(sqsClient(m), sweepQueueUrl, (request) => request.account);
        })
      : undefined);
  const sweepDeadLetters =
    clients.sweepDeadLetters ??
    (sweepDeadLetterQueueUrl
      ? lazily(async () => {
          const m = await importLazily(() => import('./sqs-gateway'), './sqs-gateway');
          return m.sqsDeadLetterQueue(sqsClient(m), sweepDeadLetterQueueUrl);
        })
      : undefined);
  return { organization: { members, sweepQueue, sweepDeadLetters }, cloudfrontFor: memberGateways(org, members, clients, credentials, clientFor) };
}

/** One gateway per member account, each with its own client (its own pacing) and assumed-role credentials. */
function memberGateways(
  org: OrganizationConfig,
  members: MemberDirectory,
  clients: RuntimeClients,
  credentials: ClientCredentials,
  clientFor: (credentials: CloudFrontClientConfig['credentials']) => CloudFrontClient,
): Runtime['cloudfrontFor'] {
  let loaded: Promise<MemberCredentials> | undefined;
  const credentialsSource = (): Promise<MemberCredentials> =>
    (loaded ??= importLazily(() => import('./sts-gateway'), './sts-gateway').then((m) =>
      m.memberCredentials({
        sts: clients.sts ?? m.createStsClient({ endpoint: org.stsEndpoint, ...credentials }),
        roleName: org.memberRoleName,
        isMember: (account) => members.isMember(account),
      }),
    ));
  // The SDK asks a client's provider on its first call, so STS loads with the first member call.
  const source: MemberCredentials = {
    providerFor: (account) => async (properties) => (await credentialsSource()).providerFor(account)(properties),
  };
  const gateways = new Map<string, CloudFrontGateway>();
  return (account) => {
    if (account === undefined) throw new TypeError('organisation mode reconciles in a named member account; none was given');
    let gateway = gateways.get(account);
    if (gateway) {
      // Most recently used last, so the eviction below drops the least recently used.
      gateways.delete(account);
    } else {
      gateway = cloudFrontGateway(clientFor(source.providerFor(account)));
      if (gateways.size >= MAX_MEMBER_GATEWAYS) gateways.delete(gateways.keys().next().value as string);
    }
    gateways.set(account, gateway);
    return gateway;
  };
}

/** The account a Lambda runs in, from its own ARN; undefined when it cannot tell (local runs). */
export function accountOf(context: { invokedFunctionArn?: string } | undefined): string | undefined {
  const account = context?.invokedFunctionArn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** The partition a Lambda runs in, from its own ARN; undefined when it cannot tell (local runs). */
export function partitionOf(context: { invokedFunctionArn?: string } | undefined): string | undefined {
  const partition = context?.invokedFunctionArn?.split(':')[1];
  return partition && /^aws(-[a-z]+)*$/.test(partition) ? partition : undefined;
}

/**
 * One sweep of `account` as every handler runs it (the scheduled sweep, the event path's sweep of an
 * unnamed record, the organisation's worker): the runtime's gateway, gate, history and policy, and the
 * invocation's clock, so that what a sweep may do is decided in one place.
 */
export function runSweep(
  runtime: Runtime,
  context: { getRemainingTimeInMillis(): number },
  run: { readonly account: string | undefined; readonly paused: string | undefined; readonly full?: boolean },
): Promise<SweepReport> {
  const { config, policy } = runtime;
  return sweep({
    paused: run.paused,
    ...(run.full !== undefined ? { full: run.full } : {}),
    cloudfront: runtime.cloudfrontFor(run.account),
    publishGate: (cloudfront) => runtime.publishGate(cloudfront, {}, { account: run.account }),
    ...(runtime.history ? { history: runtime.history } : {}),
    policy,
    concurrency: config.sweepConcurrency,
    remainingMs: () => context.getRemainingTimeInMillis(),
    reserveMs: config.sweepReserveMs,
  });
}
