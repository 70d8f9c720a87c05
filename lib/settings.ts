/**
 * The settings table: each setting's environment variable, the serverless.yml param that sets it (when
 * one does), its default and its parser. lib/config.ts reads the Lambda environment through it, and
 * local/settings-params.cjs checks the params through it when serverless.yml is resolved, so a value
 * the code would refuse at run time is refused by `serverless package` with the same words
 * (docs/settings.md). Plain data and pure functions only: the packaging check bundles this file.
 */
import { NAME_PATTERN_RULE } from './function-ref';

/** What is wrong with a value, without the name of the setting: each reader adds its own name. */
export class SettingRefused extends Error {
  override name = 'SettingRefused';
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
  associationsTtlSeconds: 60,
  outOfSyncMinutes: 30,
  sweepIntervalSeconds: 900,
} as const;

/** One raw value, as the environment holds it: undefined when the variable is not set. */
type Parser<T> = (raw: string | undefined) => T;

export interface Setting<T> {
  /** The variable the functions read (lib/config.ts). */
  readonly env: string;
  /**
   * The serverless.yml param that sets it, verbatim; undefined: the stack sets it from a resource (a
   * queue URL, the history bucket), derives it (SWEEP_INTERVAL_SECONDS from sweepSchedule), or only a
   * local run does (endpoints).
   */
  readonly param: string | undefined;
  readonly parse: Parser<T>;
}

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

function refuse(detail: string): never {
  throw new SettingRefused(detail);
}

