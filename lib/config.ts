/**
 * Settings, read once from the environment into an explicit object. Anything we cannot parse stops
 * start-up with an error naming the variable, before any AWS call: a typo must never silently widen
 * what gets published.
 */
import { AutoPublishError } from './errors';
import { compileNamePatterns, NAME_PATTERN_RULE } from './function-ref';

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

export const DEFAULTS = {
  tagKey: 'auto-publish',
  tagValue: 'true',
  sweepConcurrency: 4,
  sweepReserveMs: 10_000,
  maxAttempts: 8,
  maxComputeUtilization: 70,
  memberRoleName: 'cloudfront-autopublish-member',
  pauseCacheSeconds: 30,
  outOfSyncMinutes: 30,
  sweepIntervalSeconds: 900,
} as const;

// SSM parameter names: letters, digits and _.-/ (docs/cloudfront-api.md#the-pause-parameter).
const SSM_PARAMETER = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
// A standard SNS topic (FIFO topics cannot take these notifications' plain publishes).
const SNS_TOPIC = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

// IAM role names: 1-64 of letters, digits and +=,.@_-
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;

// S3 bucket names: 3–63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

// CloudFront's tag rules (docs/cloudfront-api.md#tags): keys 1–128, values 0–256, letters, spaces, digits and _.:/=+-@
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
// A bus name, not an ARN: the deployment scopes events:PutEvents to event-bus/<name> in this account.
const EVENT_BUS = /^[/.\-_A-Za-z0-9]{1,256}$/;

type Env = Readonly<Record<string, string | undefined>>;

/** `env` is the Lambda's environment in a deployed handler, or any record a caller builds. */
export function loadConfig(env: Env): Config {
  const tagKey = tagSetting(env, 'AUTO_PUBLISH_TAG_KEY', DEFAULTS.tagKey);
  if (tagKey.length > 128 || !TAG_CHARS.test(tagKey)) {
    throw new ConfigError('AUTO_PUBLISH_TAG_KEY', `"${tagKey}" is not a valid tag key (1-128 letters, digits, spaces or _.:/=+-@)`);
  }
  const tagValue = tagSetting(env, 'AUTO_PUBLISH_TAG_VALUE', DEFAULTS.tagValue);
  if (tagValue.length > 256 || !TAG_CHARS.test(tagValue)) {
    throw new ConfigError('AUTO_PUBLISH_TAG_VALUE', `"${tagValue}" is not a valid tag value (1-256 letters, digits, spaces or _.:/=+-@)`);
  }
  const eventBusName = optional(env, 'EVENT_BUS_NAME');
  if (eventBusName !== undefined && !EVENT_BUS.test(eventBusName)) {
    throw new ConfigError('EVENT_BUS_NAME', `"${eventBusName}" is not an event bus name (letters, digits, . - _ /; not an ARN)`);
  }
  const cloudFrontEndpoint = url(env, 'CLOUDFRONT_ENDPOINT');
  const eventBridgeEndpoint = url(env, 'EVENTBRIDGE_ENDPOINT');
  const failureQueueUrl = url(env, 'FAILURE_QUEUE_URL');
  const sqsEndpoint = url(env, 'SQS_ENDPOINT');
  const s3Endpoint = url(env, 'S3_ENDPOINT');
  const publishGate = optional(env, 'PUBLISH_GATE') ?? 'smoke';
  if (publishGate !== 'smoke' && publishGate !== 'off') throw new ConfigError('PUBLISH_GATE', `"${publishGate}" is not smoke or off`);
  const testCasesBuckets = list(env, 'TEST_CASES_BUCKETS', 'bucket name');
  for (const bucket of testCasesBuckets) {
    if (!BUCKET.test(bucket)) throw new ConfigError('TEST_CASES_BUCKETS', `"${bucket}" is not an S3 bucket name`);
  }

  const historyBucket = optional(env, 'HISTORY_BUCKET');
  if (historyBucket !== undefined && !BUCKET.test(historyBucket)) throw new ConfigError('HISTORY_BUCKET', `"${historyBucket}" is not an S3 bucket name`);
  const pauseParameter = optional(env, 'PAUSE_PARAMETER');
  if (pauseParameter !== undefined && !SSM_PARAMETER.test(pauseParameter)) {
    throw new ConfigError('PAUSE_PARAMETER', `"${pauseParameter}" is not an SSM parameter name (letters, digits and _.-/)`);
  }
  const alarmTopicArn = optional(env, 'ALARM_TOPIC_ARN');
  if (alarmTopicArn !== undefined && !SNS_TOPIC.test(alarmTopicArn)) {
    throw new ConfigError('ALARM_TOPIC_ARN', `"${alarmTopicArn}" is not the ARN of a standard SNS topic`);
  }

  const allowedNames = list(env, 'AUTO_PUBLISH_ALLOWED_NAMES', 'name pattern');
  for (const pattern of allowedNames) {
    if (!NAME_PATTERN_RULE.test(pattern)) {
      throw new ConfigError('AUTO_PUBLISH_ALLOWED_NAMES', `"${pattern}" is not a function name pattern (letters, digits, - _ and * only)`);
    }
  }
  return {
    tagKey,
    tagValue,
    dryRun: boolean(env, 'DRY_RUN', false),
    eventBusName,
    cloudFrontEndpoint,
    eventBridgeEndpoint,
    failureQueueUrl,
    sqsEndpoint,
    sweepConcurrency: integer(env, 'SWEEP_CONCURRENCY', DEFAULTS.sweepConcurrency, 1, 64),
    allowedNames,
    sweepReserveMs: integer(env, 'SWEEP_RESERVE_MS', DEFAULTS.sweepReserveMs, 0, 900_000),
    maxAttempts: integer(env, 'CLOUDFRONT_MAX_ATTEMPTS', DEFAULTS.maxAttempts, 1, 20),
    maxCallsPerSecond: optional(env, 'CLOUDFRONT_MAX_CALLS_PER_SECOND') === undefined ? undefined : integer(env, 'CLOUDFRONT_MAX_CALLS_PER_SECOND', 0, 1, 1000),
    publishGate,
    maxComputeUtilization: integer(env, 'PUBLISH_GATE_MAX_COMPUTE', DEFAULTS.maxComputeUtilization, 1, 100),
    testCasesBuckets,
    s3Endpoint,
    historyBucket,
    organization: boolean(env, 'ORGANIZATION_MODE', false) ? organizationConfig(env) : undefined,
    pauseParameter,
    pauseCacheSeconds: integer(env, 'PAUSE_CACHE_SECONDS', DEFAULTS.pauseCacheSeconds, 0, 3600),
    ssmEndpoint: url(env, 'SSM_ENDPOINT'),
    alarmTopicArn,
    snsEndpoint: url(env, 'SNS_ENDPOINT'),
    outOfSyncMinutes: integer(env, 'OUT_OF_SYNC_MINUTES', DEFAULTS.outOfSyncMinutes, 1, 10_080),
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', DEFAULTS.sweepIntervalSeconds, 60, 86_400),
  };
}

