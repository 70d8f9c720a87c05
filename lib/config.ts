/**
 * Settings, read once from the environment into an explicit object. Anything we cannot parse stops
 * start-up with an error naming the variable, before any AWS call: a typo must never silently widen
 * what gets published. Each variable's parser is in the table of lib/settings.ts, which packaging
 * checks the serverless.yml params against too (docs/settings.md).
 */
import { AutoPublishError } from './errors';
import { compileNamePatterns } from './function-ref';
import { ORGANIZATION_SETTINGS, SETTINGS, type Setting, SettingRefused } from './settings';

export interface Config {
  readonly tagKey: string;
  /** Never blank; a function's tag value is compared to it case-insensitively after trimming. */
  readonly tagValue: string;
  readonly dryRun: boolean;
  readonly eventBusName: string | undefined;
  readonly cloudFrontEndpoint: string | undefined;
  /** Another EventBridge endpoint for announcements (a local bus). */
  readonly eventBridgeEndpoint: string | undefined;
  /** Where the event path puts failures no retry can mend; unset: Lambda's retries and destination keep them. */
  readonly failureQueueUrl: string | undefined;
  readonly sqsEndpoint: string | undefined;
  readonly sweepConcurrency: number;
  /** Empty: no guard. Otherwise a name must match one pattern to ever be published. */
  readonly allowedNames: readonly string[];
  /** The sweep stops taking new candidates when less than this much Lambda time is left. */
  readonly sweepReserveMs: number;
  /** SDK attempts per call (adaptive retry mode). */
  readonly maxAttempts: number;
  /** Client-side pacing of CloudFront calls per container; undefined = adaptive retry only. */
  readonly maxCallsPerSecond: number | undefined;
  /** `smoke`: TestFunction before every publish; `off`: publish untested. */
  readonly publishGate: 'smoke' | 'off';
  /** ComputeUtilization above this blocks a publish (the guide: 71–100 is likely to be throttled). */
  readonly maxComputeUtilization: number;
  /** Buckets the gate may read a function's own test cases from; empty: none. */
  readonly testCasesBuckets: readonly string[];
  readonly s3Endpoint: string | undefined;
  /** Where LIVE is saved before every publish that replaces it; unset: no history (lib/history.ts). */
  readonly historyBucket: string | undefined;
  /** Organisation mode: events arrive from member accounts, and each account is reached through its member role. */
  readonly organization: OrganizationConfig | undefined;
  /** The SSM parameter that pauses publishing (lib/pause.ts); undefined: never read, never paused. */
  readonly pauseParameter: string | undefined;
  /** How long a read of the pause parameter is reused; 0: read on every invocation. */
  readonly pauseCacheSeconds: number;
  readonly ssmEndpoint: string | undefined;
  /**
   * How long the event path reuses the account's function associations in a container; 0: read on
   * every invocation (lib/associations.ts; docs/publish-gate.md, "Associations"). The sweep always reads fresh.
   */
  readonly associationsTtlSeconds: number;
  /** Where each blocked or failed version is sent (SNS Publish); undefined: nowhere. */
  readonly alarmTopicArn: string | undefined;
  readonly snsEndpoint: string | undefined;
  /** An opted-in function not live this long after its DEVELOPMENT changed counts as out of sync. */
  readonly outOfSyncMinutes: number;
  /** The drift sweep's schedule: a version newer than one interval ago is one the previous sweep did not see. */
  readonly sweepIntervalSeconds: number;
}

export interface OrganizationConfig {
  /** The role assumed in each member account (the member template creates it). */
  readonly memberRoleName: string;
  /** The member accounts; empty: every ACTIVE account that Organizations lists. */
  readonly memberAccounts: readonly string[];
  /** Where the scheduled sweep puts one message per member account (the drift sweep needs it). */
  readonly sweepQueueUrl: string | undefined;
  /**
   * The sweep queue's dead-letter queue: the worker puts a message that can never succeed there at
   * once. Unset: the queue's redrive policy takes it there after maxReceiveCount receives.
   */
  readonly sweepDeadLetterQueueUrl: string | undefined;
  readonly stsEndpoint: string | undefined;
  readonly organizationsEndpoint: string | undefined;
}

