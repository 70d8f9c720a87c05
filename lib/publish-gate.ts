/**
 * The publish gate, its shell: finds a function's test cases (its own from S3, or the smoke events
 * for its event types), runs each through TestFunction against exactly the DEVELOPMENT ETag about to
 * be published, and judges the results (lib/gate.ts). Built once per invocation: the account's
 * function associations are read at most once and shared by every function of a sweep, or, on the
 * event path, taken from the container's cache (lib/associations.ts).
 */
import { type AssociationsReader, freshAssociations } from './associations';
import type { CloudFrontGateway } from './cloudfront-gateway';
import type { Stage } from './decide';
import { untilAborted } from './aws-client';
import { AutoPublishError } from './errors';
import { type FunctionRef, kindOf } from './function-ref';
import {
  type CaseVerdict,
  CONNECTION_EVENT_TYPE,
  EVENT_TYPE_TAG,
  EVENT_TYPES,
  type EventType,
  type GateVerdict,
  judgeCase,
  parseS3Url,
  parseTestCases,
  withEventTypes,
  smokeCase,
  TEST_CASES_TAG,
  type TestCase,
  TestCasesError,
  testCasesKeyProblem,
  verdictOf,
  type WrittenCase,
} from './gate';
import type { S3Gateway } from './s3-gateway';

export interface PublishGate {
  /**
   * 'precondition-failed': the stage moved on from `etag`; re-read before anything else is decided.
   * `signal` (the sweep's deadline) bounds every call the gate makes, the S3 read included.
   */
  test(fn: FunctionRef, etag: string, tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<GateVerdict | 'precondition-failed' | 'gone'>;
}

export interface GateSettings {
  /** ComputeUtilization above this blocks (1–100; 100 itself always blocks, lib/gate.ts). */
  readonly maxCompute: number;
  /** Buckets the user's test cases may come from; any other blocks. */
  readonly testCasesBuckets: readonly string[];
  /**
   * Organisation mode: the member account whose functions this gate tests. A test-case key must then
   * start with `<account>/`; any other blocks before S3 is asked. Undefined in single-account mode.
   */
  readonly account?: string | undefined;
  /** Organisation mode: with no `account`, every test-case key blocks (fail closed). */
  readonly organization?: boolean;
  /** The longest the S3 read of a test-case file may take, retries included; default TEST_CASES_READ_TIMEOUT_MS. */
  readonly readTimeoutMs?: number;
  /** Where the associations come from; default: one read per gate (lib/associations.ts). */
  readonly associations?: AssociationsReader;
}

/** What `cf-autopublish test` may impose instead of what the tags say. */
export interface GateOverrides {
  readonly cases?: readonly WrittenCase[];
  readonly eventType?: EventType;
  readonly stage?: Stage;
  /** Quote values in full in the reasons (lib/gate.ts, JudgeOptions): the CLI's user owns the cases. */
  readonly reveal?: boolean;
}

/** A test-case file is at most 256 KB: far less than this, unless S3 is in trouble. */
export const TEST_CASES_READ_TIMEOUT_MS = 5_000;

/** The S3 read of a function's test cases outlasted its timeout: retryable, as a throttled read is. */
export class TestCasesReadTimeoutError extends AutoPublishError {
  override name = 'TestCasesReadTimeoutError';
  readonly retryable = true;
  constructor(source: string, ms: number) {
    super(`reading the test cases ${source} took over ${ms} ms`);
  }
}

const UNMEASURED_RETRIES = 2;

const blocked = (testCase: string, reason: string): GateVerdict => ({ passed: false, testCase, reason, computeUtilization: undefined, cases: [] });

type Blocked = { readonly blocked: string; readonly testCase: string };
const isBlocked = (value: unknown): value is Blocked => typeof value === 'object' && value !== null && 'blocked' in value;

/**
 * The event types a function is tested on. `all`: each must pass (the types its distributions
 * associate it with, or the one its tag names when no distribution uses it). `either`: no
 * distribution uses it and no tag says, so one passing type is enough.
 */
type EventTypePlan = { readonly mode: 'all' | 'either'; readonly types: readonly EventType[] };

export function createPublishGate(
  cloudfront: CloudFrontGateway,
  s3: S3Gateway | undefined,
  settings: GateSettings,
  overrides: GateOverrides = {},
): PublishGate {
  const associations = settings.associations ?? freshAssociations(cloudfront);

  /**
   * What the function runs on decides what is tested: every event type its distributions associate it
   * with. The tag only speaks for a function no distribution uses; a tag that names a type the
   * associations do not use blocks, since the version would go live untested on the type it runs on.
   */
  async function eventTypePlan(fn: FunctionRef, tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<EventTypePlan | Blocked> {
    if (overrides.eventType) return { mode: 'all', types: [overrides.eventType] };
    const tagged = tags[EVENT_TYPE_TAG];
    const taggedType = tagged?.trim() as EventType | undefined;
    if (tagged !== undefined && !EVENT_TYPES.includes(taggedType as EventType)) {
      return { testCase: EVENT_TYPE_TAG, blocked: `tag ${EVENT_TYPE_TAG}="${tagged.slice(0, 64)}" is not viewer-request or viewer-response` };
    }
    const associated = [...((await associations.typesOf(fn.arn, signal)) ?? [])].sort();
    if (associated.length > 0) {
      if (taggedType !== undefined && !associated.includes(taggedType)) {
        return {
          testCase: EVENT_TYPE_TAG,
          blocked: `tag ${EVENT_TYPE_TAG}="${taggedType}" names an event type no distribution runs it on: the distributions associate it as ${associated.join(' and ')}`,
        };
      }
      return { mode: 'all', types: associated };
    }
    return taggedType !== undefined ? { mode: 'all', types: [taggedType] } : { mode: 'either', types: EVENT_TYPES };
  }

  /**
   * The S3 read, bounded by its own timeout and by the caller's deadline, whichever comes first: the
   * SDK gets the signal (it stops retrying), and the read is raced against it, so the gate returns at
   * once even while the SDK sleeps in a backoff or the body is still arriving.
   */
  async function readCasesText(s3: S3Gateway, bucket: string, key: string, source: string, signal: AbortSignal | undefined) {
    const ms = settings.readTimeoutMs ?? TEST_CASES_READ_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new TestCasesReadTimeoutError(source, ms)), ms);
    const bound = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    try {
      return await untilAborted(s3.readText(bucket, key, bound), bound);
    } finally {
      clearTimeout(timer);
    }
  }

