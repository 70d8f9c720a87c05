/**
 * The publish gate, its shell: finds a function's test cases (its own from S3, or the smoke events
 * for its event type), runs each through TestFunction against exactly the DEVELOPMENT ETag about to
 * be published, and judges the results (lib/gate.ts). Built once per invocation: the account's
 * function associations are read at most once and shared by every function of a sweep.
 */
import type { CloudFrontGateway } from './cloudfront-gateway';
import type { Stage } from './decide';
import type { FunctionRef } from './function-ref';
import {
  type CaseVerdict,
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
  verdictOf,
  type WrittenCase,
} from './gate';
import type { S3Gateway } from './s3-gateway';

export interface PublishGate {
  /** 'precondition-failed': the stage moved on from `etag`; re-read before anything else is decided. */
  test(fn: FunctionRef, etag: string, tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<GateVerdict | 'precondition-failed' | 'gone'>;
}

export interface GateSettings {
  /** ComputeUtilization above this blocks (1–100). */
  readonly maxCompute: number;
  /** Buckets the user's test cases may come from; any other blocks. */
  readonly testCasesBuckets: readonly string[];
}

/** What `cf-autopublish test` may impose instead of what the tags say. */
export interface GateOverrides {
  readonly cases?: readonly WrittenCase[];
  readonly eventType?: EventType;
  readonly stage?: Stage;
}

const UNMEASURED_RETRIES = 2;

const blocked = (testCase: string, reason: string): GateVerdict => ({ passed: false, testCase, reason, computeUtilization: undefined, cases: [] });

export function createPublishGate(
  cloudfront: CloudFrontGateway,
  s3: S3Gateway | undefined,
  settings: GateSettings,
  overrides: GateOverrides = {},
): PublishGate {
  let associations: ReturnType<CloudFrontGateway['listFunctionAssociations']> | undefined;
  const associationsOf = async (arn: string, signal?: AbortSignal) => {
    associations ??= cloudfront.listFunctionAssociations(signal);
    try {
      return (await associations).get(arn);
    } catch (error) {
      associations = undefined; // a failed read is not cached: the next function tries again
      throw error;
    }
  };

  /** The event types the function runs on: the tag, else its associations, else unknown (both). */
  async function eventTypes(
    fn: FunctionRef,
    tags: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<readonly EventType[] | { blocked: string }> {
    if (overrides.eventType) return [overrides.eventType];
    const tagged = tags[EVENT_TYPE_TAG];
    if (tagged !== undefined) {
      return EVENT_TYPES.includes(tagged.trim() as EventType)
        ? [tagged.trim() as EventType]
        : { blocked: `tag ${EVENT_TYPE_TAG}="${tagged}" is not viewer-request or viewer-response` };
    }
    return [...((await associationsOf(fn.arn, signal)) ?? [])].sort();
  }

  async function userCases(
    fn: FunctionRef,
    tags: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<readonly TestCase[] | undefined | { blocked: string }> {
    let written: readonly WrittenCase[];
    let source = 'the given cases';
    if (overrides.cases) written = overrides.cases;
    else {
      const url = tags[TEST_CASES_TAG];
      if (url === undefined) return undefined;
      const location = parseS3Url(url);
      if (!location) return { blocked: `tag ${TEST_CASES_TAG}="${url.slice(0, 200)}" is not an s3://BUCKET/KEY URL` };
      if (!settings.testCasesBuckets.includes(location.bucket)) return { blocked: `bucket ${location.bucket} is not in TEST_CASES_BUCKETS` };
      if (!s3) return { blocked: 'no S3 client for test cases' };
      source = `s3://${location.bucket}/${location.key}`;
      const text = await s3.readText(location.bucket, location.key, signal);
      if (typeof text !== 'string') return { blocked: text.unreadable };
      try {
        written = parseTestCases(text);
      } catch (error) {
        if (error instanceof TestCasesError) return { blocked: `${source}: ${error.message}` };
        throw error;
      }
    }
    // The function's event type is looked up only for a case that does not say its own.
    const types = written.some((c) => c.eventType === undefined) ? await eventTypes(fn, tags, signal) : [];
    try {
      return withEventTypes(written, Array.isArray(types) && types.length === 1 ? types[0] : undefined);
    } catch (error) {
      if (error instanceof TestCasesError) return { blocked: `${source}: ${error.message}` };
      throw error;
    }
  }

  /**
   * One case. An answer without a ComputeUtilization is no measurement (tools that test CloudFront
   * Functions retry it, docs/cloudfront-api.md#testfunction): ask again, twice at most; still none
   * blocks, since nothing says the function is cheap enough.
   */
  async function runCase(name: string, etag: string, stage: Stage, event: unknown, signal?: AbortSignal) {
    for (let attempt = 1; ; attempt++) {
      const result = await cloudfront.testFunction(name, etag, stage, event, signal);
      if (typeof result === 'string' || (result.computeUtilization ?? '').trim() !== '' || attempt >= UNMEASURED_RETRIES + 1) return result;
    }
  }

  return {
    async test(fn, etag, tags, signal) {
      const stage = overrides.stage ?? 'DEVELOPMENT';
      const own = await userCases(fn, tags, signal);
      if (own !== undefined && !Array.isArray(own)) return blocked(TEST_CASES_TAG, (own as { blocked: string }).blocked);
      let groups: (readonly TestCase[])[];
      if (own !== undefined) {
        groups = (own as readonly TestCase[]).map((c) => [c]);
      } else {
        const types = await eventTypes(fn, tags, signal);
        if (!Array.isArray(types)) return blocked(EVENT_TYPE_TAG, (types as { blocked: string }).blocked);
        // Used by no distribution: either event type may be the one it will get; one passing is enough.
        groups = types.length === 0 ? [EVENT_TYPES.map(smokeCase)] : types.map((t) => [smokeCase(t)]);
      }
      const judged: CaseVerdict[][] = [];
      for (const group of groups) {
        const verdicts: CaseVerdict[] = [];
        for (const testCase of group) {
          const result = await runCase(fn.name, etag, stage, testCase.event, signal);
          if (result === 'precondition-failed' || result === 'gone') return result;
          const verdict = judgeCase(testCase, result, settings.maxCompute);
          verdicts.push(verdict);
          if (verdict.passed) break; // alternatives: the first pass settles the group
        }
        judged.push(verdicts);
      }
      return verdictOf(judged);
    },
  };
}