/** A setting we cannot parse: the same value fails the same way every time. */
export class ConfigError extends AutoPublishError {
  override name = 'ConfigError';
  readonly retryable = false;
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

export { DEFAULTS } from './settings';

type Env = Readonly<Record<string, string | undefined>>;

/** One setting of the table in lib/settings.ts, read from `env`; a refused value names the variable. */
function read<T>(env: Env, { env: variable, parse }: Setting<T>): T {
  try {
    return parse(env[variable]);
  } catch (error) {
    if (error instanceof SettingRefused) throw new ConfigError(variable, error.message);
    throw error;
  }
}

/** `env` is the Lambda's environment in a deployed handler, or any record a caller builds. */
export function loadConfig(env: Env): Config {
  const s = SETTINGS;
  return {
    tagKey: read(env, s.tagKey),
    tagValue: read(env, s.tagValue),
    dryRun: read(env, s.dryRun),
    eventBusName: read(env, s.eventBusName),
    cloudFrontEndpoint: read(env, s.cloudFrontEndpoint),
    eventBridgeEndpoint: read(env, s.eventBridgeEndpoint),
    failureQueueUrl: read(env, s.failureQueueUrl),
    sqsEndpoint: read(env, s.sqsEndpoint),
    sweepConcurrency: read(env, s.sweepConcurrency),
    allowedNames: read(env, s.allowedNames),
    sweepReserveMs: read(env, s.sweepReserveMs),
    maxAttempts: read(env, s.maxAttempts),
    maxCallsPerSecond: read(env, s.maxCallsPerSecond),
    publishGate: read(env, s.publishGate),
    maxComputeUtilization: read(env, s.maxComputeUtilization),
    testCasesBuckets: read(env, s.testCasesBuckets),
    s3Endpoint: read(env, s.s3Endpoint),
    historyBucket: read(env, s.historyBucket),
    organization: read(env, s.organizationMode) ? organizationConfig(env) : undefined,
    pauseParameter: read(env, s.pauseParameter),
    pauseCacheSeconds: read(env, s.pauseCacheSeconds),
    ssmEndpoint: read(env, s.ssmEndpoint),
    associationsTtlSeconds: read(env, s.associationsTtlSeconds),
    alarmTopicArn: read(env, s.alarmTopicArn),
    snsEndpoint: read(env, s.snsEndpoint),
    outOfSyncMinutes: read(env, s.outOfSyncMinutes),
    sweepIntervalSeconds: read(env, s.sweepIntervalSeconds),
  };
}

/**
 * Read only when ORGANIZATION_MODE=true: in single-account mode these settings mean nothing, and
 * the deployment does not set them.
 */
function organizationConfig(env: Env): OrganizationConfig {
  const s = ORGANIZATION_SETTINGS;
  return {
    memberRoleName: read(env, s.memberRoleName),
    memberAccounts: read(env, s.memberAccounts),
    sweepQueueUrl: read(env, s.sweepQueueUrl),
    sweepDeadLetterQueueUrl: read(env, s.sweepDeadLetterQueueUrl),
    stsEndpoint: read(env, s.stsEndpoint),
    organizationsEndpoint: read(env, s.organizationsEndpoint),
  };
}

/**
 * Whether a function's tags opt it in. A blank value never does, even under a config built without
 * loadConfig: anyone who may tag a function could otherwise opt it in with `key=`.
 */
export function isOptedIn(config: Pick<Config, 'tagKey' | 'tagValue'>, tags: Readonly<Record<string, string>>): boolean {
  const value = tags[config.tagKey]?.trim();
  return value !== undefined && value !== '' && value.toLowerCase() === config.tagValue.trim().toLowerCase();
}

/** Whether the name guard lets a function be published at all. */
export function nameGuard(config: Pick<Config, 'allowedNames'>): (name: string) => boolean {
  return config.allowedNames.length === 0 ? () => true : compileNamePatterns(config.allowedNames);
}