  async function writtenCases(fn: FunctionRef, tags: Readonly<Record<string, string>>, signal?: AbortSignal) {
    if (overrides.cases) return { written: overrides.cases, source: 'the given cases' };
    const url = tags[TEST_CASES_TAG];
    if (url === undefined) return undefined;
    const location = parseS3Url(url);
    if (!location) return { blocked: `tag ${TEST_CASES_TAG}="${url.slice(0, 200)}" is not an s3://BUCKET/KEY URL` };
    if (!settings.testCasesBuckets.includes(location.bucket)) return { blocked: `bucket ${location.bucket} is not in TEST_CASES_BUCKETS` };
    // Every check that needs no call comes before the read: a key that fails one is never read.
    if (settings.organization && settings.account === undefined)
      return { blocked: `organisation mode: the account of ${fn.name} is not known, so no key is read` };
    const problem = testCasesKeyProblem(location.key, settings.account);
    if (problem) return { blocked: `s3://${location.bucket}: ${problem}` };
    if (!s3) return { blocked: 'no S3 client for test cases' };
    const source = `s3://${location.bucket}/${location.key}`;
    const text = await readCasesText(s3, location.bucket, location.key, source, signal);
    if (typeof text !== 'string') return { blocked: text.unreadable };
    try {
      return { written: parseTestCases(text), source };
    } catch (error) {
      if (error instanceof TestCasesError) return { blocked: `${source}: ${error.message}` };
      throw error;
    }
  }