/**
 * Read only when ORGANIZATION_MODE=true: in single-account mode these settings mean nothing, and
 * the deployment does not set them.
 */
function organizationConfig(env: Env): OrganizationConfig {
  const memberRoleName = optional(env, 'MEMBER_ROLE_NAME') ?? DEFAULTS.memberRoleName;
  if (!ROLE_NAME.test(memberRoleName))
    throw new ConfigError('MEMBER_ROLE_NAME', `"${memberRoleName}" is not an IAM role name (1-64 letters, digits or +=,.@_-)`);
  const memberAccounts = [...new Set(list(env, 'MEMBER_ACCOUNTS', 'account ID'))];
  for (const account of memberAccounts) {
    if (!ACCOUNT_ID.test(account)) throw new ConfigError('MEMBER_ACCOUNTS', `"${account}" is not a 12-digit account ID`);
  }
  return {
    memberRoleName,
    memberAccounts,
    sweepQueueUrl: url(env, 'SWEEP_QUEUE_URL'),
    sweepDeadLetterQueueUrl: url(env, 'SWEEP_DEAD_LETTER_QUEUE_URL'),
    stsEndpoint: url(env, 'STS_ENDPOINT'),
    organizationsEndpoint: url(env, 'ORGANIZATIONS_ENDPOINT'),
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

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * The opt-in tag's key or value: unset is the default; blank, or with blanks around it, is refused.
 * A blank value would opt in every function tagged `key=`, and " true" reads like "true" but would be
 * a different key, or a value nobody can tell apart in the console.
 */
function tagSetting(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') throw new ConfigError(name, `is blank; leave it unset for the default "${fallback}"`);
  if (raw !== raw.trim()) throw new ConfigError(name, `${JSON.stringify(raw)} has leading or trailing blanks`);
  return raw;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new ConfigError(name, `"${raw}" is not true or false`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `"${raw}" is not a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/**
 * Unset or blank: an empty list. A value that is set but holds no item (only separators) is an error:
 * for AUTO_PUBLISH_ALLOWED_NAMES an empty list means "no guard", so a typo would silently turn it off.
 */
function list(env: Env, name: string, noun: string): string[] {
  const raw = optional(env, name);
  if (raw === undefined) return [];
  const items = raw.split(/[,\s]+/).filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(name, `"${raw}" holds no ${noun} (only separators); leave it empty for none`);
  return items;
}

function url(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw !== undefined) checkUrl(name, raw);
  return raw;
}

function checkUrl(name: string, raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `"${raw}" must be an http or https URL`);
  }
}