/** Unset or blank is undefined; anything else, trimmed. */
function present(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * The opt-in tag's key or value: unset is the default; blank, or with blanks around it, is refused.
 * A blank value would opt in every function tagged `key=`, and " true" reads like "true" but would be
 * a different key, or a value nobody can tell apart in the console.
 */
function tag(fallback: string, maxLength: number, noun: string): Parser<string> {
  return (raw) => {
    if (raw === undefined) return fallback;
    if (raw.trim() === '') refuse(`is blank; leave it unset for the default "${fallback}"`);
    if (raw !== raw.trim()) refuse(`${JSON.stringify(raw)} has leading or trailing blanks`);
    if (raw.length > maxLength || !TAG_CHARS.test(raw)) refuse(`"${raw}" is not a valid ${noun} (1-${maxLength} letters, digits, spaces or _.:/=+-@)`);
    return raw;
  };
}

export function boolean(fallback: boolean): Parser<boolean> {
  return (raw) => {
    const value = present(raw);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    return refuse(`"${value}" is not true or false`);
  };
}

function integer<F extends number | undefined>(fallback: F, min: number, max: number): Parser<number | F> {
  return (raw) => {
    const value = present(raw);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) refuse(`"${value}" is not a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

/**
 * Unset or blank: an empty list. A value that is set but holds no item (only separators) is an error:
 * for AUTO_PUBLISH_ALLOWED_NAMES an empty list means "no guard", so a typo would silently turn it off.
 */
function list(noun: string, rule: RegExp, what: string): Parser<string[]> {
  return (raw) => {
    const value = present(raw);
    if (value === undefined) return [];
    const items = value.split(/[,\s]+/).filter((s) => s !== '');
    if (items.length === 0) refuse(`"${value}" holds no ${noun} (only separators); leave it empty for none`);
    for (const item of items) if (!rule.test(item)) refuse(`"${item}" is not ${what}`);
    return items;
  };
}

function matching(rule: RegExp, what: string): Parser<string | undefined> {
  return (raw) => {
    const value = present(raw);
    if (value !== undefined && !rule.test(value)) refuse(`"${value}" is not ${what}`);
    return value;
  };
}

function url(raw: string | undefined): string | undefined {
  const value = present(raw);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return refuse(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') refuse(`"${value}" must be an http or https URL`);
  return value;
}

function setting<T>(env: string, param: string | undefined, parse: Parser<T>): Setting<T> {
  return { env, param, parse };
}

/** Every setting of the single-account functions, by the Config field it fills. */
export const SETTINGS = {
  tagKey: setting('AUTO_PUBLISH_TAG_KEY', 'tagKey', tag(DEFAULTS.tagKey, 128, 'tag key')),
  tagValue: setting('AUTO_PUBLISH_TAG_VALUE', 'tagValue', tag(DEFAULTS.tagValue, 256, 'tag value')),
  dryRun: setting('DRY_RUN', 'dryRun', boolean(false)),
  eventBusName: setting('EVENT_BUS_NAME', 'eventBusName', matching(EVENT_BUS, 'an event bus name (letters, digits, . - _ /; not an ARN)')),
  cloudFrontEndpoint: setting('CLOUDFRONT_ENDPOINT', undefined, url),
  eventBridgeEndpoint: setting('EVENTBRIDGE_ENDPOINT', undefined, url),
  failureQueueUrl: setting('FAILURE_QUEUE_URL', undefined, url),
  sqsEndpoint: setting('SQS_ENDPOINT', undefined, url),
  sweepConcurrency: setting('SWEEP_CONCURRENCY', 'sweepConcurrency', integer(DEFAULTS.sweepConcurrency, 1, 64)),
  allowedNames: setting(
    'AUTO_PUBLISH_ALLOWED_NAMES',
    'allowedNames',
    list('name pattern', NAME_PATTERN_RULE, 'a function name pattern (letters, digits, - _ and * only)'),
  ),
  sweepReserveMs: setting('SWEEP_RESERVE_MS', undefined, integer(DEFAULTS.sweepReserveMs, 0, 900_000)),
  maxAttempts: setting('CLOUDFRONT_MAX_ATTEMPTS', undefined, integer(DEFAULTS.maxAttempts, 1, 20)),
  maxCallsPerSecond: setting('CLOUDFRONT_MAX_CALLS_PER_SECOND', 'maxCallsPerSecond', integer(undefined, 1, 1000)),
  publishGate: setting('PUBLISH_GATE', 'publishGate', (raw): 'smoke' | 'off' => {
    const value = present(raw) ?? 'smoke';
    return value === 'smoke' || value === 'off' ? value : refuse(`"${value}" is not smoke or off`);
  }),
  maxComputeUtilization: setting('PUBLISH_GATE_MAX_COMPUTE', 'maxComputeUtilization', integer(DEFAULTS.maxComputeUtilization, 1, 100)),
  testCasesBuckets: setting('TEST_CASES_BUCKETS', 'testCasesBuckets', list('bucket name', BUCKET, 'an S3 bucket name')),
  s3Endpoint: setting('S3_ENDPOINT', undefined, url),
  historyBucket: setting('HISTORY_BUCKET', undefined, matching(BUCKET, 'an S3 bucket name')),
  organizationMode: setting('ORGANIZATION_MODE', 'organizationMode', boolean(false)),
  pauseParameter: setting('PAUSE_PARAMETER', undefined, matching(SSM_PARAMETER, 'an SSM parameter name (letters, digits and _.-/)')),
  pauseCacheSeconds: setting('PAUSE_CACHE_SECONDS', 'pauseCacheSeconds', integer(DEFAULTS.pauseCacheSeconds, 0, 3600)),
  associationsTtlSeconds: setting('ASSOCIATIONS_TTL_SECONDS', 'associationsTtlSeconds', integer(DEFAULTS.associationsTtlSeconds, 0, 3600)),
  ssmEndpoint: setting('SSM_ENDPOINT', undefined, url),
  alarmTopicArn: setting('ALARM_TOPIC_ARN', 'alarmTopicArn', matching(SNS_TOPIC, 'the ARN of a standard SNS topic')),
  snsEndpoint: setting('SNS_ENDPOINT', undefined, url),
  outOfSyncMinutes: setting('OUT_OF_SYNC_MINUTES', 'outOfSyncMinutes', integer(DEFAULTS.outOfSyncMinutes, 1, 10_080)),
  // From sweepSchedule (local/sweep-schedule.cjs, which allows at most 12 hours, well inside this).
  sweepIntervalSeconds: setting('SWEEP_INTERVAL_SECONDS', undefined, integer(DEFAULTS.sweepIntervalSeconds, 60, 86_400)),
} as const;

/** Read only in organisation mode (ORGANIZATION_MODE=true): in single-account mode they mean nothing. */
export const ORGANIZATION_SETTINGS = {
  memberRoleName: setting('MEMBER_ROLE_NAME', 'memberRoleName', (raw) => {
    const value = present(raw) ?? DEFAULTS.memberRoleName;
    return ROLE_NAME.test(value) ? value : refuse(`"${value}" is not an IAM role name (1-64 letters, digits or +=,.@_-)`);
  }),
  memberAccounts: setting('MEMBER_ACCOUNTS', 'memberAccounts', (raw) => [...new Set(list('account ID', ACCOUNT_ID, 'a 12-digit account ID')(raw))]),
  sweepQueueUrl: setting('SWEEP_QUEUE_URL', undefined, url),
  sweepDeadLetterQueueUrl: setting('SWEEP_DEAD_LETTER_QUEUE_URL', undefined, url),
  stsEndpoint: setting('STS_ENDPOINT', undefined, url),
  organizationsEndpoint: setting('ORGANIZATIONS_ENDPOINT', undefined, url),
} as const;

/** Every setting a serverless.yml param sets, in table order. */
export function paramSettings(): Setting<unknown>[] {
  return [...Object.values(SETTINGS), ...Object.values(ORGANIZATION_SETTINGS)].filter((s) => s.param !== undefined);
}

/**
 * The params packaging refuses, each with what is wrong, as `<param>: <what lib/config.ts says>`.
 * `values` holds each param's value as the functions' environment would get it. Organisation
 * settings are checked whatever the mode: a value the worker would refuse is never worth deploying.
 */
export function refusedParams(values: Readonly<Record<string, string | undefined>>): string[] {
  const refused: string[] = [];
  for (const s of paramSettings()) {
    try {
      s.parse(values[s.param!]);
    } catch (error) {
      if (!(error instanceof SettingRefused)) throw error;
      refused.push(`${s.param}: ${error.message} (the functions' ${s.env})`);
    }
  }
  return refused;
}