  /** The groups of cases to run: every group must pass; within one, a single pass is enough. */
  async function plan(fn: FunctionRef, tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<(readonly TestCase[])[] | Blocked> {
    const own = await writtenCases(fn, tags, signal);
    if (own && 'blocked' in own) return { testCase: TEST_CASES_TAG, blocked: own.blocked as string };
    if (kindOf(fn) === 'connection') return connectionPlan(own);
    const types = await eventTypePlan(fn, tags, signal);
    if (isBlocked(types)) return types;
    if (own === undefined) return types.mode === 'either' ? [types.types.map(smokeCase)] : types.types.map((t) => [smokeCase(t)]);
    let cases: TestCase[];
    try {
      // A case that does not say its type takes the function's, when that is one type.
      cases = withEventTypes(own.written, types.mode === 'all' && types.types.length === 1 ? types.types[0] : undefined);
    } catch (error) {
      if (error instanceof TestCasesError) return { testCase: TEST_CASES_TAG, blocked: `${own.source}: ${error.message}` };
      throw error;
    }
    // Each type the function runs on is tested by its own cases for that type, else by the smoke event.
    const uncovered = types.mode === 'all' ? types.types.filter((t) => !cases.some((c) => c.eventType === t)) : [];
    return [...cases.map((c) => [c]), ...uncovered.map((t) => [smokeCase(t)])];
  }

  /**
   * A connection function runs on one event type only, the connection request: no association
   * decides it, so ListDistributions is not read. Its own cases are all of that type (a case that
   * says otherwise blocks: it was written for another function); without any, the smoke connection.
   */
  function connectionPlan(own: { written: readonly WrittenCase[]; source: string } | undefined): (readonly TestCase[])[] | Blocked {
    if (own === undefined) return [[smokeCase(CONNECTION_EVENT_TYPE)]];
    const foreign = own.written.find((c) => c.eventType !== undefined && c.eventType !== CONNECTION_EVENT_TYPE);
    if (foreign) {
      return {
        testCase: TEST_CASES_TAG,
        blocked: `${own.source}: case "${foreign.name}" is a ${foreign.eventType} case; a connection function runs on ${CONNECTION_EVENT_TYPE} only`,
      };
    }
    return withEventTypes(own.written, CONNECTION_EVENT_TYPE).map((c) => [c]);
  }

  /**
   * One case. An answer without a ComputeUtilization is no measurement (tools that test CloudFront
   * Functions retry it, docs/cloudfront-api.md#testfunction): ask again, twice at most; still none
   * blocks, since nothing says the function is cheap enough.
   */
  async function runCase(fn: FunctionRef, etag: string, stage: Stage, event: unknown, signal?: AbortSignal) {
    for (let attempt = 1; ; attempt++) {
      const result = await cloudfront.testFunction(fn, etag, stage, event, signal);
      if (typeof result === 'string' || (result.computeUtilization ?? '').trim() !== '' || attempt >= UNMEASURED_RETRIES + 1) return result;
    }
  }

  return {
    async test(fn, etag, tags, signal) {
      const stage = overrides.stage ?? 'DEVELOPMENT';
      const groups = await plan(fn, tags, signal);
      if (isBlocked(groups)) return blocked(groups.testCase, groups.blocked);
      const judged: CaseVerdict[][] = [];
      for (const group of groups) {
        const verdicts: CaseVerdict[] = [];
        for (const testCase of group) {
          const result = await runCase(fn, etag, stage, testCase.event, signal);
          if (result === 'precondition-failed' || result === 'gone') return result;
          const verdict = judgeCase(testCase, result, settings.maxCompute, { reveal: overrides.reveal === true });
          verdicts.push(verdict);
          if (verdict.passed) break; // alternatives: the first pass settles the group
        }
        judged.push(verdicts);
      }
      return verdictOf(judged);
    },
  };
}
